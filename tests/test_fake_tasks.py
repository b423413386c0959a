"""The fake's task endpoints behave as section 3 of the API notes says (tested with plain
requests, so a gate bug cannot hide a fake bug)."""

from __future__ import annotations

import requests
from fakeapi import RIVAL_BRANCH, FakeCodeArts, json_step

TASK = "7c0ffee0000000000000000000000001"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def call(api: FakeCodeArts, method: str, path: str, **kw) -> requests.Response:
    headers = {"X-Auth-Token": api.token, **kw.pop("headers", {})}
    return requests.request(method, api.url + path, headers=headers, timeout=10, **kw)


def test_a_scan_runs_reports_progress_and_ends_at_its_time():
    clock = Clock()
    with FakeCodeArts(clock=clock) as api:
        task = api.add_task(TASK, length=100.0)
        assert call(api, "GET", f"/v2/tasks/{TASK}/progress").json() == {
            "task_status": None,
            "progress": {"ratio": None, "info": None},
        }
        exec_id = call(api, "POST", f"/v2/tasks/{TASK}/run", json={"git_branch": "b"}).json()
        assert exec_id == {"exec_id": task.exec_ids[0]} and task.branches == ["b"]
        clock.now = 42.5
        body = call(api, "GET", f"/v2/tasks/{TASK}/progress").json()
        assert body["task_status"] == 0 and body["progress"]["ratio"] == "42%"
        busy = call(api, "POST", f"/v2/tasks/{TASK}/run", json={})
        assert busy.status_code == 200 and busy.json()["error_code"] == "CC.00050015"
        refresh = call(
            api, "PUT", f"/v1/jobs/{task.exec_ids[0]}/result/refresh?task_id=&async=false"
        )
        assert refresh.json()["error_code"] == "CC.00050000"  # not ready: refused
        clock.now = 100.0
        body = call(api, "GET", f"/v2/tasks/{TASK}/progress").json()
        assert body == {"task_status": 2, "progress": {"ratio": "100%", "info": "success"}}
        assert len(task.exec_ids) == 1


def test_stop_answers_null_and_the_scan_is_stopped():
    clock = Clock()
    with FakeCodeArts(clock=clock) as api:
        task = api.add_task(TASK, length=100.0, running_for=100.0)
        stop = call(api, "POST", f"/v2/tasks/{TASK}/stop")
        assert stop.status_code == 200 and stop.content == b"null"
        assert call(api, "GET", f"/v2/tasks/{TASK}/progress").json()["task_status"] == 3
        assert task.state(clock()) == 3


def test_requests_are_refused_without_credentials_and_bad_run_bodies_with_400():
    with FakeCodeArts() as api:
        api.add_task(TASK)
        anonymous = requests.get(f"{api.url}/v2/tasks/{TASK}/progress", timeout=10)
        assert anonymous.status_code == 401 and anonymous.json()["error_code"] == "APIGW.0301"
        bad = call(api, "POST", f"/v2/tasks/{TASK}/run", json={"git_branch": 3})
        assert bad.status_code == 400
        unknown = call(api, "GET", "/v2/tasks/nope/progress")
        assert unknown.status_code == 200 and unknown.json()["error_code"] == "CC.00050000"


def test_log_detail_needs_the_codearts_project_and_a_known_run():
    with FakeCodeArts() as api:
        task = api.add_task(TASK, outcome=1)
        call(api, "POST", f"/v2/tasks/{TASK}/run", json={})
        base = f"/v2/{api.console_project_id}/tasks/{TASK}/log-detail"
        body = call(api, "GET", base, params={"execute_id": task.exec_ids[0]}).json()
        assert body["log_info"][-1]["level"] == "error" and "param_info" in body
        wrong = call(api, "GET", f"/v2/{'0' * 32}/tasks/{TASK}/log-detail").json()
        assert wrong["error_code"] == "CC.00050013"
        unknown = call(api, "GET", base, params={"execute_id": "x"}).json()
        assert unknown["error_code"] == "CC.00050000"


def test_injected_answers_come_first_then_the_task_answers_again():
    with FakeCodeArts() as api:
        api.add_task(TASK, status=2)
        api.inject("progress", json_step(503, {"error_code": "APIGW.0202", "error_msg": "x"}))
        first = call(api, "GET", f"/v2/tasks/{TASK}/progress")
        second = call(api, "GET", f"/v2/tasks/{TASK}/progress")
        assert (first.status_code, second.json()["task_status"]) == (503, 2)
        assert len(api.task_requests("progress")) == 2


def test_a_rival_pipeline_wins_the_race_for_an_idle_task_once_per_rival():
    clock = Clock()
    with FakeCodeArts(clock=clock) as api:
        task = api.add_task(TASK, length=10.0, rivals=[5.0])
        busy = call(api, "POST", f"/v2/tasks/{TASK}/run", json={"git_branch": "mine"})
        assert busy.json()["error_code"] == "CC.00050015" and task.branches == [RIVAL_BRANCH]
        assert call(api, "GET", f"/v2/tasks/{TASK}/progress").json()["task_status"] == 0
        clock.now = 5.0
        assert call(api, "GET", f"/v2/tasks/{TASK}/progress").json()["task_status"] == 2
        ours = call(api, "POST", f"/v2/tasks/{TASK}/run", json={"git_branch": "mine"}).json()
        assert ours == {"exec_id": task.exec_ids[1]} and task.branches == [RIVAL_BRANCH, "mine"]
        assert task.rivals == [] and task.run_count == 2
