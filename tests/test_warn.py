"""The warn tier: over its warn level and within its maximum, a count passes with a warning
in every output; a warn level above its maximum is a usage error."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gaterun import parse_output_file

from gate import github
from gate.cli import main
from gate.core import Outcome, evaluate
from gate.errors import UsageError
from gate.formats import render
from gate.policy import build_policy
from gate.report import Report
from gate.settings import OutputPaths

API_EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples/reports/api-example.json")
# api-example.json: critical 0, major 4, minor 108, new (UNRESOLVED_ADD) 122


@pytest.fixture
def runner(clean_runner):
    return clean_runner


def outputs(folder: Path) -> list[str]:
    return [f"--junit={folder}/j.xml", f"--json={folder}/r.json", f"--summary={folder}/s.md"]


def test_a_warn_level_passes_with_a_warning_in_every_output(runner, tmp_path, junit_xsd):
    args = ["--report-file", API_EXAMPLE, "--max-major", "10", "--max-new", "off"]
    args += ["--warn-major", "2", "--warn", "minor=50", *outputs(tmp_path)]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "verdict: PASSED with 2 warnings (3 checks within their maximum)" in result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:4]}
    assert rows["major"][1:] == ["4", "10", "2", "warn"]
    assert rows["minor"][1:] == ["108", "off", "50", "warn"]
    assert rows["critical"][-1] == "pass"
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["verdict"] == "passed" and data["exit_code"] == 0
    assert data["warnings"] == [
        {"metric": "major", "actual": 4, "warn": 2, "max": 10},
        {"metric": "minor", "actual": 108, "warn": 50, "max": None},
    ]
    assert [c["status"] for c in data["checks"]] == ["pass", "warn", "warn"]
    junit = (tmp_path / "j.xml").read_text()
    if junit_xsd is not None:
        junit_xsd.validate(junit)
    root = ET.fromstring(junit)
    assert root.get("failures") == "0" and root.get("errors") == "0"
    notes = [case.findtext("system-out") for case in root.iter("testcase")]
    assert notes[1] == "warning: major issues: 4, over the warn level 2 (maximum 10)"
    summary = (tmp_path / "s.md").read_text()
    assert summary.startswith("## ✅ CodeArts Check gate passed with 2 warnings")
    assert "| major (major issues) | 4 | 10 | 2 | ⚠️ warn |" in summary


def test_variables_and_the_config_file_set_warn_levels(runner, tmp_path):
    config = tmp_path / "codearts-gate.toml"
    config.write_text('warn-minor = 100\nmax-major = 10\nmax-new = "off"\n', encoding="utf-8")
    env = {"CODEARTS_CONFIG": str(config), "CODEARTS_WARN": "major=3"}
    result = runner.invoke(main, ["--report-file", API_EXAMPLE], env=env, catch_exceptions=False)
    assert "PASSED with 2 warnings" in result.output
    env["CODEARTS_WARN_MINOR"] = "200"  # a variable beats the file
    result = runner.invoke(main, ["--report-file", API_EXAMPLE], env=env, catch_exceptions=False)
    assert "PASSED with 1 warning (" in result.output
    flag = ["--report-file", API_EXAMPLE, "--warn-minor", "off"]
    result = runner.invoke(main, flag, env=env, catch_exceptions=False)
    assert "PASSED with 1 warning (" in result.output


def test_a_failed_gate_still_lists_its_warnings(runner, tmp_path):
    args = ["--report-file", API_EXAMPLE, "--warn-minor", "50", *outputs(tmp_path)]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1 and "verdict: FAILED" in result.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert [w["metric"] for w in data["warnings"]] == ["minor"]


def test_a_warn_level_above_its_maximum_is_a_usage_error_with_outputs(runner, tmp_path):
    args = ["--report-file", API_EXAMPLE, "--max-major", "3", "--warn-major", "4"]
    result = runner.invoke(main, [*args, *outputs(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "--warn-major 4 is above --max-major 3" in result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["error"]["kind"] == "usage"


@pytest.mark.parametrize("level", ["-1", "x", "1.5"])
def test_a_bad_warn_level_is_a_usage_error(runner, level):
    result = runner.invoke(main, ["--report-file", API_EXAMPLE, "--warn-minor", level])
    assert result.exit_code == 2 and "--warn-minor" in result.stderr


def test_an_unknown_metric_in_warn_is_a_usage_error(runner):
    result = runner.invoke(main, ["--report-file", API_EXAMPLE, "--warn", "blocker=1"])
    assert result.exit_code == 2 and "unknown metric 'blocker'" in result.stderr


def test_the_core_warns_only_within_the_maximum():
    policy = build_policy([("major", 10)], [("major", 5), ("minor", 0)])
    for major, statuses in [(5, ["pass", "warn"]), (6, ["warn", "warn"]), (11, ["fail", "warn"])]:
        verdict = evaluate(Report({"major": major, "minor": 1}), policy)
        assert [c.status for c in verdict.checks] == statuses
    assert evaluate(Report({"major": 6, "minor": 0}), policy).outcome is Outcome.PASSED
    build_policy([("major", 5)], [("major", 5)])  # equal: never warns, but allowed
    with pytest.raises(UsageError):
        build_policy([("major", 5)], [("major", 6)])


def test_github_gets_a_warning_annotation_per_warned_check(tmp_path):
    verdict = evaluate(
        Report({"major": 4, "minor": 1}), build_policy([("major", 9)], [("major", 1)])
    )
    out_file = tmp_path / "out"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out_file)}
    lines = github.annotation_lines(verdict)
    assert lines == [
        "::warning title=CodeArts Check gate%3A major over its warn level::"
        "major issues: 4, over the warn level 1 (maximum 9)"
    ]
    out = io.StringIO()
    github.publish(verdict, OutputPaths(), out, env)
    assert parse_output_file(out_file.read_text())["verdict"] == "passed"
    assert lines[0] in out.getvalue().splitlines()
    assert render("console", verdict).endswith(
        "verdict: PASSED with 1 warning (1 check within their maximum)\n"
    )
