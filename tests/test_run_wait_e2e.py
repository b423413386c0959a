"""End to end: ``--run``, ``--wait`` and ``--task-id`` alone, the installed command against
the local fake's tasks (run, progress, stop, log-detail), one case of the issue each."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from fakeapi import (
    RIVAL_BRANCH,
    FakeCodeArts,
    _cc_body,
    json_step,
    raw_step,
    reset_step,
    sleep_step,
    task_step,
)
from gaterun import GATE, GateRun, clean_env, parse_output_file, run_gate

pytestmark = pytest.mark.slow  # scans of real seconds on the fake, waited for by the gate

TASK = "7c0ffee0000000000000000000000001"
WAIT = 20.0  # generous bound for a process that should end at once


def gate(api: FakeCodeArts, tmp_path, *args: str, timeout: float = 60, **env: str) -> GateRun:
    base = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_TASK_ID=TASK)
    # the project known: no extra refresh to read it from the latest report (issue 16)
    base["CODEARTS_CONSOLE_PROJECT_ID"] = api.console_project_id
    return run_gate(tmp_path, *args, env={**base, **env}, timeout=timeout)


def paths(api: FakeCodeArts) -> list[str]:
    return [f"{r.method} {r.path.replace(TASK, 'T')}" for r in api.requests]


def test_immediate_success_gates_the_run_by_its_job_id_alone(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=0.0)
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 0, run.stderr
    [exec_id] = task.exec_ids
    refresh = fake_api.task_requests("refresh")
    assert [r.path for r in refresh] == [f"/v1/jobs/{exec_id}/result/refresh"]
    assert refresh[0].query == {"task_id": [""], "async": ["false"]}  # this run, not the latest
    assert run.json["job_id"] == exec_id
    scan = run.json["scan"]
    assert (scan["source"], scan["job_id"], scan["status"]) == (
        "started",
        exec_id,
        "check succeeded",
    )
    assert scan["scan_seconds"] is not None and scan["wait_seconds"] is not None
    assert exec_id in run.summary and "started by the gate" in run.summary
    props = {p.get("name"): p.get("value") for p in run.junit.iter("property")}
    assert props["job_id"] == exec_id and props["scan_source"] == "started"
    assert float(props["wait_seconds"]) >= 0
    assert f"gated: job {exec_id}" in run.stdout
    assert task.run_count == 1 and fake_api.task_requests("run")[0].json() == {}


def test_slow_success_polls_the_progress_with_a_heartbeat(fake_api, tmp_path):
    fake_api.add_task(TASK, length=4.0)
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 0, run.stderr
    polls = fake_api.task_requests("progress")
    assert 2 <= len(polls) <= 6
    assert "%" in run.stderr and "elapsed" in run.stderr and "检查中" in run.stderr
    refresh = fake_api.task_requests("refresh")[0]
    assert refresh.received_at >= fake_api.tasks[TASK].ends_at
    assert 4.0 <= run.json["scan"]["scan_seconds"] < 7.0


def test_quiet_silences_the_heartbeat(fake_api, tmp_path):
    fake_api.add_task(TASK, length=1.5)
    run = gate(fake_api, tmp_path, "--run", "-q")
    assert run.code == 0 and run.stderr == ""
    assert run.stdout.strip() == "verdict: PASSED (3 checks within their maximum)"


def test_check_failed_shows_the_tail_of_the_check_log(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=1.0, outcome=1)
    url = f"https://devcloud.example/codecheck/project/{fake_api.console_project_id}/task/y/detail"
    run = gate(fake_api, tmp_path, "--run", CODEARTS_CONSOLE_PROJECT_ID=url)
    assert run.code == 4
    assert "failed (check failed)" in run.stderr
    assert "check log: build.sh: line 3: mvn: command not found" in run.stderr
    assert (
        run.json["error"]["kind"] == "scan"
        and "mvn: command not found" in run.json["error"]["message"]
    )
    [log] = fake_api.task_requests("log")
    assert log.path == f"/v2/{fake_api.console_project_id}/tasks/{TASK}/log-detail"
    assert log.query == {"execute_id": task.exec_ids}
    assert fake_api.task_requests("refresh") == []
    assert run.junit.find("./testcase/error").get("type") == "scan"


def test_check_failed_reads_the_project_from_the_latest_report_link(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="report")
    api.report["REPORT_URL"] = (
        f"https://devcloud.example/codecheck/project/{api.console_project_id}/task/y/detail"
    )
    api.add_task(TASK, length=0.0, outcome=1)
    run = gate(api, tmp_path, "--run", CODEARTS_CONSOLE_PROJECT_ID="")
    assert run.code == 4 and "check log: compile failed with exit code 127" in run.stderr
    [lookup] = api.task_requests("refresh")  # the task's latest report, for its link, once
    assert lookup.query == {"task_id": [TASK], "async": ["false"]}
    assert len(api.task_requests("log")) == 1


def test_check_failed_without_a_console_project_says_how_to_see_the_log(fake_api, tmp_path):
    fake_api.add_task(TASK, length=0.0, outcome=1)
    fake_api.scenario = [json_step(200, _cc_body("CC.00050000", "no successful scan yet"))]
    run = gate(fake_api, tmp_path, "--run", CODEARTS_CONSOLE_PROJECT_ID="")
    assert run.code == 4 and "--console-project-id" in run.stderr
    assert fake_api.task_requests("log") == []


def test_stopped_outside_the_gate(fake_api, tmp_path):
    fake_api.add_task(TASK, length=0.0, outcome=3)
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 4 and "was stopped outside the gate" in run.stderr
    assert fake_api.task_requests("refresh") == []


def test_wait_on_a_task_that_never_ran(fake_api, tmp_path):
    fake_api.add_task(TASK, status=None)
    run = gate(fake_api, tmp_path, "--wait")
    assert run.code == 4 and "has never run" in run.stderr
    assert fake_api.task_requests("run") == [] and len(fake_api.task_requests("progress")) == 1


def test_wait_with_no_scan_running_gates_the_latest_report_at_once(fake_api, tmp_path):
    fake_api.add_task(TASK, status=2)
    run = gate(fake_api, tmp_path, "--wait")
    assert run.code == 0, run.stderr
    [refresh] = fake_api.task_requests("refresh")
    assert refresh.query == {"task_id": [TASK], "async": ["false"]}
    assert run.json["scan"]["source"] == "waited" and run.json["job_id"] is None


def test_a_busy_task_is_waited_for_then_our_own_scan_is_run_and_gated(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=0.5, rivals=[2.0])  # theirs comes first
    run = gate(fake_api, tmp_path, "--run", "--branch", "feature/x")
    assert run.code == 0, run.stderr
    assert "under way (CC.00050015; another pipeline?)" in run.stderr
    assert "waited for another scan of the task (another pipeline?), then started ours" in (
        run.stderr
    )
    assert len(fake_api.task_requests("run")) == 2 and task.branches == [RIVAL_BRANCH, "feature/x"]
    theirs, ours = task.exec_ids
    busy_answered, ours_sent = fake_api.task_requests("run")
    assert ours_sent.received_at >= busy_answered.received_at + 2.0  # once theirs had ended
    assert ours_sent.json() == {"git_branch": "feature/x"}
    [refresh] = fake_api.task_requests("refresh")
    assert refresh.path == f"/v1/jobs/{ours}/result/refresh"  # ours alone, not the latest
    assert refresh.query == {"task_id": [""], "async": ["false"]}
    scan = run.json["scan"]
    assert (scan["source"], scan["job_id"], run.json["job_id"]) == ("started", ours, ours)
    assert "after another scan of the task ended" in scan["gated"] and theirs not in run.summary
    assert "queued" in run.stdout and 0 < scan["queued_seconds"] < 20
    props = {p.get("name"): p.get("value") for p in run.junit.iter("property")}
    assert float(props["queued_seconds"]) == pytest.approx(scan["queued_seconds"], abs=0.01)


def test_a_task_busy_again_after_the_wait_is_waited_for_again(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=0.5, rivals=[1.0, 1.5])
    run = gate(fake_api, tmp_path, "--run", "--branch", "mine")
    assert run.code == 0, run.stderr
    assert len(fake_api.task_requests("run")) == 3
    assert task.branches == [RIVAL_BRANCH, RIVAL_BRANCH, "mine"]
    [refresh] = fake_api.task_requests("refresh")
    assert refresh.path == f"/v1/jobs/{task.exec_ids[-1]}/result/refresh"


@pytest.mark.parametrize("cancel", [False, True])
def test_a_task_busy_past_the_timeout_is_no_verdict_and_starts_nothing(fake_api, tmp_path, cancel):
    task = fake_api.add_task(TASK, running_for=300.0, length=0.5)
    flags = ["--cancel-on-timeout"] if cancel else []
    run = gate(fake_api, tmp_path, "--run", "--timeout", "3", *flags)
    assert run.code == 4, run.stderr
    assert run.json["verdict"] == "error" and run.json["exit_code"] == 4
    assert run.json["error"]["kind"] == "timeout"
    assert "gave up waiting for it" in run.stderr and "ours was not started" in run.stderr
    assert fake_api.task_requests("refresh") == [] and fake_api.task_requests("stop") == []
    assert len(fake_api.task_requests("run")) == 1 and len(task.exec_ids) == 1
    assert run.json["scan"]["source"] == "run" and run.json["job_id"] is None
    assert "was busy with another scan" in run.json["scan"]["gated"]
    assert run.json["scan"]["queued_seconds"] > 0
    assert task.running(fake_api.clock())  # the other pipeline's scan is left alone


def test_a_run_answer_lost_after_waiting_for_a_busy_task_is_not_sent_again(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=30.0, rivals=[1.5])
    fake_api.inject("run", task_step(), reset_step(task_step()))
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 4
    assert "waiting for it to end, then starting ours" in run.stderr
    assert "not sent again" in run.stderr and "may have started a scan" in run.stderr
    assert len(fake_api.task_requests("run")) == 2 and len(task.exec_ids) == 2
    assert fake_api.task_requests("refresh") == []
    assert run.json["scan"]["source"] == "run" and run.json["job_id"] is None
    assert "no job id of its own" in run.json["scan"]["gated"]
    assert "started none" not in run.summary


def test_run_answer_lost_after_sending_is_not_sent_again(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=30.0)
    fake_api.inject("run", reset_step(task_step()))
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 4
    assert "not sent again" in run.stderr
    assert len(fake_api.task_requests("run")) == 1 and task.run_count == 1
    assert len(task.exec_ids) == 1  # the one scan the lost request started, and no other
    assert run.json["scan"]["source"] == "run"
    assert "gave no job id" in run.json["scan"]["gated"] and "started none" not in run.summary


def test_transient_poll_failures_are_retried(fake_api, tmp_path):
    fake_api.add_task(TASK, length=2.0)
    unavailable = {
        "error_code": "APIGW.0202",
        "error_msg": "Backend unavailable",
        "request_id": None,
    }
    throttled = {"error_code": "APIGW.0308", "error_msg": "throttled", "request_id": None}
    fake_api.inject(
        "progress",
        json_step(503, unavailable),
        json_step(200, _cc_body("CC.00050012", "Please retry later.")),
        json_step(429, throttled, headers={"Retry-After": "1"}),
    )
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 0, run.stderr
    assert len(fake_api.task_requests("progress")) >= 4
    assert "progress poll failed" in run.stderr


def test_a_poll_error_that_is_not_transient_ends_the_wait(fake_api, tmp_path):
    fake_api.add_task(TASK, length=30.0)
    fake_api.inject(
        "progress", json_step(200, _cc_body("CC.00050010", "no permission", failed=False))
    )
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 3 and "CC.00050010" in run.stderr
    assert "grant the IAM user the permission to read the task's progress" in run.stderr


def test_timeout_without_cancel_leaves_the_scan_running(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=300.0)
    started = time.monotonic()
    run = gate(fake_api, tmp_path, "--run", "--timeout", "3")
    assert time.monotonic() - started < WAIT
    assert run.code == 4 and run.json["error"]["kind"] == "timeout"
    assert (
        "did not end within --timeout 3 s" in run.stderr and "last progress: checking" in run.stderr
    )
    assert fake_api.task_requests("stop") == [] and task.running(fake_api.clock())


def test_timeout_with_cancel_stops_the_scan(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=300.0)
    run = gate(fake_api, tmp_path, "--run", "--timeout", "3", CODEARTS_CANCEL_ON_TIMEOUT="true")
    assert run.code == 4
    assert f"scan {task.exec_ids[0]} was stopped (--cancel-on-timeout)" in run.stderr
    assert len(fake_api.task_requests("stop")) == 1 and task.state(fake_api.clock()) == 3


def test_cancel_never_stops_a_scan_the_gate_did_not_start(fake_api, tmp_path):
    task = fake_api.add_task(TASK, running_for=300.0)
    run = gate(fake_api, tmp_path, "--wait", "--cancel-on-timeout", "--timeout", "2")
    assert run.code == 4 and "this gate did not start it" in run.stderr
    assert fake_api.task_requests("stop") == [] and task.running(fake_api.clock())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_during_the_wait_stops_the_scan_and_writes_the_outputs(fake_api, tmp_path, signum):
    task = fake_api.add_task(TASK, length=300.0)
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    args = [str(GATE), "--task-id", TASK, "--run", "--cancel-on-timeout"]
    args += ["--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml")]
    with subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        deadline = time.monotonic() + WAIT
        while not fake_api.task_requests("progress"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signum)
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=WAIT)
    assert time.monotonic() - started < 10
    code = 128 + signum  # 143 for SIGTERM, 130 for SIGINT, as shells report them
    assert proc.returncode == code, stderr
    assert f"stopped by {signum.name}" in stderr and "was stopped (--cancel-on-timeout)" in stderr
    assert len(fake_api.task_requests("stop")) == 1 and task.state(fake_api.clock()) == 3
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert result["error"]["kind"] == "interrupted" and result["job_id"] == task.exec_ids[0]
    assert result["exit_code"] == code and f"(interrupted, exit {code})" in stdout
    assert "<error" in (tmp_path / "j.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_while_waiting_for_another_scan_stops_nothing_and_exits_as_a_shell(
    fake_api, tmp_path, signum
):
    """Waiting for another pipeline's scan, a cancelled job starts nothing, stops nothing
    (that scan is not ours), and exits 128 + signal even with --on-error warn."""
    task = fake_api.add_task(TASK, running_for=300.0)
    with started_gate(fake_api, tmp_path, "--cancel-on-timeout", "--on-error", "warn") as proc:
        deadline = time.monotonic() + WAIT
        while not fake_api.task_requests("progress"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == 128 + signum, stderr
    assert "ours was not started" in stderr and "stopped by" in stderr
    assert fake_api.task_requests("stop") == [] and len(task.exec_ids) == 1
    assert len(fake_api.task_requests("run")) == 1
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert result["exit_code"] == 128 + signum and result["verdict"] == "error"


def test_task_id_alone_gates_the_latest_report_with_the_task_id_in_the_path(
    fake_api_factory, tmp_path
):
    fake_api = fake_api_factory(scenario="fail")
    run = gate(fake_api, tmp_path)
    assert run.code == 1, run.stderr  # the documented example fails the default gate
    assert paths(fake_api) == [
        "PUT /v1/jobs/T/result/refresh",
        "GET /v2/tasks/T/defects-summary",  # CodeArts' own gate, shown beside the verdict
        "GET /v2/transmission/review-data",
    ]
    assert fake_api.requests[0].query == {"task_id": [TASK], "async": ["false"]}
    assert run.json["job_id"] is None and run.json["scan"]["source"] == "latest"
    assert run.json["scan"]["wait_seconds"] is None


def test_the_branch_under_build_is_sent_and_said(fake_api, tmp_path):
    fake_api.add_task(TASK, length=0.0)
    event = tmp_path / "event.json"
    same = {"repo": {"full_name": "o/a"}}
    event.write_text(json.dumps({"pull_request": {"head": same, "base": same}}), encoding="utf-8")
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": "feature/x", "GITHUB_REF_NAME": "7/merge"}
    ci["GITHUB_EVENT_PATH"] = str(event)  # a pull request of the same repository
    output = tmp_path / "out"
    run = gate(fake_api, tmp_path, "--run", GITHUB_OUTPUT=str(output), **ci)
    assert run.code == 0, run.stderr
    assert fake_api.task_requests("run")[0].json() == {"git_branch": "feature/x"}
    assert "on branch feature/x (from GITHUB_HEAD_REF)" in run.stderr
    assert "::group::CodeArts Check: running task" in run.stdout
    values = parse_output_file(output.read_text(encoding="utf-8"))
    assert values["job-id"] == fake_api.tasks[TASK].exec_ids[0]


@pytest.mark.parametrize(
    ("args", "env", "body"),
    [
        (
            ["--branch", "release/1.2"],
            {"CI_COMMIT_REF_NAME": "main"},
            {"git_branch": "release/1.2"},
        ),
        ([], {"CI_COMMIT_REF_NAME": "mr-branch"}, {"git_branch": "mr-branch"}),
        ([], {"CHANGE_BRANCH": "pr-src", "BRANCH_NAME": "PR-12"}, {"git_branch": "pr-src"}),
        (["--branch", ""], {"CI_COMMIT_REF_NAME": "main"}, {}),
        ([], {"GITHUB_HEAD_REF": "x"}, {}),  # not in Actions: GITHUB_* is not trusted
    ],
)
def test_branch_defaults_by_ci_and_an_empty_flag_sends_none(fake_api, tmp_path, args, env, body):
    fake_api.add_task(TASK, length=0.0)
    run = gate(fake_api, tmp_path, "--run", *args, **env)
    assert run.code == 0, run.stderr
    assert fake_api.task_requests("run")[0].json() == body


def test_aksk_signs_the_run_and_the_polls(fake_api, tmp_path):
    fake_api.add_task(TASK, length=1.5)
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url, CODEARTS_AK=fake_api.ak, CODEARTS_SK=fake_api.sk
    )
    run = run_gate(tmp_path, "--task-id", TASK, "--run", env=env)
    assert run.code == 0, run.stderr
    assert all(
        r.header("Authorization", "").startswith("SDK-HMAC-SHA256") for r in fake_api.requests
    )
    assert fake_api.sk not in run.everything() and fake_api.ak not in run.everything()


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--run"], {"CODEARTS_TASK_ID": ""}, "need the task"),
        (["--run", "--job-id", "ab" * 16], {}, "drop --job-id"),
        ([], {"CODEARTS_RUN": "maybe"}, "--run/CODEARTS_RUN must be true or false"),
        (["--wait", "--report-file", "x.json"], {}, "drop --report-file"),
        (["--run", "--console-project-id", "../x"], {}, "--console-project-id"),
    ],
)
def test_usage_errors_send_nothing_and_still_write_the_outputs(
    fake_api, tmp_path, args, env, words
):
    run = gate(fake_api, tmp_path, *args, **env)
    assert run.code == 2 and words in run.stderr
    assert len(fake_api.requests) == 0 and run.json["error"]["kind"] == "usage"


def test_wait_with_a_job_id_waits_then_gates_that_job_alone(fake_api, tmp_path):
    task = fake_api.add_task(TASK, running_for=2.0)
    job = "ab" * 16
    run = gate(fake_api, tmp_path, "--wait", "--job-id", job)
    assert run.code == 0, run.stderr
    [refresh] = fake_api.task_requests("refresh")
    assert refresh.path == f"/v1/jobs/{job}/result/refresh"
    assert refresh.query == {"task_id": [""], "async": ["false"]}
    assert refresh.received_at >= task.ends_at
    assert run.json["job_id"] == job and run.json["scan"]["source"] == "waited"


def test_iam_login_once_then_run_poll_and_refresh_with_its_token(fake_api, tmp_path):
    fake_api.add_task(TASK, length=1.0)
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url,
        CODEARTS_IAM_ENDPOINT=fake_api.url,
        CODEARTS_IAM_USER=fake_api.iam_user,
        CODEARTS_IAM_PASSWORD=fake_api.iam_password,
        CODEARTS_IAM_DOMAIN=fake_api.iam_domain,
    )
    run = run_gate(tmp_path, "--task-id", TASK, "--run", env=env)
    assert run.code == 0, run.stderr
    assert fake_api.login_count == 1
    calls = [r for r in fake_api.requests if r.path != "/v3/auth/tokens"]
    assert calls and all(r.header("X-Auth-Token") == fake_api.token for r in calls)
    assert fake_api.token not in run.everything() and fake_api.iam_password not in run.everything()


@pytest.mark.parametrize("status", ["9" * 5000, 2.0, "2.0"])
def test_a_task_status_the_gate_cannot_read_ends_the_wait_without_a_traceback(
    fake_api, tmp_path, status
):
    fake_api.add_task(TASK, length=30.0)
    fake_api.inject("progress", json_step(200, {"task_status": status, "progress": None}))
    run = gate(fake_api, tmp_path, "--run")
    assert run.code == 4 and "Traceback" not in run.stderr, run.stderr
    assert "unknown task_status" in run.stderr and run.json["error"]["kind"] == "service"
    assert fake_api.task_requests("refresh") == []


def test_wait_flag_beats_a_run_variable_no_scan_is_started(fake_api, tmp_path):
    task = fake_api.add_task(TASK, status=2)
    run = gate(fake_api, tmp_path, "--wait", CODEARTS_RUN="true")
    assert run.code == 0, run.stderr
    assert fake_api.task_requests("run") == [] and task.run_count == 0
    assert run.json["scan"]["source"] == "waited"


def test_job_id_flag_beats_a_run_variable_that_job_is_gated(fake_api, tmp_path):
    fake_api.add_task(TASK, status=2)
    job = "ab" * 16
    run = gate(fake_api, tmp_path, "--job-id", job, CODEARTS_RUN="true")
    assert run.code == 0, run.stderr
    assert fake_api.task_requests("run") == [] and fake_api.task_requests("progress") == []
    assert [r.path for r in fake_api.task_requests("refresh")] == [f"/v1/jobs/{job}/result/refresh"]


def test_run_flag_beats_job_id_and_report_file_variables(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=0.0)
    saved = tmp_path / "saved.json"
    saved.write_text("{}", encoding="utf-8")
    for variable in ({"CODEARTS_JOB_ID": "ab" * 16}, {"CODEARTS_REPORT_FILE": str(saved)}):
        run = gate(fake_api, tmp_path, "--run", **variable)
        assert run.code == 0, run.stderr
        assert run.json["job_id"] == task.exec_ids[-1]
    assert task.run_count == 2


@pytest.mark.parametrize("variable", ["CODEARTS_RUN", "CODEARTS_WAIT"])
def test_report_file_flag_beats_a_run_or_wait_variable(fake_api, tmp_path, variable):
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}), "utf-8")
    run = gate(fake_api, tmp_path, "--report-file", str(saved), **{variable: "true"})
    assert run.code == 0, run.stderr
    assert len(fake_api.requests) == 0


def started_gate(api: FakeCodeArts, tmp_path, *extra: str) -> subprocess.Popen[str]:
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token)
    args = [str(GATE), "--task-id", TASK, "--run", *extra]
    args += ["--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml")]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_signal_during_the_run_request_stops_the_scan_that_request_started(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=300.0)
    fake_api.inject("run", sleep_step(1.5, task_step()))  # the answer comes after the signal
    with started_gate(fake_api, tmp_path, "--cancel-on-timeout") as proc:
        deadline = time.monotonic() + WAIT
        while not fake_api.task_requests("run"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr and "was stopped (--cancel-on-timeout)" in stderr
    assert len(fake_api.task_requests("stop")) == 1 and task.state(fake_api.clock()) == 3
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert result["error"]["kind"] == "interrupted" and result["job_id"] == task.exec_ids[0]
    assert fake_api.task_requests("progress") == []


def test_a_timeout_during_the_run_request_says_a_scan_may_have_started(fake_api, tmp_path):
    fake_api.add_task(TASK, length=300.0)
    fake_api.inject("run", sleep_step(4.0, task_step()))
    run = gate(fake_api, tmp_path, "--run", "--timeout", "1.5")
    assert run.code == 4 and run.json["error"]["kind"] == "timeout"
    assert "a scan may have started" in run.stderr
    assert len(fake_api.task_requests("run")) == 1


@pytest.mark.parametrize("secret", ["token", "ak"])
def test_an_exec_id_that_echoes_a_credential_is_never_written(fake_api, tmp_path, secret):
    """A hostile service answers the run with a credential as the exec_id (it is a safe
    id): every output, the step outputs included, shows it redacted."""
    fake_api.add_task(TASK, status=2)  # the injected answer starts nothing: it ended
    echoed = getattr(fake_api, secret)
    fake_api.inject("run", json_step(200, {"exec_id": echoed}))
    creds = (
        {"CODEARTS_TOKEN": fake_api.token}
        if secret == "token"
        else {"CODEARTS_TOKEN": "", "CODEARTS_AK": fake_api.ak, "CODEARTS_SK": fake_api.sk}
    )
    output = tmp_path / "out"
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": ""}
    run = gate(fake_api, tmp_path, "--run", "--branch", "", **creds, **ci)
    assert run.code == 0, run.stderr
    shown = [line for line in run.everything().splitlines() if not line.startswith("::add-mask")]
    assert echoed not in "\n".join(shown) and echoed not in output.read_text(encoding="utf-8")
    assert run.json["job_id"] == "***" and run.json["scan"]["job_id"] == "***"


@pytest.mark.parametrize("on_error", ["fail", "warn"])
def test_a_stop_that_fails_is_said_and_every_output_agrees(fake_api, tmp_path, on_error):
    task = fake_api.add_task(TASK, length=300.0)
    refused = json_step(200, _cc_body("CC.00050010", "no permission to stop\n::error::x"))
    fake_api.inject("stop", refused, refused, refused, refused, refused)
    run = gate(fake_api, tmp_path, "--run", "--cancel-on-timeout", "--timeout", "2.5",
               "--on-error", on_error)  # fmt: skip
    code = 4 if on_error == "fail" else 0
    assert run.code == code and run.json["exit_code"] == code, run.stderr
    message = run.json["error"]["message"]
    assert "stopping the scan failed" in message and "CC.00050010" in message
    assert "\n::error::x" not in run.stderr and task.running(fake_api.clock())
    assert run.junit.find("./testcase/error") is not None


def test_a_stop_that_outlives_its_budget_names_that_budget_not_the_timeout(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=300.0)
    fake_api.inject("stop", sleep_step(60.0, task_step()))  # answers after the budget
    run = gate(fake_api, tmp_path, "--run", "--cancel-on-timeout", "--timeout", "2")
    assert run.code == 4 and run.json["exit_code"] == 4, run.stderr
    message = run.json["error"]["message"]
    assert "did not finish within the stop's 5 s budget" in message, message
    assert "--timeout 5 s" not in message and "may still be running" in message
    assert len(fake_api.task_requests("stop")) == 1 and task.running(fake_api.clock())


def test_a_poll_error_that_ends_the_wait_stops_the_scan_with_cancel(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=300.0)
    ambiguous = b'{"task_status": 2, "task_status": 0}'  # a key twice: never read as an end
    fake_api.inject("progress", raw_step(200, ambiguous, "application/json"))
    run = gate(fake_api, tmp_path, "--run", "--cancel-on-timeout")
    assert run.code == 4 and "ambiguous" in run.stderr, run.stderr
    assert "was stopped (--cancel-on-timeout)" in run.stderr
    assert len(fake_api.task_requests("stop")) == 1 and task.state(fake_api.clock()) == 3


def test_a_fork_pull_request_starts_no_scan_of_a_same_named_branch(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=0.0)
    event = tmp_path / "event.json"
    pull = {"head": {"repo": {"full_name": "attacker/app"}}, "base": {"repo": {"full_name": "o/a"}}}
    event.write_text(json.dumps({"pull_request": pull}), encoding="utf-8")
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": "main", "GITHUB_EVENT_PATH": str(event)}
    run = gate(fake_api, tmp_path, "--run", **ci)
    assert run.code == 2 and "in a fork" in run.stderr and run.json["error"]["kind"] == "usage"
    assert len(fake_api.requests) == 0 and task.run_count == 0
