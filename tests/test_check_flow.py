"""``--check`` tries every read-only call the chosen flow makes (the refresh; the progress
for --run/--wait; defects-statistic for defect outputs; log-detail and checkrecord when the
CodeArts project is known; CodeArts' own gate; the task list of --tasks-for-repo; the
forge's comment list with --comment), against the local fakes, and names the permission a
refusal lacks."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from fakeapi import FakeCodeArts, _cc_body, json_step, sleep_step, task_step
from fakeforge import FakeForge, Fault
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
    for name in ("api", "progress", "defects", "log", "history", "gate"):
        assert steps[name].startswith("ok"), steps
    assert "check succeeded" in steps["progress"] and "defects-statistic read" in steps["defects"]
    assert "scan history read (checkrecord)" in steps["history"]
    assert "CodeArts' own gate passed" in steps["gate"]
    # review-data is docs-only: the fake's gateway does not know it, which is said, not failed
    assert steps["review"].startswith("warn") and "unconfirmed endpoint" in steps["review"]
    assert "APIGW.0101" in steps["review"]
    assert calls(fake_api) == [
        "GET checkrecord",
        "GET defects-statistic",
        "GET defects-summary",
        "GET log-detail",
        "GET progress",
        "GET review-data",
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


# ------------------------------------------------------------------ the calls of issues 14-16

REFUSED = _cc_body("CC.00050010", "no permission")


def project_args(api: FakeCodeArts) -> tuple[str, ...]:
    return ("--task-id", TASK, "--console-project-id", api.console_project_id)


def test_a_refused_history_names_its_permission_and_the_rest_is_tried(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.inject("checkrecord", json_step(200, REFUSED))
    proc = check(fake_api, *project_args(fake_api), "--baseline", "previous")
    assert proc.returncode == 3, proc.stdout
    steps = lines_of(proc)
    assert steps["history"].startswith("FAIL") and "CC.00050010" in steps["history"]
    assert "missing: the permission to read the task's scan history" in steps["history"]
    assert steps["gate"].startswith("ok") and "progress" not in steps
    assert "all checks passed" not in proc.stdout


def test_without_a_wait_or_a_previous_baseline_the_history_is_not_read(fake_api):
    fake_api.add_task(TASK, status=2)
    proc = check(fake_api, *project_args(fake_api))
    assert proc.returncode == 0, proc.stdout
    assert "history" not in lines_of(proc) and not fake_api.task_requests("checkrecord")


def test_a_refused_task_summary_fails_the_check(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.codearts_gate_api.summary_steps = [json_step(200, REFUSED)]
    proc = check(fake_api, "--task-id", TASK)
    assert proc.returncode == 3, proc.stdout
    gate = lines_of(proc)["gate"]
    assert gate.startswith("FAIL") and "missing: the permission to read the task's summary" in gate
    assert "review" not in lines_of(proc)  # no project id: the thresholds are not asked for


@pytest.mark.parametrize(
    ("review", "steps", "shown"),
    [
        (None, [json_step(200, REFUSED)], "CC.00050010"),
        ({"unexpected": True}, [], "a shape the gate does not know"),
    ],
)
def test_a_refused_review_data_is_an_unconfirmed_endpoint_not_a_failure(
    fake_api, review, steps, shown
):
    fake_api.add_task(TASK, status=2)
    fake_api.codearts_gate_api.review = review
    fake_api.codearts_gate_api.review_steps = steps
    proc = check(fake_api, *project_args(fake_api))
    assert proc.returncode == 0, proc.stdout
    line = lines_of(proc)["review"]
    assert line.startswith("warn") and "unconfirmed endpoint (docs-only" in line and shown in line
    assert "all checks passed" in proc.stdout


def test_review_data_that_answers_shows_the_thresholds(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.codearts_gate_api.review = {
        "reviewData": [{"name": "critical", "compareType": ">", "value": 0, "isCheck": 1}]
    }
    proc = check(fake_api, *project_args(fake_api))
    assert proc.returncode == 0, proc.stdout
    assert "thresholds read (review-data): 1 switched on" in lines_of(proc)["review"]


REPO_URL = "git@codehub.example:acme/repo.git"  # the fake tasks' git_url


def test_tasks_for_repo_lists_the_tasks_and_checks_the_one_found(fake_api):
    fake_api.add_task(TASK, status=2)
    proc = check(
        fake_api, "--tasks-for-repo", "--console-project-id", fake_api.console_project_id,
        "--wait", GIT_URL=REPO_URL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = lines_of(proc)
    assert steps["tasks"].startswith("ok") and TASK in steps["tasks"]
    assert f"task {TASK}" in steps["progress"]
    assert [r.path for r in fake_api.task_requests("progress")] == [f"/v2/tasks/{TASK}/progress"]


def test_a_refused_task_list_stops_the_check_naming_the_permission(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.task_list_steps = [json_step(200, REFUSED)]
    proc = check(
        fake_api, "--tasks-for-repo", "--console-project-id", fake_api.console_project_id,
        GIT_URL=REPO_URL,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    steps = lines_of(proc)
    assert steps["tasks"].startswith("FAIL") and "CC.00050010" in steps["tasks"]
    assert "missing: the permission to list the CodeArts project's tasks" in steps["tasks"]
    assert "api" not in steps  # no task to check without the list


def test_tasks_for_repo_matching_nothing_fails_the_check_as_a_usage_error(fake_api):
    fake_api.add_task(TASK, status=2)
    proc = check(
        fake_api, "--tasks-for-repo", "--console-project-id", fake_api.console_project_id,
        GIT_URL="https://example.com/other/repo.git",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout
    assert "none of the 1 tasks" in lines_of(proc)["tasks"]


@pytest.fixture
def forge():
    with FakeForge() as fake:
        yield fake


def github_pull_request(forge: FakeForge, tmp_path, **extra: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "octo/widgets",
        "GITHUB_API_URL": forge.url,
        "GITHUB_TOKEN": forge.token,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        **extra,
    }


def test_comment_lists_the_pull_requests_comments_and_writes_nothing(fake_api, forge, tmp_path):
    fake_api.add_task(TASK, status=2)
    proc = check(fake_api, "--task-id", TASK, "--comment", **github_pull_request(forge, tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = lines_of_text(proc.stdout.replace(forge.token, ""))["comment"]
    assert line.startswith("ok") and "pull request 7" in line and "pull-requests: write" in line
    [listed] = forge.requests
    assert (listed.method, listed.path) == ("GET", "/repos/octo/widgets/issues/7/comments")
    assert listed.query["per_page"] == ["1"] and forge.counts().get("POST", 0) == 0


def test_a_forbidden_github_token_names_the_missing_permission(fake_api, forge, tmp_path):
    fake_api.add_task(TASK, status=2)
    forge.faults.append(Fault(403, {}, {"message": "Resource not accessible by integration"}))
    proc = check(fake_api, "--task-id", TASK, "--comment", **github_pull_request(forge, tmp_path))
    assert proc.returncode == 3, proc.stdout
    line = lines_of(proc)["comment"]
    assert line.startswith("FAIL") and "HTTP 403" in line
    assert "missing: `permissions: pull-requests: write`" in line
    assert "expired or wrong" not in line  # the CodeArts token's words are not the forge's
    assert forge.token not in proc.stdout.replace(f"::add-mask::{forge.token}", "")


def test_a_refused_gitlab_token_names_the_api_scope(fake_api, forge):
    fake_api.add_task(TASK, status=2)
    env = {
        "GITLAB_CI": "true",
        "CI_MERGE_REQUEST_IID": "12",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": "a" * 40,
        "CI_COMMIT_SHA": "b" * 40,
        "CI_PROJECT_ID": "42",
        "CI_API_V4_URL": f"{forge.url}/api/v4",
        "CODEARTS_GITLAB_TOKEN": "glpat-not-the-right-one-0123",
    }
    proc = check(fake_api, "--task-id", TASK, "--comment", **env)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    line = lines_of(proc)["comment"]
    assert line.startswith("FAIL") and "HTTP 401" in line and "api scope" in line
    assert "CI_JOB_TOKEN cannot write notes" in line
    [listed] = forge.requests
    assert listed.path == "/api/v4/projects/42/merge_requests/12/notes"


def test_comment_without_a_token_fails_the_check_naming_it(fake_api, forge, tmp_path):
    fake_api.add_task(TASK, status=2)
    env = github_pull_request(forge, tmp_path, GITHUB_TOKEN="")
    proc = check(fake_api, "--task-id", TASK, "--comment", **env)
    assert proc.returncode == 2, proc.stdout
    assert "no GITHUB_TOKEN" in lines_of(proc)["comment"] and forge.requests == []


def test_a_hanging_forge_ends_the_check_within_the_timeout(fake_api, forge, tmp_path):
    fake_api.add_task(TASK, status=2)
    forge.faults.append(Fault(hang=True))
    started = time.monotonic()
    proc = check(
        fake_api, "--task-id", TASK, "--comment", "--timeout", "4",
        **github_pull_request(forge, tmp_path),
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert proc.returncode == 4, proc.stdout
    failed = lines_of(proc)["comment"]
    assert failed.startswith("FAIL") and "did not finish within --timeout 4 s" in failed


def test_tasks_for_repo_without_a_project_is_a_usage_error_before_any_call(fake_api):
    proc = check(fake_api, "--tasks-for-repo", GIT_URL=REPO_URL)
    assert proc.returncode == 2 and "--console-project-id" in proc.stderr
    assert [r.path for r in fake_api.requests] == []


def test_policy_codearts_is_checked_not_refused(fake_api):
    fake_api.add_task(TASK, status=2)
    proc = check(fake_api, "--task-id", TASK, "--policy", "codearts")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CodeArts' own gate passed" in lines_of(proc)["gate"]


def test_a_hanging_history_ends_the_check_within_the_timeout(fake_api):
    fake_api.add_task(TASK, status=2)
    fake_api.inject("checkrecord", sleep_step(60.0, task_step()))
    started = time.monotonic()
    proc = check(fake_api, *project_args(fake_api), "--wait", "--timeout", "4")
    assert time.monotonic() - started < 20
    assert proc.returncode == 4, proc.stdout
    failed = lines_of(proc)["history"]
    assert failed.startswith("FAIL") and "did not finish within --timeout 4 s" in failed
