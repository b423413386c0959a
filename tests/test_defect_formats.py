"""The per-defect outputs against their consumers: SARIF 2.1.0 and GitLab Code Quality by
their JSON schemas, JUnit by Jenkins' XSD; severity mappings, caps, fingerprints, paths,
and hostile service text in every format (SARIF, Code Quality, JUnit, Markdown, GitHub
annotations)."""

from __future__ import annotations

import io
import json
import random
import re
import xml.etree.ElementTree as ET

import pytest
from budget import examples
from fakeapi import make_defect
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_github import parse_command
from test_hardening import ENCODINGS, FILLER, SECRETS, apart, base64_hides
from validators import json_validator, shared_schema, unsafe_text

from gate import github
from gate.core import evaluate
from gate.defect_run import empty_text
from gate.defects import (
    SEVERITIES,
    Defect,
    DefectReader,
    DigestBuilder,
    FetchInfo,
    clip,
    default_severities,
    severity_of,
)
from gate.formats import DEFECT_FORMATS, defect_writer, render
from gate.formats import sarif as sarif_format
from gate.paths import MAX_MISSES, PathMapper, normalized
from gate.policy import Policy, Threshold
from gate.report import Report
from gate.structs import replace
from gate.text import MIN_FRAGMENT, escape_controls, one_line, secret_forms, use_secrets

POLICY = Policy((Threshold("critical", 0), Threshold("major", 0), Threshold("new", 0)))
HOSTILE = (
    "x</failure>]]><!-- & \x00\x1b[31m\u2028|`*_[a](javascript:alert(1))\r\n"
    '::error file=evil.py,line=1::pwned \ud800 %0A 100% a:b,c "quoted" \\ end'
)


def read_all(rows, secrets=()) -> list[Defect]:
    reader = DefectReader(normalized, secrets)
    return [reader.read(row) for row in rows]


def write(name: str, defects, info: FetchInfo | None = None, **kw) -> str:
    buffer = io.StringIO()
    writer = sarif_format.Writer(buffer, **kw) if kw else defect_writer(name, buffer)
    for defect in defects:
        writer.add(defect)
    writer.finish(info or FetchInfo(len(defects), len(defects)))
    return buffer.getvalue()


SAMPLE = read_all([make_defect(i) for i in range(40)])


@pytest.fixture(scope="module")
def sarif_schema():
    return json_validator("sarif-2.1.0.json")


@pytest.fixture(scope="module")
def codequality_schema():
    return json_validator("gitlab-codequality.schema.json")


@pytest.fixture(scope="module")
def junit_schema():
    import xmlschema

    return xmlschema.XMLSchema(str(shared_schema("junit-10.xsd")))


# ---------------------------------------------------------------- reading rows


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("0", "critical"),
        ("1", "major"),
        ("2", "minor"),
        ("3", "suggestion"),
        (2, "minor"),
        ("FATAL", "critical"),
        ("9", "minor"),
        (None, "minor"),
        ("x", "minor"),
    ],
)
def test_defect_level_names(level, severity):
    assert severity_of(level) == severity


def test_a_row_is_read_with_columns_fixes_tags_and_strings_for_numbers():
    [defect] = read_all([make_defect(5, level=1)])
    assert (defect.severity, defect.line, defect.start_column, defect.end_column) == (
        "major",
        36,
        5,
        10,
    )
    assert defect.fixes == ("Check n first.",) and defect.tags == ("security", "CWE-120")
    assert defect.is_security and defect.path == "demo-repo/src/module5/file5.cpp"


def test_offsets_of_minus_one_mean_the_whole_line():
    row = make_defect(
        1, fragment=[{"line_num": "8", "line_content": "x", "start_offset": -1, "end_offset": -1}]
    )
    [defect] = read_all([row])
    assert defect.line == 8 and defect.start_column is None and defect.end_column is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
numbers = (
    json_values
    | st.integers(-(2**70), 2**70)
    | st.integers(-(2**70), 2**70).map(str)
    | st.sampled_from(["0", "-1", "abc", "1e9", " 12 ", "\uff11\uff12", "2147483648", "1" * 12])
)


@pytest.mark.schema
@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    line=numbers,
    line_num=numbers,
    start=numbers,
    end=numbers,
    content=json_values,
    events=json_values,
)
def test_hostile_numbers_give_valid_positions_in_every_format(
    sarif_schema, codequality_schema, junit_schema, line, line_num, start, end, content, events
):
    fragment = {"line_num": line_num, "line_content": content}
    row = make_defect(3, line_number=line, events=events)
    row["fragment"] = [fragment | {"start_offset": start, "end_offset": end}, line_num]
    [defect] = read_all([row])
    assert 0 <= defect.line <= 2**31 - 1
    if defect.start_column is not None and isinstance(content, str) and content:
        assert 1 <= defect.start_column <= len(content) + 1
        assert defect.end_column is None or defect.start_column < defect.end_column
        assert defect.end_column is None or defect.end_column <= len(content) + 1
    log = json.loads(write("sarif", [defect]))
    sarif_schema.validate(log)
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"].get("region", {})
    assert all(1 <= value <= 2**31 - 1 for value in region.values())
    codequality_schema.validate(json.loads(write("codequality", [defect])))
    junit_schema.validate(write("junit-defects", [defect]))


def test_missing_and_null_fields_never_break_reading():
    [defect] = read_all([{"defect_id": None, "line_number": None, "fragment": None, "events": "x"}])
    assert defect.line == 0 and defect.path == "" and defect.rule_id == "unknown"
    for name in DEFECT_FORMATS:
        write(name, [defect])


def test_nested_fix_suggestions_are_collected_once():
    events = [{"fix_suggestions": ["a", "b"], "events": [{"fix_suggestions": ["b", "c"]}]}]
    [defect] = read_all([make_defect(1, events=events)])
    assert defect.fixes == ("a", "b", "c") and "Fix: c" in defect.text()


def test_a_flood_of_fix_suggestions_is_read_only_as_far_as_needed(monkeypatch):
    from gate import defects

    calls = []
    clip = defects.clip
    monkeypatch.setattr(defects, "clip", lambda v, *a: calls.append(v) or clip(v, *a))
    flood = [{"fix_suggestions": ["same"] * 1000, "events": [{"fix_suggestions": ["x"]}]}]
    events = flood * 100 + [{"fix_suggestions": [str(i) for i in range(100_000)]}]
    [defect] = read_all([make_defect(1, events=events)])
    assert defect.fixes == ("same",)  # the first 100 texts read: all "same"
    assert len(calls) < defects.MAX_FIX_TEXTS + 10  # + the row's other fields
    calls.clear()
    read_all([make_defect(1, events=[{"fix_suggestions": [str(i) for i in range(10**5)]}])])
    assert len(calls) < defects.MAX_FIXES + 10


def test_deeply_nested_events_end_at_a_bounded_depth():
    events: list = [{"fix_suggestions": ["deepest"]}]
    for level in range(5000):  # deeper than Python's recursion limit
        events = [
            {"fix_suggestions": [f"level {level}"] if level % 1000 == 0 else [], "events": events}
        ]
    [defect] = read_all([make_defect(1, events=events)])
    assert defect.fixes == ()  # level 0 (innermost fixes) is 4999 levels down: not followed


def test_fingerprints_are_stable_across_runs_and_unique_within_one():
    twins = [
        make_defect(1),
        make_defect(
            2,
            **{
                k: make_defect(1)[k]
                for k in (
                    "defect_checker_name",
                    "file_path",
                    "line_number",
                    "defect_content",
                    "fragment",
                )
            },
        ),
    ]
    first, second = read_all(twins), read_all(twins)
    assert [d.fingerprint for d in first] == [d.fingerprint for d in second]
    assert first[0].fingerprint != first[1].fingerprint
    moved = make_defect(
        1, line_number="99", fragment=[{**make_defect(1)["fragment"][0], "line_num": "99"}]
    )
    assert read_all([moved])[0].fingerprint == first[0].fingerprint  # same code, other line


def test_secrets_in_service_text_are_redacted_before_it_is_cut():
    secret = "tok-SECRET-0123456789"
    row = make_defect(
        1, defect_content="x" * 1990 + secret, rule_name=secret, file_path=f"a/{secret}.c"
    )
    [defect] = read_all([row], secrets=(secret,))
    everything = "".join(write(name, [defect]) for name in DEFECT_FORMATS)
    assert secret not in everything and "tok-SECRET" not in everything


secret_half = st.text(st.sampled_from("GHJKLMNPQRSTUVWXYZghjkmnpqrstuvwxyz+"), min_size=8)
PATH_JOINS = ["{a}/./{b}", "{a}//{b}", "{a}\\{b}", "{a}/x/../{b}", "/ws/{a}/{b}", "C:\\{a}\\{b}"]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=secret_half, b=secret_half, join=st.sampled_from(PATH_JOINS))
def test_a_secret_in_pieces_is_never_joined_again_nor_shown_in_halves(a, b, join):
    secret = f"{a}/{b}"  # an IAM token or SK may hold "/" and "+"
    row = make_defect(0, file_path=join.format(a=a, b=b), rule_system_tags=f"cwe,{a},{b},x")
    [defect] = read_all([row], secrets=(secret,))
    shown = [write(name, [defect]) for name in DEFECT_FORMATS]
    verdict = failing_verdict([defect])
    shown += [render("summary", verdict), *github.defect_annotation_lines(verdict)]
    for text in shown:
        assert not any(form in text for form in secret_forms(secret)), text
        assert a not in text and b not in text, text


def test_default_severities_follow_the_thresholds():
    assert default_severities(["critical", "major", "new"]) == ("critical", "major")
    assert default_severities(["new"]) == SEVERITIES
    assert default_severities(["minor"]) == ("minor",)


# ---------------------------------------------------------------- SARIF


@pytest.mark.schema
def test_sarif_is_valid_against_the_schema(sarif_schema):
    text = write("sarif", SAMPLE)
    sarif_schema.validate(json.loads(text))
    assert "\n" not in text.rstrip("\n")  # compact


@pytest.mark.schema
@pytest.mark.parametrize("reason", [None, "the defects could not be fetched: network"])
def test_empty_sarif_is_valid_and_says_why(sarif_schema, reason):
    log = json.loads(empty_text("sarif", reason))
    sarif_schema.validate(log)
    [run] = log["runs"]
    assert run["results"] == [] and run["properties"].get("defectsMissing") == reason


def test_sarif_levels_rules_locations_and_fingerprints():
    log = json.loads(write("sarif", SAMPLE))
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "CodeArts Check"
    assert len({r["id"] for r in rules}) == len(rules) == 37
    levels = {r["properties"]["severity"]: r["level"] for r in run["results"]}
    assert levels == {
        "critical": "error",
        "major": "error",
        "minor": "warning",
        "suggestion": "note",
    }
    first = run["results"][0]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"]
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 5, "endColumn": 10}
    assert first["partialFingerprints"]["codeartsCheck/v1"] == SAMPLE[0].fingerprint
    assert "Fix: Check n first." in first["message"]["text"]


def test_security_rules_carry_a_security_severity_from_their_worst_defect():
    rules = json.loads(write("sarif", SAMPLE))["runs"][0]["tool"]["driver"]["rules"]
    security = {r["id"]: r for r in rules if "security-severity" in r["properties"]}
    assert set(security) == {f"cxx_checker_{c}" for c in range(0, 37, 5)}
    assert security["cxx_checker_0"]["properties"]["security-severity"] == "9.5"
    assert all("security" in r["properties"]["tags"] for r in security.values())
    plain = [r for r in rules if r["id"] not in security]
    assert all("security-severity" not in r["properties"] for r in plain)


def test_sarif_cap_keeps_the_most_severe_and_counts_the_rest():
    defects = read_all([make_defect(i, level=3 - (i % 4)) for i in range(400)])
    log = json.loads(write("sarif", defects, cap=150))
    run = log["runs"][0]
    kept = [r["properties"]["severity"] for r in run["results"]]
    assert kept == ["critical"] * 100 + ["major"] * 50
    assert run["properties"]["resultsOmitted"] == 250 and run["properties"]["resultsWritten"] == 150


def test_sarif_stops_before_the_gzipped_size_limit():
    noise = [random.Random(i).randbytes(600).hex() for i in range(300)]  # hardly compressible
    defects = read_all([make_defect(i, defect_content=noise[i]) for i in range(300)])
    buffer = io.StringIO()
    writer = sarif_format.Writer(buffer, gzip_budget=20_000)
    for defect in defects:
        writer.add(defect)
    writer.finish(FetchInfo(300, 300))
    run = json.loads(buffer.getvalue())["runs"][0]
    assert 0 < len(run["results"]) < 300 and writer.omitted == 300 - len(run["results"])


def test_sarif_uri_is_percent_encoded_and_relative():
    [defect] = read_all([make_defect(1, file_path="/src/a b#c.c")])
    [result] = json.loads(write("sarif", [defect]))["runs"][0]["results"]
    assert (
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/a%20b%23c.c"
    )


# ---------------------------------------------------------------- Code Quality


@pytest.mark.schema
def test_codequality_is_valid_against_the_schema(codequality_schema):
    issues = json.loads(write("codequality", SAMPLE))
    codequality_schema.validate(issues)
    assert len(issues) == len(SAMPLE)


@pytest.mark.schema
def test_empty_codequality_is_an_empty_array(codequality_schema):
    text = empty_text("codequality", "missing")
    assert text == "[]\n" and not text.startswith("\ufeff")
    codequality_schema.validate(json.loads(text))


def test_codequality_severities_fingerprints_and_lines():
    issues = json.loads(write("codequality", SAMPLE[:4]))
    assert [i["severity"] for i in issues] == ["critical", "major", "minor", "info"]
    assert [i["fingerprint"] for i in issues] == [d.fingerprint for d in SAMPLE[:4]]
    assert issues[1]["location"] == {
        "path": "demo-repo/src/module1/file1.cpp",
        "lines": {"begin": 8},
    }
    [no_line] = json.loads(write("codequality", read_all([make_defect(1, line_number="")])))
    assert no_line["location"]["lines"]["begin"] == 1


def test_the_hand_built_codequality_json_equals_the_reference_one():
    from gate.formats.codequality import issue_of

    defects = read_all(
        [make_defect(1, defect_content=HOSTILE, rule_name=HOSTILE, file_path=HOSTILE)]
    )
    assert json.loads(write("codequality", defects)) == [issue_of(d) for d in defects]


# ---------------------------------------------------------------- JUnit


@pytest.mark.schema
@pytest.mark.parametrize("reason", [None, "missing"])
def test_junit_defects_valid_against_the_xsd(junit_schema, reason):
    junit_schema.validate(write("junit-defects", SAMPLE))
    junit_schema.validate(empty_text("junit-defects", reason))


def test_junit_defects_one_case_per_defect_grouped_by_file():
    defects = read_all([make_defect(i, file_path=f"src/f{i % 3}.c") for i in range(10)])
    root = ET.fromstring(write("junit-defects", defects))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["src/f0.c", "src/f1.c", "src/f2.c"]
    assert [s.get("tests") for s in suites] == ["4", "3", "3"] and root.get("tests") == "10"
    assert all(c.get("classname") == s.get("name") for s in suites for c in s.iter("testcase"))
    assert all(c.find("failure").get("message") for c in root.iter("testcase"))


def test_junit_defects_error_case_when_missing():
    root = ET.fromstring(empty_text("junit-defects", "the defects could not be fetched"))
    [error] = root.iter("error")
    assert root.get("errors") == "1" and "could not be fetched" in error.get("message")


# ---------------------------------------------------------------- hostile text, every format


hostile_text = st.text(min_size=1, max_size=60)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text)
def test_hostile_text_round_trips_through_every_json_format(text):
    row = make_defect(
        1, defect_content=text, rule_name=text, defect_checker_name=text, file_path=text
    )
    [defect] = read_all([row])
    results = json.loads(write("sarif", [defect]))["runs"][0]["results"]
    issues = json.loads(write("codequality", [defect]))
    if not defect.path:  # no file to place it on: left out of both, and counted
        assert results == [] and issues == []
        return
    [result], [issue] = results, issues
    shown = escape_controls(defect.message or defect.rule or defect.rule_id, keep_line_feeds=True)
    assert result["message"]["text"].startswith(shown)
    assert result["ruleId"] == defect.rule_id
    assert issue["check_name"] == defect.rule_id and issue["location"]["path"] == defect.path


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text)
def test_hostile_text_stays_inside_junit_text(text):
    row = make_defect(1, defect_content=text, rule_name=text, file_path=text)
    root = ET.fromstring(write("junit-defects", read_all([row])))
    assert len(list(root.iter("testcase"))) == 1 and len(list(root.iter("failure"))) == 1


def digest_of(defects) -> object:
    builder = DigestBuilder(SEVERITIES)
    for defect in defects:
        builder.add(defect)
    return builder.digest(len(defects))


def failing_verdict(defects):
    verdict = evaluate(Report({"critical": 3, "major": 1, "UNRESOLVED_ADD": 4}), POLICY)
    return replace(verdict, defects=digest_of(defects))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text)
def test_hostile_text_cannot_break_the_summary_or_add_annotations(text):
    row = make_defect(
        0, defect_content=text, rule_name=text, defect_checker_name=text, file_path=text
    )
    verdict = failing_verdict(read_all([row]))
    assert unsafe_text(render("summary", verdict)) is None
    lines = github.defect_annotation_lines(verdict)
    name, props, message = parse_command(lines[0])
    assert name == "error" and set(props) <= {"file", "line", "col", "endColumn", "title"}
    assert message == github.visible(verdict.defects.top["critical"][0].text())
    for line in lines:
        assert "\n" not in line and unsafe_text(line.removeprefix("::")) is None


BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
bidi_text = st.text(st.sampled_from("a.c/\u202e\u2066\u2067\u2069\u200f\u061c\u05d0"), min_size=1)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=bidi_text)
def test_bidirectional_controls_never_reach_an_output(text):
    """Trojan Source: a control that reorders what follows is shown as ``\\u202e``."""
    row = make_defect(0, defect_content=text, rule_name=text, file_path=text, events=[])
    row["rule_system_tags"] = row["defect_checker_name"] = text
    [defect] = read_all([row])
    verdict = failing_verdict([defect])
    shown = [write(name, [defect]) for name in DEFECT_FORMATS]
    shown += [render("summary", verdict), *github.defect_annotation_lines(verdict)]
    shown.append(one_line(text))  # every log line and error message
    assert not any(BIDI.search(out) for out in shown)
    assert "\u05d0" not in text or "\u05d0" in shown[0]  # right-to-left text itself stays


def test_fixed_hostile_text_in_summary_and_annotation():
    verdict = failing_verdict(
        read_all([make_defect(0, defect_content=HOSTILE, rule_name=HOSTILE, file_path=HOSTILE)])
    )
    summary = render("summary", verdict)
    assert unsafe_text(summary) is None
    # neither an HTML comment nor a link survives: each opener is backslash-escaped
    assert not re.search(r"(?<!\\)<!--", summary) and "<!--" in HOSTILE
    assert not re.search(r"(?<!\\)\]\(javascript", summary)
    [line, *_] = github.defect_annotation_lines(verdict)
    name, props, _message = parse_command(line)
    assert name == "error" and set(props) == {"file", "line", "col", "endColumn", "title"}
    assert props["file"] == github.visible(normalized(HOSTILE.replace("\ud800", "\ufffd")))
    assert "\x1b" not in line and "\\x1b[31m" in line


# ---------------------------------------------------------------- summary and annotations


def test_summary_lists_the_most_severe_defects_under_each_failing_check_capped():
    defects = read_all([make_defect(i) for i in range(60)])
    summary = render("summary", failing_verdict(defects))
    sections = {part.split("**")[0]: part for part in summary.split("\n**")[1:]}
    critical = sections["critical"]
    assert critical.count("- **critical**") == 10 and "… and 5 more" in critical
    new = sections["new"]
    assert "- **critical**" in new and "… and 50 more" in new


def test_summary_says_when_defects_are_missing():
    from gate.defects import DefectDigest

    verdict = replace(
        failing_verdict([]), defects=DefectDigest(error="the defects could not be fetched: x")
    )
    summary = render("summary", verdict)
    assert "Defects missing" in summary and "could not be fetched" in summary


def test_a_fetch_ended_by_a_ceiling_is_incomplete_even_without_a_total():
    from gate.defects import DefectDigest

    capped = DefectDigest(
        fetched=500, capped=True, stopped="the ceiling of 500 defects was reached"
    )
    verdict = replace(failing_verdict([]), defects=capped)
    assert capped.incomplete and not DefectDigest(fetched=5).incomplete
    summary = render("summary", verdict)
    assert "Only the first 500 defects were fetched (the ceiling of 500 defects was reached)." in (
        summary
    )


def test_summary_says_how_many_were_left_out_of_sarif():
    verdict = failing_verdict(SAMPLE)
    verdict = replace(verdict, defects=replace(verdict.defects, sarif_omitted=1234))
    assert "1234 defects were left out of the SARIF file" in render("summary", verdict)


def test_annotations_stay_within_the_runner_limits_and_say_how_many_more():
    defects = read_all([make_defect(i) for i in range(100)])
    verdict = failing_verdict(defects)
    gate_lines = github.annotation_lines(verdict)
    lines = github.defect_annotation_lines(verdict)
    kinds = [parse_command(line)[0] for line in gate_lines + lines if line.startswith("::")]
    assert (
        kinds.count("error") == 10 and kinds.count("warning") == 10 and kinds.count("notice") == 10
    )
    assert len(gate_lines) == 3  # the gate's own errors come first: 7 left for defects
    assert lines[-1].startswith("CodeArts Check: 73 more defects not annotated")
    assert not lines[-1].startswith("::")


def test_no_annotations_when_defects_are_missing():
    from gate.defects import DefectDigest

    verdict = replace(failing_verdict([]), defects=DefectDigest(error="x"))
    assert github.defect_annotation_lines(verdict) == []


# ---------------------------------------------------------------- paths


def test_prefix_strip_and_normalisation():
    mapper = PathMapper(None, prefix="/build/ws/repo/")
    assert mapper("/build/ws/repo/src/a.c") == "src/a.c"
    assert mapper("\\build\\ws\\repo\\src\\b.c") == "src/b.c"
    assert mapper("./other/c.c") == "other/c.c"
    assert mapper("/build/ws/repository/x.c") == "build/ws/repository/x.c"


def test_auto_detection_against_the_checkout(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "a.c").write_text("x")
    (tmp_path / "src" / "b.c").write_text("x")
    mapper = PathMapper(tmp_path)
    assert mapper("my-repo/src/pkg/a.c") == "src/pkg/a.c"
    assert mapper("/data/build/1234/my-repo/src/b.c") == "src/b.c"
    assert mapper("src/b.c") == "src/b.c"
    assert mapper("my-repo/src/none.c") == "my-repo/src/none.c"
    assert mapper.prefixes[0] == "data/build/1234/my-repo"


def test_auto_detection_never_looks_outside_the_checkout(tmp_path):
    (tmp_path / "secret.txt").write_text("x")
    checkout = tmp_path / "repo"
    checkout.mkdir()
    mapper = PathMapper(checkout)
    assert mapper("a/../../secret.txt") == "secret.txt"  # inside the checkout: not found
    assert mapper("../secret.txt") == "secret.txt" and not mapper.prefixes


def test_a_symbolic_link_out_of_the_checkout_is_no_file_of_it(tmp_path):
    outside = tmp_path / "outside" / "src"
    outside.mkdir(parents=True)
    (outside / "a.c").write_text("x")
    checkout = tmp_path / "repo"
    checkout.mkdir()
    (checkout / "link").symlink_to(tmp_path / "outside")
    (checkout / "src").mkdir()
    (checkout / "src" / "b.c").write_text("x")
    (checkout / "inner").symlink_to(checkout / "src")
    mapper = PathMapper(checkout)
    assert mapper("ws/link/src/a.c") == "ws/link/src/a.c"  # a.c exists only outside
    assert mapper("ws/inner/b.c") == "inner/b.c"  # a link that stays inside is fine


def test_windows_absolute_paths_lose_their_drive():
    mapper = PathMapper(None, prefix="D:\\agent\\ws")
    assert mapper("D:\\agent\\ws\\src\\a.c") == "src/a.c"
    assert mapper("C:\\x\\..\\..\\..\\y.c") == "y.c"


path_piece = st.sampled_from(["..", ".", "/", "\\", "a", "C:", ":", "%2e", " ", "~"])
path_text = st.lists(path_piece, max_size=12).map("".join)


@settings(max_examples=examples(300), deadline=None)
@given(path=path_text, prefix=st.none() | path_text)
def test_no_mapped_path_leads_outside_the_repository(path, prefix):
    mapped = PathMapper(None, prefix)(path)
    parts = mapped.split("/")
    assert ".." not in parts and not mapped.startswith("/") and "\\" not in mapped
    assert not re.fullmatch("[A-Za-z]:", parts[0])
    verdict = failing_verdict([Defect("1", "critical", "c", "r", mapped, 3, "m", "f" * 32)])
    [line, *_] = github.defect_annotation_lines(verdict)
    assert ".." not in parse_command(line)[1].get("file", "").split("/")


def test_the_default_sarif_cap_is_githubs_25000():
    defects = read_all([make_defect(i, level=i % 2) for i in range(60)])
    writer = sarif_format.Writer(io.StringIO())
    for i in range(25_010):
        writer.add(defects[i % 60])
    writer.finish(FetchInfo(25_010, 25_010))
    run = json.loads(writer.handle.getvalue())["runs"][0]
    assert len(run["results"]) == 25_000 and run["properties"]["resultsOmitted"] == 10


def test_auto_detection_gives_up_without_a_checkout(tmp_path):
    mapper = PathMapper(tmp_path)
    for i in range(MAX_MISSES + 50):
        assert mapper(f"repo/src/f{i}.c") == f"repo/src/f{i}.c"
    assert mapper.misses == MAX_MISSES


def test_json_results_carry_the_defect_counts_only_when_asked_for():
    verdict = failing_verdict(SAMPLE)
    data = json.loads(render("json", verdict))
    assert data["defects"]["fetched"] == 40 and data["defects"]["error"] is None
    assert data["defects"]["by_severity"] == dict.fromkeys(SEVERITIES, 10)
    assert "defects" not in json.loads(render("json", replace(verdict, defects=None)))


# ---------------------------------------------------------------- secrets in every output

DEFECT_FIELDS = [
    "defect_content",
    "rule_name",
    "defect_checker_name",
    "file_path",
    "rule_system_tags",
    "defect_id",
    "fix",
]


ENCLOSED = {"basic-auth", "base64-offset-1", "base64-offset-2"}
"""Encodings of the secret inside other bytes: their first characters encode those."""


def every_output(defect: Defect) -> list[str]:
    verdict = failing_verdict([defect])
    shown = [write(name, [defect]) for name in DEFECT_FORMATS]
    return [*shown, render("summary", verdict), *github.defect_annotation_lines(verdict)]


def in_outputs_without_secrets(text: str) -> bool:
    """Whether ``text`` is already in the outputs of a defect that echoes nothing (a key such
    as ``defaultConfiguration``): a drawn "secret" like that could not be told from a leak."""
    use_secrets([])
    [plain] = read_all([make_defect(0)])
    return any(text in shown for shown in every_output(plain))


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=SECRETS,
    encoding=st.sampled_from(sorted(ENCODINGS)),
    where=st.sampled_from(DEFECT_FIELDS),
    before=FILLER,
    after=FILLER,
    pad=st.sampled_from([0, 190, 495, 990, 1990, 2500]),
    cut=st.booleans(),
)
def test_no_encoding_of_a_secret_reaches_any_defect_output(
    secret, encoding, where, before, after, pad, cut
):
    """Echoed whole or cut by the service at the end of a field, near our own cut or not."""
    encoded = ENCODINGS[encoding](secret)
    assume(not any(in_outputs_without_secrets(t) for t in (secret, encoded)))
    assume(apart(secret, before, after))
    use_secrets([secret])
    echoed = (
        " " * pad + before + (encoded[: max(MIN_FRAGMENT, len(encoded) // 2)] if cut else encoded)
    )
    echoed += "" if cut else after
    row = make_defect(0, events=[{"fix_suggestions": [echoed]}] if where == "fix" else [])
    if where != "fix":
        row[where] = echoed
    [defect] = read_all([row], secrets=(secret,))
    for shown in every_output(defect):
        assert encoded not in shown and secret not in shown
        if cut and encoding not in ENCLOSED:  # the head of base64("user:" + secret) is no secret
            assert encoded[: max(MIN_FRAGMENT, len(encoded) // 2)] not in shown
        assert base64_hides(secret, shown)


@settings(max_examples=examples(60), deadline=None)
@given(cut=st.integers(min_value=MIN_FRAGMENT, max_value=30), pad=st.integers(0, 40))
def test_the_gates_own_cut_never_leaves_a_piece_of_a_secret_at_its_edge(cut, pad):
    """A piece of a secret inside a long text is not a cut secret; once ``clip`` cuts the
    text right after it, it is, and it is masked."""
    secret = "sk-Q1w2E3r4T5y6U7i8O9p0AsDfGhJkL"
    value = "a" * pad + secret[:cut] + " " + "b" * 500
    clipped = clip(value, pad + cut + 1, [secret])
    assert secret[:MIN_FRAGMENT] not in clipped, clipped
