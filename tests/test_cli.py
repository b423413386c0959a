"""The command line through click's runner: flags, variables, precedence, outputs, codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from gate import __version__
from gate.cli import main
from gate.errors import EXIT_CODE_MEANINGS, ExitCode

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "reports"
API_EXAMPLE = str(EXAMPLES / "api-example.json")
CLEAN = str(EXAMPLES / "clean.json")


@pytest.fixture
def runner(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith(("CODEARTS_", "GITHUB_", "HUAWEI_CLOUD_")):
            monkeypatch.delenv(name)
    return CliRunner()


def invoke(runner, args, env=None, input=None):
    return runner.invoke(main, args, env=env, input=input, catch_exceptions=False)


def test_help_lists_variables_exit_codes_and_metrics(runner):
    result = invoke(runner, ["--help"])
    assert result.exit_code == 0
    for variable in ("CODEARTS_JOB_ID", "CODEARTS_TOKEN", "CODEARTS_MAX", "CODEARTS_ON_ERROR"):
        assert variable in result.output
    assert "Exit codes" in result.output and "3    the service refused" in result.output
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"  {int(code):<3}  {meaning}" in result.output
    for metric in ("critical", "major", "minor", "suggestion", "new", "unresolved"):
        assert f"  {metric} " in result.output


def test_version(runner):
    result = invoke(runner, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_api_example_fails_the_default_gate(runner):
    result = invoke(runner, ["--report-file", API_EXAMPLE])
    assert result.exit_code == 1
    assert "verdict: FAILED" in result.output
    assert "report: https://devcloud" in result.output


def test_variables_are_read(runner):
    env = {
        "CODEARTS_REPORT_FILE": API_EXAMPLE,
        "CODEARTS_MAX_MAJOR": "4",
        "CODEARTS_MAX_NEW": "off",
    }
    result = invoke(runner, [], env=env)
    assert result.exit_code == 0, result.output


def test_flag_beats_variable(runner):
    env = {
        "CODEARTS_REPORT_FILE": API_EXAMPLE,
        "CODEARTS_MAX_MAJOR": "4",
        "CODEARTS_MAX_NEW": "off",
    }
    result = invoke(runner, ["--max-major", "3"], env=env)
    assert result.exit_code == 1


def test_max_variable_is_comma_separated(runner):
    env = {"CODEARTS_MAX": "major=4, new=122,minor=107"}
    result = invoke(runner, ["--report-file", API_EXAMPLE], env=env)
    assert result.exit_code == 1
    assert "minor" in result.output and "FAIL" in result.output
    env = {"CODEARTS_MAX": "major=4,new=122,minor=108,"}
    assert invoke(runner, ["--report-file", API_EXAMPLE], env=env).exit_code == 0


def test_repeated_max_flags(runner):
    args = ["--report-file", API_EXAMPLE, "--max", "major=4", "--max", "new=off"]
    assert invoke(runner, args).exit_code == 0


def test_unknown_metric_is_exit_2_listing_names(runner, tmp_path):
    junit = tmp_path / "junit.xml"
    result = invoke(
        runner, ["--report-file", API_EXAMPLE, "--max", "blocker=1", "--junit", str(junit)]
    )
    assert result.exit_code == 2
    assert "unknown metric 'blocker'; valid names: critical, major" in result.stderr
    root = ET.parse(junit).getroot()
    assert root.find("testcase/error").get("type") == "usage"


def test_missing_job_id_is_exit_2_and_nothing_sent(runner, tmp_path):
    out = tmp_path / "r.json"
    result = invoke(runner, ["--json", str(out)], env={"CODEARTS_TOKEN": "t"})
    assert result.exit_code == 2
    assert "no job id" in result.stderr
    assert json.loads(out.read_text())["error"]["kind"] == "usage"


def test_missing_credentials_is_exit_2(runner):
    result = invoke(runner, ["--job-id", "abc"])
    assert result.exit_code == 2 and "no credentials" in result.stderr


def test_unreadable_report_file_is_exit_2(runner, tmp_path):
    result = invoke(runner, ["--report-file", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "cannot read --report-file" in result.stderr


def test_report_file_with_error_envelope_is_exit_3(runner):
    result = invoke(runner, ["--report-file", str(EXAMPLES / "error-envelope.json")])
    assert result.exit_code == 3 and "CC.00050010" in result.stderr


def test_report_from_stdin_bare_result(runner):
    bare = json.dumps({"critical": "0", "major": 0, "UNRESOLVED_ADD": 0})
    result = invoke(runner, ["--report-file", "-"], input=bare)
    assert result.exit_code == 0 and "verdict: PASSED" in result.output


def test_non_json_report_file_is_exit_2_naming_it(runner):
    result = invoke(runner, ["--report-file", "-"], input="<html>")
    assert result.exit_code == 2
    assert "--report-file - (standard input) holds no report" in result.stderr


def test_missing_count_is_exit_4(runner):
    result = invoke(runner, ["--report-file", "-"], input='{"major": 0, "UNRESOLVED_ADD": 0}')
    assert result.exit_code == 4
    assert "no count for 'critical'" in result.stderr


def test_on_error_warn_turns_no_verdict_into_0_loudly(runner):
    result = invoke(runner, ["--report-file", "-", "--on-error", "warn"], input="{}")
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "--on-error warn" in result.stderr


def test_on_error_warn_does_not_hide_a_failed_gate(runner):
    assert invoke(runner, ["--report-file", API_EXAMPLE, "--on-error", "warn"]).exit_code == 1


def test_on_error_warn_does_not_hide_usage_errors(runner):
    result = invoke(runner, ["--report-file", API_EXAMPLE, "--on-error", "warn", "--timeout", "x"])
    assert result.exit_code == 2


def test_quiet_prints_only_the_verdict(runner):
    result = invoke(runner, ["--report-file", CLEAN, "-q"])
    assert result.output == "verdict: PASSED (3 checks within their maximum)\n"


def test_all_outputs_written_in_nested_folders(runner, tmp_path):
    paths = {name: tmp_path / "a" / "b" / f"out.{name}" for name in ("junit", "summary", "json")}
    args = ["--report-file", API_EXAMPLE] + [f"--{n}={p}" for n, p in paths.items()]
    assert invoke(runner, args).exit_code == 1
    assert ET.parse(paths["junit"]).getroot().get("failures") == "2"
    assert paths["summary"].read_text().startswith("## ❌")
    assert json.loads(paths["json"].read_text())["verdict"] == "failed"
    assert sorted(p.name for p in paths["json"].parent.iterdir()) == [
        "out.json",
        "out.junit",
        "out.summary",
    ]


def test_output_into_a_folder_path_is_exit_2(runner, tmp_path):
    result = invoke(runner, ["--report-file", API_EXAMPLE, "--json", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_token_absent_at_every_verbosity(runner):
    token = "tok-NEVER-PRINT-9f8e7d"
    for flags in ([], ["-v"], ["-vv"], ["-vvv"]):
        result = invoke(runner, ["--job-id", "../x", "--token", token, *flags])
        assert token not in result.output + result.stderr


def test_every_exit_code_is_documented_everywhere_it_is_listed():
    """The one map of exit codes (gate.errors) against the README's two tables, the
    action's exit-code output and the docker example's retry advice."""
    repo = Path(__file__).resolve().parents[1]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    tables = [readme.split(heading, 1)[1].split("\n\n", 2)[0] for heading in (
        "### Exit codes in CI\n", "## Exit codes\n")]  # fmt: skip
    action = (repo / "action.yml").read_text(encoding="utf-8")
    docker = (repo / "examples" / "docker-run.sh").read_text(encoding="utf-8")
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)
    for code in ExitCode:
        for table in tables:
            assert f"\n| {int(code)} |" in f"\n{table}", (code, table[:80])
        assert str(int(code)) in action.split("exit-code:", 1)[1].split("\n  ", 2)[1]
        assert str(int(code)) in docker.split("# Exit codes:", 1)[1].split("set -euo", 1)[0]
