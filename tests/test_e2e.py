"""End to end: the installed command against the local fake API, one scenario each.

Every exit code of the contract is produced here by a real process talking HTTP.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fakeapi import FakeCodeArts, json_step
from gaterun import GATE, JOB, GateRun, clean_env, run_gate


def gate_against(api: FakeCodeArts, tmp_path, *args: str, **env: str) -> GateRun:
    base = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    return run_gate(tmp_path, *args, env={**base, **env})


def assert_outputs_agree(run: GateRun, verdict: str) -> None:
    assert run.json["verdict"] == verdict
    assert run.json["exit_code"] == run.code
    assert run.summary.startswith("## ")
    failures, errors = int(run.junit.get("failures")), int(run.junit.get("errors"))
    expected = {"passed": failures == errors == 0, "failed": failures >= 1 and errors == 0}
    assert expected.get(verdict, errors >= 1), (verdict, failures, errors)


def test_pass_exit_0_one_request_documented_shape(fake_api, tmp_path):
    run = gate_against(fake_api, tmp_path)
    assert run.code == 0, run.stderr
    assert "verdict: PASSED" in run.stdout
    assert_outputs_agree(run, "passed")
    [request] = fake_api.requests
    assert request.method == "PUT"
    assert request.path == f"/v1/jobs/{JOB}/result/refresh"
    assert request.query == {"task_id": [""], "async": ["false"]}
    assert request.headers["X-Auth-Token"] == fake_api.token
    assert request.headers["User-Agent"].startswith("codearts-gate/")


def test_fail_exit_1_on_documented_example(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    run = gate_against(api, tmp_path)
    assert run.code == 1
    assert_outputs_agree(run, "failed")
    assert run.junit.get("failures") == "2"
    assert {c["metric"]: c["actual"] for c in run.json["checks"]} == {
        "critical": 0,
        "major": 4,
        "new": 122,
    }
    assert "report: https://" in run.stdout


def test_legacy_only_fields_are_read_with_the_trap_avoided(fake_api_factory, tmp_path):
    run = gate_against(fake_api_factory(scenario="legacy_only"), tmp_path, "--max-new", "off")
    assert run.code == 1  # CRITICAL 4 is major, so major fails; FATAL 0 is critical
    counts = run.json["counts"]
    assert (counts["critical"], counts["major"], counts["minor"]) == (0, 4, 108)


def test_integer_http_status_is_accepted(fake_api_factory, tmp_path):
    run = gate_against(fake_api_factory(scenario="int_http_status"), tmp_path, "--max", "major=4")
    assert run.code == 1  # the documented example's 122 new issues still fail
    assert run.json["counts"]["major"] == 4


def test_string_counts_are_accepted(fake_api_factory, tmp_path):
    run = gate_against(fake_api_factory(scenario="string_counts"), tmp_path)
    assert run.code == 1 and run.json["error"] is None
    assert (run.json["counts"]["major"], run.json["counts"]["new"]) == (4, 122)


def test_expired_token_exit_3_with_fix(fake_api_factory, tmp_path):
    run = gate_against(fake_api_factory(scenario="expired_token_401"), tmp_path)
    assert run.code == 3
    assert "HTTP 401, CC.00000003" in run.stderr and "fetch a new one" in run.stderr
    assert "request id" in run.stderr
    assert_outputs_agree(run, "error")
    assert run.json["error"]["kind"] == "credentials"


def test_wrong_token_exit_3(fake_api, tmp_path):
    run = gate_against(fake_api, tmp_path, CODEARTS_TOKEN="not-the-token")
    assert run.code == 3 and "APIGW.0301" in run.stderr


def test_no_permission_with_http_200_exit_3(fake_api_factory, tmp_path):
    run = gate_against(fake_api_factory(scenario="no_permission_200"), tmp_path)
    assert run.code == 3 and "codeartscheck:task:getReport" in run.stderr


@pytest.mark.parametrize(
    ("scenario", "words"),
    [
        ("bad_request_400", "HTTP 400, CC.00050000"),
        ("error_envelope_200", "HTTP 200, CC.00050006: service inner error"),
        ("non_json", "text/html"),
        ("missing_count", "no count for 'critical'"),
        ("bad_count", "not a whole number"),
    ],
)
def test_no_verdict_exit_4(fake_api_factory, tmp_path, scenario, words):
    api = fake_api_factory(scenario=scenario)
    run = gate_against(api, tmp_path)
    assert run.code == 4, run.stderr
    assert words in run.stderr
    assert_outputs_agree(run, "error")
    assert len(api.requests) == 1  # none of these is retried


def test_flaky_503_is_retried_to_a_verdict(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="flaky_503_then_pass")
    run = gate_against(api, tmp_path)
    assert run.code == 0, run.stderr
    assert len(api.requests) == 3


def test_retry_later_envelope_is_retried(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="retry_later_then_pass")
    assert gate_against(api, tmp_path).code == 0
    assert len(api.requests) == 2


def test_429_with_retry_after_is_honoured(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="rate_limited_429")
    run = gate_against(api, tmp_path, "-v")
    assert run.code == 0, run.stderr
    assert len(api.requests) == 2
    assert "retrying in 1.0 s" in run.stderr


def test_slow_server_past_timeout_exit_4(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="slow")
    run = gate_against(api, tmp_path, "--timeout", "2")
    assert run.code == 4
    assert "--timeout 2" in run.stderr
    assert_outputs_agree(run, "error")
    assert run.json["error"]["kind"] == "timeout"


def test_answer_without_result_fails_closed(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario=[json_step(200, {"status": "success", "httpStatus": "OK"})])
    run = gate_against(api, tmp_path)
    assert run.code == 4 and "no 'result'" in run.stderr
    assert_outputs_agree(run, "error")


def test_usage_error_exit_2_sends_nothing(fake_api, tmp_path):
    run = gate_against(fake_api, tmp_path, "--job-id", "../../x")
    assert run.code == 2
    assert len(fake_api.requests) == 0
    assert_outputs_agree(run, "error")
    assert run.json["error"]["kind"] == "usage"


def test_on_error_warn_exit_0_loudly(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="non_json")
    run = gate_against(api, tmp_path, "--on-error", "warn")
    assert run.code == 0
    assert "warning:" in run.stderr
    assert run.json["verdict"] == "error" and run.json["exit_code"] == 0


def test_redirect_is_not_followed(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="redirect_other_host")
    run = gate_against(api, tmp_path)
    assert run.code == 4
    assert "redirected" in run.stderr
    assert [r.headers.get("Host", "").split(":")[0] for r in api.requests] == ["127.0.0.1"]


def test_token_never_appears_at_any_verbosity(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    for level, flags in enumerate(([], ["-v"], ["-vv"])):
        folder = tmp_path / str(level)
        folder.mkdir()
        run = gate_against(api, folder, *flags)
        assert run.code == 1
        assert api.token not in run.everything()


def test_unwritable_output_is_exit_2_before_any_request(fake_api, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    args = [str(GATE), "--job-id", JOB, f"--junit={blocker}/junit.xml", f"--json={tmp_path}/r.json"]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "cannot create the folder" in proc.stderr
    assert len(fake_api.requests) == 0
    result = json.loads((tmp_path / "r.json").read_text())  # what can be written still is
    assert result["error"]["kind"] == "output"


def test_special_file_outputs_are_written_not_replaced(tmp_path):
    report = Path(__file__).resolve().parents[1] / "examples" / "reports" / "clean.json"
    args = [str(GATE), "--report-file", str(report), "--json", "/dev/stdout", "-q"]
    proc = subprocess.run(args, env=clean_env(), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"verdict": "passed"' in proc.stdout
    assert Path("/dev/stdout").is_symlink() or not Path("/dev/stdout").is_file()
