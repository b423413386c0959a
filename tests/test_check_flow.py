"""``--check`` tries every read-only call the chosen flow makes (the refresh; the progress
for --run/--wait; defects-statistic for defect outputs; log-detail when the CodeArts
project is known), against the local fake, and names the permission a refusal lacks."""

from __future__ import annotations

import signal
import subprocess
import time

from fakeapi import FakeCodeArts, _cc_body, json_step, sleep_step, task_step
from gaterun import GATE, JOB, clean_env

TASK = "7c0ffee0000000000000000000000001"


def check(api: FakeCodeArts, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = clean_env(**{"CODEARTS_ENDPOINT": api.url, "CODEARTS_TOKEN": api.token, **env})
    return subprocess.run(
        [str(GATE), "--check", *args], env=base, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def lines_of(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Step name -> its ``ok``/``FAIL`` line."""
    return lines_of_text(proc.stdout)


def lines_of_text(stdout: str) -> dict[str, str]:
    """Step name -> its ``ok``/``FAIL`` line, from the check's output."""
    steps = [line.split() for line in stdout.splitlines() if line.startswith("  ")]
    return {words[1]: " ".join(words) for words in steps}


def calls(api: FakeCodeArts) -> list[str]:
    return sorted({f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in api.requests})


def test_a_run_with_every_output_checks_every_read_only_call(fake_api, tmp_path):
    task = fake_api.add_task(TASK, status=2)
    proc = check(
        fake_api, "--task-id", TASK, "--run", "--sarif", str(tmp_path / "d.sarif"),
        "--console-project-id", fake_api.console_project_id,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = lines_of(proc)
    for name in ("api", "progress", "defects", "log"):
        assert steps[name].startswith("ok"), steps
    assert "check succeeded" in steps["progress"] and "defects-statistic read" in steps["defects"]
    assert calls(fake_api) == [
        "GET defects-statistic",
        "GET log-detail",
        "GET progress",
        "PUT refresh",
    ]  # no run, no stop: --check changes nothing
    assert task.run_count == 0 and not (tmp_path / "d.sarif").exists()


def test_a_known_job_checks_the_refresh_alone(fake_api):
    proc = check(fake_api, "--job-id", JOB)
    assert proc.returncode == 0, proc.stdout
    assert set(lines_of(proc)) >= {"api"} and "progress" not in lines_of(proc)
    assert calls(fake_api) == ["PUT refresh"]


def test_a_refused_permission_names_it_and_the_other_calls_are_still_tried(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.inject("progress", json_step(200, _cc_body("CC.00050010", "no permission")))
    proc = check(
        fake_api, "--task-id", TASK, "--wait", "--console-project-id",
        fake_api.console_project_id,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stdout
    steps = lines_of(proc)
    assert steps["api"].startswith("ok") and steps["log"].startswith("ok")
    assert steps["progress"].startswith("FAIL") and "CC.00050010" in steps["progress"]
    assert "missing: the permission to read the task's progress" in steps["progress"]
    assert "grant the IAM user the permission to read" in steps["progress"]
    assert "getReport" not in steps["progress"]
    assert "all checks passed" not in proc.stdout


def test_a_refused_report_names_the_iam_action(fake_api_factory):
    api = fake_api_factory(scenario=[json_step(200, _cc_body("CC.00050010", "no permission"))])
    proc = check(api, "--job-id", JOB)
    assert proc.returncode == 3
    assert "missing: the IAM action codeartscheck:task:getReport" in lines_of(proc)["api"]


def test_a_refused_token_stops_the_check_at_the_first_call(fake_api):
    fake_api.add_task(TASK, status=2)
    proc = check(fake_api, "--task-id", TASK, "--wait", CODEARTS_TOKEN="MIIEwrong-token-here")
    assert proc.returncode == 3
    steps = lines_of(proc)
    assert "expired or wrong" in steps["api"] and "progress" not in steps
    assert calls(fake_api) == ["PUT refresh"]


def test_a_call_that_hangs_ends_within_the_timeout(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.inject("progress", sleep_step(60.0, task_step()))
    started = time.monotonic()
    proc = check(fake_api, "--task-id", TASK, "--wait", "--timeout", "3")
    assert time.monotonic() - started < 20
    assert proc.returncode == 4, proc.stdout
    failed = lines_of(proc)["progress"]
    assert failed.startswith("FAIL") and "did not finish within --timeout 3 s" in failed


def test_a_signal_during_the_check_exits_as_a_shell_does(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.inject("progress", sleep_step(60.0, task_step()))
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    args = [str(GATE), "--check", "--task-id", TASK, "--wait"]
    with subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        deadline = time.monotonic() + 20
        while not fake_api.task_requests("progress"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=20)
    assert proc.returncode == 143, stdout
    assert "stopped by SIGTERM" in lines_of_text(stdout)["progress"]
