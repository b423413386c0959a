"""GitHub Actions integration: escaping, $GITHUB_OUTPUT, the step summary, annotations, masks.

Commands and output files are parsed back the way the runner parses them, so a value
that breaks out of its place (a newline, ``::``, a fake delimiter) shows up as a failure.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from gaterun import parse_output_file
from hypothesis import given
from hypothesis import strategies as st

from gate import github
from gate.core import Outcome, error_verdict, evaluate
from gate.errors import NetworkError
from gate.policy import Policy, Threshold
from gate.report import Report
from gate.run import execute
from gate.settings import OutputPaths, RawOptions
from gate.structs import replace
from gate.text import neutralize_commands

ACTIONS = {"GITHUB_ACTIONS": "true"}
POLICY = Policy((Threshold("critical", 0), Threshold("major", 0), Threshold("new", 5)))
FAILED = evaluate(
    Report({"critical": 2, "major": 0, "UNRESOLVED_ADD": 9, "REPORT_URL": "https://x.invalid/r"}),
    POLICY,
)
PASSED = evaluate(Report({"critical": 0, "major": 0, "UNRESOLVED_ADD": 1}), POLICY)
HOSTILE = "line1\r\nline2 %0A 100% a:b,c ::error::injected"
NO_VERDICT = error_verdict(NetworkError(f"connection refused {HOSTILE}"), "job-1")


# ---------------------------------------------------------------- the runner's side


def unescape_data(text: str) -> str:
    """The runner's unescaping of a command's message."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    """The runner's unescaping of a property value."""
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


COMMAND = re.compile(r"::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """One workflow command line as the runner reads it: name, properties, message."""
    match = COMMAND.fullmatch(line)
    assert match, f"not a workflow command: {line!r}"
    props = {}
    for pair in filter(None, (match["props"] or "").split(",")):
        key, _, value = pair.partition("=")
        props[key] = unescape_property(value)
    return match["name"], props, unescape_data(match["data"])


def printed(run) -> list[str]:
    out = io.StringIO()
    run(out)
    return out.getvalue().splitlines()


# ---------------------------------------------------------------- escaping


def test_escape_data_escapes_percent_first_then_cr_lf():
    assert github.escape_data("100%\r\n%0A") == "100%25%0D%0A%250A"


def test_escape_property_also_escapes_colon_and_comma():
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


@given(st.text())
def test_escaped_data_round_trips_and_stays_on_one_line(text):
    escaped = github.escape_data(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert unescape_data(escaped) == text


HOSTILE_TEXT = st.lists(st.sampled_from(["##[", "::", "%", "\n", ","]) | st.text(max_size=6)).map(
    "".join
)


@given(HOSTILE_TEXT, HOSTILE_TEXT)
def test_command_round_trips_hostile_title_and_message(title, message):
    line = github.command("error", message, title=title)
    assert "\n" not in line and "\r" not in line
    assert "##[" not in line  # the runner reads a legacy command anywhere in a line
    expected = ("error", {"title": neutralize_commands(title)}, neutralize_commands(message))
    assert parse_command(line) == expected


def test_add_mask_passes_a_secret_holding_a_legacy_command_unchanged():
    assert github.mask_lines(["ab##[cd%"]) == ["::add-mask::ab##[cd%25"]


# ---------------------------------------------------------------- $GITHUB_OUTPUT


NO_CR = st.text(alphabet=st.characters(blacklist_characters="\r"))


@given(st.dictionaries(st.from_regex(r"[a-z][a-z-]{0,10}", fullmatch=True), NO_CR))
def test_output_lines_parse_back_to_the_same_values(values):
    assert parse_output_file(github.output_lines(values)) == values


def test_output_lines_survive_values_that_imitate_the_format():
    values = {"verdict": "x\nEOF\nverdict<<EOF\nevil\nEOF", "report-url": "ghadelimiter_\n"}
    assert parse_output_file(github.output_lines(values)) == values


def test_every_value_gets_its_own_random_delimiter():
    text = github.output_lines({"a": "1", "b": "2"}) + github.output_lines({"a": "1"})
    delimiters = re.findall(r"^[ab]<<(.+)$", text, flags=re.MULTILINE)
    assert len(delimiters) == 3 and len(set(delimiters)) == 3


def test_new_delimiter_never_returns_one_found_in_the_value(monkeypatch):
    tokens = iter([b"\xaa", b"\xbb"])
    monkeypatch.setattr(github.os, "urandom", lambda _n: next(tokens))
    assert github.new_delimiter("value with ghadelimiter_aa inside") == "ghadelimiter_bb"


def test_output_block_refuses_a_delimiter_inside_the_value():
    with pytest.raises(ValueError, match="delimiter"):
        github.output_block("verdict", "a\nEOF\nb", "EOF")


def test_output_values_of_a_failed_verdict():
    values = github.output_values(FAILED, OutputPaths(junit="reports/gate.xml"))
    assert values == {
        "verdict": "failed",
        "exit-code": "1",
        "critical": "2",
        "major": "0",
        "new": "9",
        "report-url": "https://x.invalid/r",
        "junit-path": "reports/gate.xml",
        "job-id": "",
        "tasks": "[]",  # one task: the list is for several
    }


def test_output_values_leave_unknown_counts_and_paths_empty_and_take_the_real_exit_code():
    values = github.output_values(NO_VERDICT, OutputPaths(), exit_code=2)
    assert values["verdict"] == "error"
    assert values["exit-code"] == "2"
    assert values["critical"] == values["major"] == values["new"] == ""
    assert values["report-url"] == values["junit-path"] == ""


# ---------------------------------------------------------------- step summary


def test_fit_summary_keeps_a_summary_that_fits():
    assert github.fit_summary("## ok\n", 6) == "## ok\n"


def test_fit_summary_cuts_at_a_line_and_adds_the_note():
    text = "".join(f"| row {i} | é |\n" for i in range(1000))
    fitted = github.fit_summary(text, 2000)
    assert len(fitted.encode("utf-8")) <= 2000
    assert fitted.endswith(github.TRUNCATED_NOTE)
    kept = fitted[: -len(github.TRUNCATED_NOTE)]
    assert text.startswith(kept + "\n") and kept.endswith("|")


def test_fit_summary_with_no_room_writes_nothing():
    assert github.fit_summary("x" * 100, 10) == ""


def test_publish_truncates_a_huge_summary_under_one_mib_including_earlier_content(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step content\n" * 1000, encoding="utf-8")
    huge = replace(FAILED, tools=tuple(f"tool-{i}-" + "x" * 400 for i in range(4000)))
    env = {**ACTIONS, "GITHUB_STEP_SUMMARY": str(summary)}
    github.publish(huge, OutputPaths(), io.StringIO(), env)
    data = summary.read_bytes()
    assert len(data) <= github.SUMMARY_LIMIT
    assert data.startswith(b"earlier step content\n" * 1000)
    assert data.decode("utf-8").endswith(github.TRUNCATED_NOTE)
    assert "CodeArts Check gate failed" in data.decode("utf-8")


# ---------------------------------------------------------------- annotations


def test_one_error_annotation_per_failed_check():
    lines = github.annotation_lines(FAILED)
    parsed = [parse_command(line) for line in lines]
    assert [(name, props["title"]) for name, props, _ in parsed] == [
        ("error", "CodeArts Check gate: critical over its maximum"),
        ("error", "CodeArts Check gate: new over its maximum"),
    ]
    assert parsed[0][2] == "critical issues: 2, allowed at most 0"


def test_a_passed_verdict_has_no_annotation():
    assert github.annotation_lines(PASSED) == []


def test_no_verdict_is_an_error_annotation_with_the_hostile_message_contained():
    (line,) = github.annotation_lines(NO_VERDICT)
    name, props, message = parse_command(line)
    assert name == "error" and props == {"title": "CodeArts Check gate: no verdict"}
    assert message.startswith("network: connection refused line1")
    assert "::error::injected" in message and line.count("\n") == 0


def test_no_verdict_with_on_error_warn_is_a_warning():
    warned = replace(NO_VERDICT, warn_on_error=True)
    assert warned.warned
    assert [parse_command(line)[0] for line in github.annotation_lines(warned)] == ["warning"]


def test_an_unreadable_count_is_reported_once_as_no_verdict():
    verdict = evaluate(Report({"major": 0, "UNRESOLVED_ADD": 0}), POLICY)
    assert verdict.outcome is Outcome.ERROR
    (line,) = github.annotation_lines(verdict)
    assert parse_command(line)[2].startswith("report: ")


# ---------------------------------------------------------------- begin, group, publish


def test_begin_masks_each_non_empty_secret_and_each_line_of_a_multiline_one():
    lines = printed(lambda out: github.begin(["tok%en", "", "a\nb"], out, ACTIONS))
    assert [parse_command(line) for line in lines] == [
        ("add-mask", {}, "tok%en"),
        ("add-mask", {}, "a\nb"),
        ("add-mask", {}, "a"),
        ("add-mask", {}, "b"),
    ]


def test_group_wraps_its_body_even_when_it_raises():
    out = io.StringIO()
    with pytest.raises(RuntimeError), github.group("refresh: a,b", out, ACTIONS):
        print("inside", file=out)
        raise RuntimeError
    assert out.getvalue().splitlines() == ["::group::refresh: a,b", "inside", "::endgroup::"]


def publish_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    output.touch()
    summary.touch()
    return {**ACTIONS, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), **extra}


def test_publish_writes_outputs_summary_and_annotations(tmp_path):
    env = publish_env(tmp_path)
    lines = printed(lambda out: github.publish(FAILED, OutputPaths(junit="j.xml"), out, env))
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))
    assert outputs["verdict"] == "failed" and outputs["junit-path"] == "j.xml"
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("## ❌ CodeArts Check gate failed")
    assert [parse_command(line)[0] for line in lines] == ["error", "error"]


def test_publish_turns_an_unwritable_output_file_into_a_warning(tmp_path):
    env = publish_env(tmp_path, GITHUB_OUTPUT=str(tmp_path / "missing" / "output"))
    lines = printed(lambda out: github.publish(PASSED, OutputPaths(), out, env))
    (name, _props, message) = parse_command(lines[0])
    assert name == "warning" and message.startswith("cannot write $GITHUB_OUTPUT")


@pytest.mark.parametrize("value", [None, "false", "1", "True"])
def test_nothing_happens_outside_github_actions(tmp_path, value):
    env = publish_env(tmp_path)
    env.pop("GITHUB_ACTIONS")
    if value is not None:
        env["GITHUB_ACTIONS"] = value
    out = io.StringIO()
    github.begin(["secret"], out, env)
    with github.group("title", out, env):
        pass
    github.publish(FAILED, OutputPaths(junit="j.xml"), out, env)
    assert out.getvalue() == ""
    assert Path(env["GITHUB_OUTPUT"]).read_text() == ""
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == ""


# ---------------------------------------------------------------- wired into the run


def test_execute_masks_first_and_publishes_last(tmp_path, monkeypatch):
    for name, value in publish_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    report = tmp_path / "report.json"
    report.write_text('{"critical": 3, "major": 0, "UNRESOLVED_ADD": 0}', encoding="utf-8")
    raw = RawOptions(token="s3cret-token", report_file=str(report), junit="out/j.xml")
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.chdir(tmp_path)
    assert execute(raw, out, err) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "::add-mask::s3cret-token"
    assert parse_command(lines[-1])[1]["title"] == "CodeArts Check gate: critical over its maximum"
    outputs = parse_output_file((tmp_path / "output").read_text(encoding="utf-8"))
    assert (outputs["verdict"], outputs["exit-code"], outputs["critical"]) == ("failed", "1", "3")
    assert (tmp_path / "out" / "j.xml").is_file()


def test_execute_reports_a_usage_error_to_github_too(tmp_path, monkeypatch):
    for name, value in publish_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    raw = RawOptions(token="s3cret-token", timeout="soon")
    out = io.StringIO()
    assert execute(raw, out, io.StringIO()) == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == "::add-mask::s3cret-token"
    name, _props, message = parse_command(lines[-1])
    assert name == "error" and message.startswith("usage: no job id")
    outputs = parse_output_file((tmp_path / "output").read_text(encoding="utf-8"))
    assert outputs["exit-code"] == "2" and outputs["verdict"] == "error"


HOSTILE_REPORTS = [
    {
        "critical": 1,
        "major": 0,
        "UNRESOLVED_ADD": 0,
        "REPORT_URL": "::set-env name=NODE_OPTIONS::--require=/tmp/x\n::add-mask::x",
        "TOOL_LIST": ["a\n::stop-commands::t", "\r::error::forged"],
    },
    {"status": "failed", "error_code": "CC.00050006", "error_msg": "x\n::set-output name=v::1"},
]


@pytest.mark.parametrize("report", HOSTILE_REPORTS, ids=["report", "error"])
def test_service_text_never_starts_a_workflow_command(tmp_path, report):
    import json as jsonlib

    from click.testing import CliRunner

    from gate.cli import main

    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    result = CliRunner().invoke(
        main, ["--report-file", "-", "-vv"], input=jsonlib.dumps(report), env=env
    )
    assert result.exit_code in (1, 4)
    ours = ("::add-mask::", "::error", "::warning", "::group::", "::endgroup::")
    for line in (result.stdout + result.stderr).splitlines():
        if line.startswith("::"):
            assert line.startswith(ours), line
            assert "\n" not in line and "::set-" not in line.split("::", 2)[1]
    assert not any(
        line.lstrip("\r").startswith(("::set-", "::stop-commands", "::add-mask::x"))
        for line in (result.stdout + result.stderr).splitlines()
    )
