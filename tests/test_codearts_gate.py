"""CodeArts Check's own gate: ``is_access`` in every spelling, review-data behind its
fallback, ``--policy local|codearts|both``, and every output showing both verdicts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fakeapi import MISSING, FakeCodeArts, json_step, report_step
from gaterun import clean_env

from gate.api.summary import access_state, read_codearts_gate, thresholds_of
from gate.cli import main
from gate.core import CodeArtsGate, Outcome, evaluate, with_codearts_gate
from gate.errors import UsageError
from gate.formats import render
from gate.policy import build_policy
from gate.report import Report
from gate.settings import RawOptions, build_settings

TASK = "task-1"


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("1", "passed"),
        ("0", "failed"),
        ("true", "passed"),
        ("TRUE", "passed"),
        ("False", "failed"),
        ("pass", "passed"),
        ("PASS", "passed"),
        ("Fail", "failed"),
        (True, "passed"),
        (False, "failed"),
        (1, "passed"),
        (0, "failed"),
        ("", "unknown"),
        (None, "unknown"),
        (MISSING, "unknown"),
        ("2", "unknown"),
        ("yes", "unknown"),
        (" 1", "unknown"),
        ("passed", "unknown"),
        (1.0, "unknown"),
        ([], "unknown"),
        ({"a": 1}, "unknown"),
        ("\x1b[2J::error::x", "unknown"),
    ],
)
def test_is_access_in_every_spelling_and_anything_else_is_unknown(value, state):
    payload = {} if value is MISSING else {"is_access": value}
    found, problem = access_state(payload)
    assert found == state
    assert (problem is None) is (state != "unknown")
    assert problem is None or "\x1b" not in problem


def test_a_summary_that_is_not_an_object_is_unknown():
    assert access_state(["1"])[0] == access_state("1")[0] == "unknown"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"reviewData": [{"name": "critical", "compareType": ">", "value": 0, "isCheck": 1}]},
            ("critical > 0",),
        ),
        ([{"name": "major", "value": "5", "isCheck": "0"}], ()),
        ({"data": [{"name": "minor", "compareType": ">=", "value": 9}]}, ("minor >= 9",)),
        ({"reviewData": "x"}, None),
        ({"data": [1, 2]}, None),
        ("text", None),
    ],
)
def test_review_data_is_read_leniently(payload, expected):
    assert thresholds_of(payload) == expected


# ------------------------------------------------------------------ the pure combination

GATES = {state: CodeArtsGate(state, problem="x" if state == "unknown" else None)
         for state in ("passed", "failed", "unknown")}  # fmt: skip


def local(kind: str):
    policy = build_policy([("major", 1)])
    fields = {"passed": {"major": 0}, "failed": {"major": 5}, "error": {}}[kind]
    return evaluate(Report(fields), policy)


EXPECTED = {  # (policy, CodeArts, local) -> outcome
    "local": {(c, lo): lo for c in GATES for lo in ("passed", "failed", "error")},
    "codearts": {
        **{(c, "error"): "error" for c in GATES},
        **{
            (c, lo): {"passed": "passed", "failed": "failed", "unknown": "error"}[c]
            for c in GATES
            for lo in ("passed", "failed")
        },
    },
    "both": {
        **{(c, "failed"): "failed" for c in GATES},
        ("passed", "passed"): "passed",
        ("failed", "passed"): "failed",
        ("unknown", "passed"): "error",
        ("passed", "error"): "error",
        ("failed", "error"): "error",
        ("unknown", "error"): "error",
    },
}


@pytest.mark.parametrize("policy", ["local", "codearts", "both"])
@pytest.mark.parametrize("codearts", ["passed", "failed", "unknown"])
@pytest.mark.parametrize("local_kind", ["passed", "failed", "error"])
def test_policy_combines_the_verdicts_and_unknown_never_passes(policy, codearts, local_kind):
    gate = CodeArtsGate(codearts, policy=policy, problem="x" if codearts == "unknown" else None)
    verdict = with_codearts_gate(local(local_kind), gate)
    assert verdict.outcome.value == EXPECTED[policy][(codearts, local_kind)].replace(
        "error", Outcome.ERROR.value
    )
    if policy != "local" and codearts == "unknown":
        assert verdict.exit_code != 0  # no verdict, never a pass
    for name in ("console", "junit", "summary", "json"):
        assert "CodeArts gate" in render(name, verdict) or name == "junit"


def test_a_disagreement_is_said_in_every_output():
    verdict = with_codearts_gate(local("passed"), CodeArtsGate("failed"))
    line = "CodeArts' own gate failed but the local thresholds passed: the local verdict stands"
    assert verdict.outcome is Outcome.PASSED
    for name in ("console", "summary", "json"):
        assert line in render(name, verdict), name
    root = ET.fromstring(render("junit", verdict))
    case = next(c for c in root.iter("testcase") if c.get("name") == "CodeArts Check's own gate")
    assert line in case.findtext("system-out") and root.get("failures") == "0"


# ------------------------------------------------------------------ against the fake


def gate_run(api: FakeCodeArts, folder: Path, *args: str):
    from click.testing import CliRunner

    env = {**clean_env(), "CODEARTS_ENDPOINT": api.url, "CODEARTS_TOKEN": api.token}
    outputs = [f"--junit={folder}/j.xml", f"--json={folder}/r.json", f"--summary={folder}/s.md"]
    result = CliRunner().invoke(main, [*args, *outputs], env=env, catch_exceptions=False)
    data = json.loads((folder / "r.json").read_text())
    return result, data


def test_local_policy_shows_codearts_verdict_and_its_thresholds(fake_api, tmp_path, junit_xsd):
    fake_api.codearts_gate_api.review = {
        "reviewData": [{"name": "critical", "compareType": ">", "value": "0", "isCheck": "1"}]
    }
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK)
    assert result.exit_code == 0 and result.stderr == ""
    assert "CodeArts gate: passed; thresholds: critical > 0" in result.output
    assert data["codearts_gate"]["verdict"] == "passed"
    assert data["codearts_gate"]["thresholds"] == ["critical > 0"]
    review = next(r for r in fake_api.requests if r.path == "/v2/transmission/review-data")
    assert review.query["project_id"] == ["x"]  # from the report's /project/x/ link
    if junit_xsd is not None:
        junit_xsd.validate(str(tmp_path / "j.xml"))


def test_review_data_404_leaves_thresholds_unknown_without_a_warning(fake_api, tmp_path):
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK)
    assert result.exit_code == 0 and result.stderr == ""
    assert data["codearts_gate"]["thresholds"] is None
    assert "docs-only" in data["codearts_gate"]["thresholds_note"]
    assert "thresholds unknown" in (tmp_path / "s.md").read_text()


def test_review_data_apigw_0101_with_http_200_is_unknown_too(fake_api, tmp_path):
    body = {"error_code": "APIGW.0101", "error_msg": "API not found"}
    fake_api.codearts_gate_api.review_steps.append(json_step(200, body))
    _result, data = gate_run(fake_api, tmp_path, "--task-id", TASK)
    assert data["codearts_gate"]["thresholds"] is None
    assert "docs-only" in data["codearts_gate"]["thresholds_note"]


def test_a_summary_failure_in_local_mode_costs_one_warning_not_the_verdict(fake_api, tmp_path):
    error = {"error_code": "CC.00050010", "error_msg": "no permission"}
    fake_api.codearts_gate_api.summary_steps.append(json_step(200, error))
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK)
    assert result.exit_code == 0 and data["verdict"] == "passed"
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "CC.00050010" in warnings[0]
    assert data["codearts_gate"]["verdict"] == "unknown"


@pytest.mark.parametrize("value", ["", "maybe", MISSING])
def test_codearts_policy_with_an_unknown_verdict_is_exit_4(fake_api, tmp_path, value, junit_xsd):
    fake_api.codearts_gate_api.is_access = value
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK, "--policy", "codearts")
    assert result.exit_code == 4
    assert data["verdict"] == "error" and data["error"]["kind"] == "codearts-gate"
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.get("errors") == "1"
    if junit_xsd is not None:
        junit_xsd.validate(str(tmp_path / "j.xml"))


def test_codearts_policy_takes_codearts_verdict(fake_api, tmp_path, junit_xsd):
    fake_api.codearts_gate_api.is_access = "0"
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK, "--policy", "codearts")
    assert result.exit_code == 1
    assert "verdict: FAILED (CodeArts' own gate failed; 0 of 3 checks" in result.output
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.get("failures") == "1"
    if junit_xsd is not None:
        junit_xsd.validate(str(tmp_path / "j.xml"))
    fake_api.codearts_gate_api.is_access = "pass"
    fake_api.scenario = [report_step({"critical": 0, "major": 9, "UNRESOLVED_ADD": 0})]
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK, "--policy", "codearts")
    assert result.exit_code == 0 and data["checks"][1]["status"] == "fail"
    assert "CodeArts' verdict stands" in data["codearts_gate"]["disagreement"]


def test_both_fails_when_either_fails(fake_api, tmp_path):
    fake_api.codearts_gate_api.is_access = "FAIL"
    result, _ = gate_run(fake_api, tmp_path, "--task-id", TASK, "--policy", "both")
    assert result.exit_code == 1
    fake_api.codearts_gate_api.is_access = "true"
    result, _ = gate_run(fake_api, tmp_path, "--task-id", TASK, "--policy", "both")
    assert result.exit_code == 0


def test_a_job_id_says_is_access_describes_the_latest_scan(fake_api, tmp_path):
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK, "--job-id", "a" * 32)
    note = "is_access describes the task's latest scan, which may not be the gated one"
    assert note in result.output
    assert (
        data["codearts_gate"]["latest_scan_only"] is True
        and note in data["codearts_gate"]["summary"]
    )
    assert "is\\_access describes the task's latest scan" in (tmp_path / "s.md").read_text()
    assert note in (tmp_path / "j.xml").read_text()
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK)
    assert data["codearts_gate"]["latest_scan_only"] is False


def test_no_task_no_lookup(fake_api, tmp_path):
    _result, data = gate_run(fake_api, tmp_path, "--job-id", "a" * 32)
    assert data["codearts_gate"] is None
    assert not [r for r in fake_api.requests if "summary" in r.path]


def test_no_time_left_is_unknown_without_a_request(fake_api):
    settings = build_settings(RawOptions(task_id=TASK, endpoint=fake_api.url, token=fake_api.token))
    gate = read_codearts_gate(settings, 0.0, "x", latest_only=False)
    assert gate.state == "unknown" and gate.problem
    assert len(fake_api.requests) == 0


@pytest.mark.parametrize(
    "raw",
    [
        {"policy": "codearts", "job_id": "j", "token": "t" * 20},
        {"policy": "both", "report_file": "r.json"},
        {"policy": "strict", "task_id": TASK, "token": "t" * 20},
    ],
)
def test_a_policy_that_cannot_be_met_is_a_usage_error(raw):
    with pytest.raises(UsageError, match="--policy"):
        build_settings(RawOptions(**raw))


def test_codearts_policy_decides_even_with_every_local_check_off(fake_api, tmp_path):
    fake_api.codearts_gate_api.is_access = "0"
    off = ["--max-critical", "off", "--max-major", "off", "--max-new", "off"]
    result, data = gate_run(fake_api, tmp_path, "--task-id", TASK, "--policy", "codearts", *off)
    assert result.exit_code == 1 and data["checks"] == []


def test_no_lookup_when_nothing_could_be_sent(fake_api, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result, _data = gate_run(
        fake_api, tmp_path, "--task-id", TASK, "--policy", "both", f"--sarif={folder}"
    )
    assert result.exit_code == 2 and not fake_api.requests


@pytest.mark.parametrize(("signum", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_while_codearts_gate_is_read_ends_the_run_with_the_outputs(tmp_path, signum, code):
    """A cancelled job during the read of CodeArts' own gate is not an "unknown" gate the
    run carries on after: it ends the run (130/143), fetches no defects, writes every
    output asked for."""
    import signal
    import subprocess
    import time

    from fakeapi import PASS_REPORT
    from gaterun import GATE

    with FakeCodeArts(scenario=[report_step(PASS_REPORT)]) as api:
        api.codearts_gate_api.summary_delay = 30  # answered only after the signal
        env = clean_env(CODEARTS_TOKEN=api.token, CODEARTS_ENDPOINT=api.url)
        args = [str(GATE), "--task-id", TASK, f"--json={tmp_path}/r.json"]
        args += [f"--sarif={tmp_path}/d.sarif", f"--junit={tmp_path}/j.xml"]
        with subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            deadline = time.monotonic() + 20
            while not any(r.path.endswith("/defects-summary") for r in api.requests):
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.05)
            proc.send_signal(getattr(signal, signum))
            _stdout, stderr = proc.communicate(timeout=20)
        fetched = [r for r in api.requests if r.path.endswith("/defects-detail")]
    assert proc.returncode == code, stderr
    assert f"stopped by {signum}" in stderr and "Traceback" not in stderr
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert result["exit_code"] == code and result["verdict"] == "error"
    assert fetched == []  # the user stopped the run: no defect fetch after it
    assert json.loads((tmp_path / "d.sarif").read_text(encoding="utf-8"))["runs"]
    assert ET.parse(tmp_path / "j.xml").getroot().tag == "testsuite"
