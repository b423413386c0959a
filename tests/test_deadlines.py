"""Every network call is under the deadline (issue 17): a service trickling one byte at a
time holds the gate no longer than ``--timeout``, whichever call it answers.

requests' read timeout restarts with every byte, so each call must be bounded as a whole:
the refresh, the IAM login of the defect fetch, ``defects-statistic``, ``defects-detail``
and ``log-detail``. The subprocess ``timeout=`` is only a guard against a hang; the
assertions are on what the gate says and writes.
"""

from __future__ import annotations

import threading

from fakeapi import (
    PASS_REPORT,
    FakeCodeArts,
    GeneratedDefects,
    Step,
    json_step,
    task_step,
    trickle_step,
)
from gaterun import JOB, clean_env, run_gate

from gate.api.http import Session
from gate.api.transport import Deadline, send
from gate.errors import DeadlineError

TASK = "7c0ffee0000000000000000000000001"
GUARD = 45.0
"""Seconds after which the test gives up on the subprocess (a hang, not an assertion)."""
PADDING = "x" * 400
"""Body bytes that take 200 s to trickle at 0.5 s each: past the fake's own bound of 60 s
and the guard, so a gate waiting for the whole body fails the test."""
STATISTIC = {"severity": {"critical": 0, "major": 3}, "status": {"unresolved": 3}, "p": PADDING}


def test_send_gives_up_at_the_deadline_on_a_trickled_body():
    """The unit: ``send`` itself is bounded, whoever calls it (the fake trickles one byte
    every 0.5 s, far past a 1 s deadline; requests alone would wait for each byte)."""
    body = json_step(200, {"x": PADDING}, auth=False)
    outcome: list[BaseException] = []

    def call() -> None:
        with Session() as http:
            try:
                send(http, f"{api.url}/v1/jobs/{JOB}/result/refresh", Deadline(1.0))
            except BaseException as err:  # judged on the test's thread
                outcome.append(err)

    with FakeCodeArts(scenario=[trickle_step(0.5, body)]) as api:
        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(GUARD)
        assert not worker.is_alive(), "send is still reading the trickle"
    [error] = outcome
    assert isinstance(error, DeadlineError) and "--timeout 1 s" in error.message


def defect_env(api: FakeCodeArts, **extra: str) -> dict[str, str]:
    return clean_env(
        CODEARTS_ENDPOINT=api.url,
        CODEARTS_TOKEN=api.token,
        CODEARTS_JOB_ID=JOB,
        CODEARTS_TASK_ID=TASK,
        **extra,
    )


def assert_defects_timed_out(run) -> None:
    """The verdict stands (a pass), and every output says the defect fetch ran out of time."""
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    error = run.json["defects"]["error"]
    assert "timeout" in error and "--timeout" in error, error
    assert "could not be fetched" in run.stderr and "timeout" in run.stderr
    assert "could not be fetched" in run.summary


def test_a_trickled_defects_statistic_ends_at_the_deadline(fake_api_factory, tmp_path):
    api = fake_api_factory(report=PASS_REPORT)
    api.defect_api.rows = GeneratedDefects(20)
    api.defect_api.statistic = [trickle_step(0.5, json_step(200, STATISTIC))]
    run = run_gate(tmp_path, "--defects", "--timeout", "3", env=defect_env(api), timeout=GUARD)
    assert_defects_timed_out(run)
    assert not [r for r in api.requests if r.path.endswith("/defects-detail")]


def test_a_trickled_defects_page_ends_at_the_deadline(fake_api_factory, tmp_path):
    api = fake_api_factory(report=PASS_REPORT)
    api.defect_api.rows = GeneratedDefects(20)
    api.defect_api.faults = {
        0: [trickle_step(0.5, json_step(200, {"total": 1, "defects": [], "p": PADDING}))]
    }
    run = run_gate(tmp_path, "--defects", "--timeout", "3", env=defect_env(api), timeout=GUARD)
    assert_defects_timed_out(run)


def test_a_trickled_iam_login_of_the_defect_fetch_ends_at_the_deadline(fake_api_factory, tmp_path):
    api = fake_api_factory(report=PASS_REPORT)
    api.defect_api.rows = GeneratedDefects(20)
    api.inject("iam", Step(), trickle_step(0.5))  # the refresh's login, then the fetch's
    env = clean_env(
        CODEARTS_ENDPOINT=api.url,
        CODEARTS_JOB_ID=JOB,
        CODEARTS_TASK_ID=TASK,
        CODEARTS_IAM_USER=api.iam_user,
        CODEARTS_IAM_PASSWORD=api.iam_password,
        CODEARTS_IAM_DOMAIN=api.iam_domain,
        CODEARTS_IAM_ENDPOINT=api.url,
    )
    run = run_gate(tmp_path, "--defects", "--timeout", "3", env=env, timeout=GUARD)
    assert api.login_count == 2
    assert_defects_timed_out(run)


def test_a_trickled_refresh_ends_in_exit_4_and_the_timeout_message(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario=[trickle_step(0.5)])
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    run = run_gate(tmp_path, "--timeout", "2", env=env, timeout=GUARD)
    assert run.code == 4 and run.json["error"]["kind"] == "timeout", run.stderr
    assert "within --timeout 2 s" in run.stderr


def test_a_trickled_check_log_ends_in_exit_4_at_the_deadline(fake_api, tmp_path):
    fake_api.add_task(TASK, length=0.0, outcome=1)
    fake_api.inject("log", trickle_step(0.5, task_step()))
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url,
        CODEARTS_TOKEN=fake_api.token,
        CODEARTS_TASK_ID=TASK,
        CODEARTS_CONSOLE_PROJECT_ID=fake_api.console_project_id,
    )
    run = run_gate(tmp_path, "--run", "--timeout", "4", env=env, timeout=GUARD)
    assert run.code == 4, run.stderr
    assert "the check log could not be read" in run.stderr
    assert "within --timeout 4 s" in run.stderr
