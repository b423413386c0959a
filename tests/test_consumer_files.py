"""The per-defect files against what their consumers accept, reject or merge.

- GitHub code scanning rejects a whole SARIF upload when one result has no location; the
  SARIF Multitool's GitHub rule set (``sarif-multitool validate --rule-kind Gh``) checks
  that and the rest of GitHub's rules on real files of the gate.
- Jenkins' Warnings Next Generation reads SARIF integers as Java ``int`` and merges results
  equal on file, line, message, rule and level (both ported here as checks).
- GitLab cannot place a Code Quality entry without a path; JUnit consumers merge or drop
  test cases of one suite that share a name.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from budget import examples
from fakeapi import make_defect
from hypothesis import given, settings
from hypothesis import strategies as st
from test_defect_formats import SAMPLE, digest_of, failing_verdict, read_all, write
from test_defects_e2e import TASK, gate_with_defects
from test_github import parse_command

from gate import github
from gate.defect_run import empty_text
from gate.formats import render
from gate.formats.sarif import correlation_guid

JAVA_INT_MAX = 2**31 - 1
HUGE = [str(JAVA_INT_MAX - 1), str(JAVA_INT_MAX), str(JAVA_INT_MAX + 1), "99999999999"]


def integers(value: object) -> Iterator[int]:
    """Every integer in a decoded JSON document."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from integers(item)
    elif isinstance(value, list):
        for item in value:
            yield from integers(item)


def hostile_rows() -> list[dict[str, object]]:
    """Rows a consumer chokes on: no file, huge positions, repeats, control characters."""
    no_file = [make_defect(900 + i, file_path=path) for i, path in enumerate(["", "/", "./"])]
    huge = [
        make_defect(
            910 + i,
            line_number=value,
            fragment=[
                {"line_num": value, "line_content": "", "start_offset": value, "end_offset": value}
            ],
        )
        for i, value in enumerate(HUGE)
    ]
    huge.append(
        make_defect(
            920,
            fragment=[{"line_num": "1", "line_content": "", "start_offset": JAVA_INT_MAX - 1}],
            line_number="1",
        )
    )
    same = make_defect(930, defect_content="same", file_path="src/a.c", line_number="7")
    repeated = [{**same, "defect_id": f"repeat-{i}"} for i in range(3)]  # the service repeats
    control = [make_defect(940, defect_content="bell \x07 escape \x1b[31m red\r\nnext")]
    return no_file + huge + repeated + control


HOSTILE_DEFECTS = read_all(hostile_rows())


# ---------------------------------------------------------------- GitHub: every result placed


def test_a_defect_without_a_file_is_left_out_of_sarif_and_counted():
    defects = read_all([make_defect(1, file_path=""), make_defect(2)])
    run = json.loads(write("sarif", defects))["runs"][0]
    assert len(run["results"]) == 1
    assert all(result["locations"] for result in run["results"])
    props = run["properties"]
    assert props["resultsWithoutLocation"] == 1 and props["resultsOmitted"] == 1


def test_every_sarif_result_of_hostile_rows_has_a_location():
    run = json.loads(write("sarif", HOSTILE_DEFECTS))["runs"][0]
    unplaced = sum(1 for d in HOSTILE_DEFECTS if not d.path)
    assert unplaced == 3
    assert len(run["results"]) == len(HOSTILE_DEFECTS) - unplaced
    for result in run["results"]:
        [location] = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"]


# ---------------------------------------------------------------- Jenkins: Java ints, merging


def test_every_integer_in_the_sarif_of_huge_positions_fits_a_java_int():
    log = json.loads(write("sarif", HOSTILE_DEFECTS))
    assert max(integers(log)) <= JAVA_INT_MAX
    regions = [
        r["locations"][0]["physicalLocation"].get("region", {}) for r in log["runs"][0]["results"]
    ]
    assert any(region.get("startLine") == JAVA_INT_MAX for region in regions)


@settings(max_examples=examples(40), deadline=None)
@given(
    line=st.integers(0, 2**40),
    start=st.integers(-2, 2**40),
    end=st.integers(-2, 2**40),
    content=st.text(max_size=5),
)
def test_no_position_the_service_sends_overflows_a_java_int(line, start, end, content):
    fragment = {
        "line_num": str(line),
        "line_content": content,
        "start_offset": start,
        "end_offset": str(end),
    }
    row = make_defect(1, line_number=str(line), fragment=[fragment])
    log = json.loads(write("sarif", read_all([row])))
    assert max(integers(log)) <= JAVA_INT_MAX
    for result in log["runs"][0]["results"]:
        region = result["locations"][0]["physicalLocation"].get("region", {})
        if "endColumn" in region:
            assert region["endColumn"] > region["startColumn"] >= 1


def warnings_ng_key(result: dict) -> tuple[object, ...]:
    """What Warnings NG compares to merge two issues: file, line, message, rule, level."""
    location = result["locations"][0]["physicalLocation"]
    return (
        location["artifactLocation"]["uri"],
        location.get("region", {}).get("startLine"),
        result["message"]["text"],
        result["ruleId"],
        result["level"],
    )


def test_repeated_defects_stay_distinct_for_warnings_ng():
    results = json.loads(write("sarif", HOSTILE_DEFECTS))["runs"][0]["results"]
    groups = defaultdict(list)
    for result in results:
        groups[warnings_ng_key(result)].append(result["correlationGuid"])
    repeated = [guids for guids in groups.values() if len(guids) > 1]
    assert repeated, "the hostile rows repeat one defect"
    assert all(len(set(guids)) == len(guids) for guids in repeated)


def test_correlation_guids_are_stable_across_runs_and_unique_within_one():
    first = [correlation_guid(d) for d in read_all(hostile_rows())]
    again = [correlation_guid(d) for d in read_all(hostile_rows())]
    assert first == again and len(set(first)) == len(first)
    results = json.loads(write("sarif", SAMPLE))["runs"][0]["results"]
    assert len({r["correlationGuid"] for r in results}) == len(results)


# ---------------------------------------------------------------- GitLab and JUnit


def test_codequality_leaves_out_defects_without_a_path_and_the_outputs_say_how_many(
    tmp_path,
):
    from gate.formats.codequality import Writer

    handle = tmp_path.joinpath("cq.json").open("w", encoding="utf-8")
    writer = Writer(handle)
    for defect in HOSTILE_DEFECTS:
        writer.add(defect)
    handle.write("]\n")
    handle.close()
    issues = json.loads(tmp_path.joinpath("cq.json").read_text(encoding="utf-8"))
    assert writer.omitted == 3 and len(issues) == len(HOSTILE_DEFECTS) - 3
    assert all(issue["location"]["path"] for issue in issues)


def test_a_real_run_says_what_it_left_out(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = [make_defect(1, file_path=""), *[make_defect(i) for i in range(2, 6)]]
    run = gate_with_defects(api, tmp_path, "--task-id", TASK, "--defect-severity", "all")
    assert run.code == 1, run.stderr
    defects = run.json["defects"]
    assert defects["codequality_omitted"] == 1 and defects["sarif_omitted"] == 1
    assert "left out of the Code Quality report" in run.summary
    sarif = json.loads((tmp_path / "d.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["properties"]["resultsWithoutLocation"] == 1


def test_junit_case_names_are_unique_even_for_repeated_defects():
    root = ET.fromstring(write("junit-defects", [*HOSTILE_DEFECTS, *SAMPLE]))
    for suite in root.iter("testsuite"):
        names = Counter(case.get("name") for case in suite.iter("testcase"))
        assert all(count == 1 for count in names.values()), names.most_common(2)


def test_no_bare_line_number_for_a_defect_without_a_file():
    [defect] = read_all([make_defect(1, file_path="")])
    assert defect.path == "" and defect.line > 0 and defect.where() == "(no file)"
    summary = render("summary", failing_verdict([defect]))
    assert "(no file)" in summary and f" :{defect.line}" not in summary
    failure = ET.fromstring(write("junit-defects", [defect])).find(".//failure")
    assert failure is not None and failure.text.startswith("(no file)\n")


# ---------------------------------------------------------------- polish


def test_sarif_rules_driver_and_base_ids_carry_what_github_shows():
    run = json.loads(write("sarif", SAMPLE))["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["version"] and run["conversion"]["tool"]["driver"]["name"] == "codearts-gate"
    for rule in driver["rules"]:
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]
        for r in run["results"]
    }
    assert uris == {"%SRCROOT%"}


def test_sarif_message_text_shows_control_characters_escaped():
    [defect] = read_all([make_defect(1, defect_content="a\x1b[31mb\x07c\r\nd")])
    [result] = json.loads(write("sarif", [defect]))["runs"][0]["results"]
    text = result["message"]["text"]
    assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text and "\n" in text


def test_annotation_title_names_the_rule_and_file_is_the_path_exactly():
    row = make_defect(1, file_path="src/a,b:c%d.c", level=0)
    [defect] = read_all([row])
    verdict = failing_verdict([defect])
    [line] = [x for x in github.defect_annotation_lines(verdict) if x.startswith("::")]
    kind, props, _message = parse_command(line)
    assert kind == "error" and props["file"] == "src/a,b:c%d.c"
    assert props["title"] == f"CodeArts Check critical: {defect.rule}"
    assert defect.rule != defect.checker


# ---------------------------------------------------------------- the SARIF Multitool


def multitool_errors(tool: str, files: list[Path], tmp_path: Path) -> list[str]:
    """The GitHub rule set's complaints (error level) about ``files``, in one run of the
    Multitool (it starts slowly: one call for all the files)."""
    out = tmp_path / "multitool-validation.sarif"
    out.unlink(missing_ok=True)
    subprocess.run(
        [tool, "validate", "--rule-kind", "Gh", "--output", str(out), *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.is_file(), "the Multitool wrote no log"
    results = json.loads(out.read_text(encoding="utf-8-sig"))["runs"][0].get("results", [])
    return [  # the message is a text, or an id with arguments ("Error_MissingLocationsArray")
        f"{r['ruleId']}: {r['message'].get('text') or r['message'].get('id')} "
        f"{r['message'].get('arguments', '')}"
        for r in results
        if r.get("level", "warning") == "error"
    ]


@pytest.mark.schema
def test_example_sarif_files_pass_the_multitools_github_rules(require_tool, tmp_path):
    tool = require_tool("sarif-multitool")
    examples = {
        "sample": write("sarif", SAMPLE),
        "hostile": write("sarif", HOSTILE_DEFECTS),
        "empty": empty_text("sarif", "the defects could not be fetched: network"),
    }
    files = []
    for name, text in examples.items():
        files.append(tmp_path / f"{name}.sarif")
        files[-1].write_text(text, encoding="utf-8")
    assert multitool_errors(tool, files, tmp_path) == []


def test_the_multitool_check_would_see_a_result_without_a_location(require_tool, tmp_path):
    """The check itself can fail: a log with a bare result is an error for GitHub's rules."""
    tool = require_tool("sarif-multitool")
    log = json.loads(write("sarif", SAMPLE[:1]))
    del log["runs"][0]["results"][0]["locations"]
    bare = tmp_path / "bare.sarif"
    bare.write_text(json.dumps(log), encoding="utf-8")
    assert any("MissingLocations" in error for error in multitool_errors(tool, [bare], tmp_path))


@pytest.mark.schema
def test_the_sarif_of_a_real_run_passes_the_multitools_github_rules(
    require_tool, fake_api_factory, tmp_path
):
    tool = require_tool("sarif-multitool")
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = [*hostile_rows(), *[make_defect(i) for i in range(40)]]
    run = gate_with_defects(api, tmp_path, "--task-id", TASK, "--defect-severity", "all")
    assert run.code == 1, run.stderr
    assert multitool_errors(tool, [tmp_path / "d.sarif"], tmp_path) == []


def test_digest_of_hostile_defects_renders(tmp_path):
    assert "### Defects" in render("summary", failing_verdict(HOSTILE_DEFECTS))
    assert digest_of(HOSTILE_DEFECTS).fetched == len(HOSTILE_DEFECTS)
