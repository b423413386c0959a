"""The task's scan history (``checkrecord``): lenient parsing, the call against the local
fake (orders, shapes, errors with HTTP 200, a huge history), and the waits it informs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fakeapi import PASS_REPORT, FakeCodeArts, _cc_body, json_step, raw_step, report_step
from gaterun import clean_env, run_gate
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.api.history import task_history
from gate.api.transport import Deadline, build_session
from gate.errors import GateError, ServiceError
from gate.records import History, Record, history_of, parse_time
from gate.settings import RawOptions, build_settings

TASK = "7c0ffee0000000000000000000000016"
NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=timezone.utc)


def row(start: datetime, seconds: float | None, fmt: str = "%Y-%m-%dT%H:%M:%SZ", **counts):
    issue = {"critical": 0, "serious": 0, "normal": 0, "prompt": 0, **counts}
    out = {"check_time": start.strftime(fmt), "issue_counts": issue}
    if seconds is not None:
        out["check_end_time"] = (start + timedelta(seconds=seconds)).strftime(fmt)
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-07T01:02:03Z", datetime(2026, 12, 7, 1, 2, 3, tzinfo=timezone.utc)),
        ("2026-12-07 01:02:03", datetime(2026, 12, 7, 1, 2, 3, tzinfo=timezone.utc)),
        ("2026-12-07T09:02:03+08:00", datetime(2026, 12, 7, 1, 2, 3, tzinfo=timezone.utc)),
        ("2026-12-07 09:02:03+0800", datetime(2026, 12, 7, 1, 2, 3, tzinfo=timezone.utc)),
        ("2026-12-06T20:02:03.250-05:00", datetime(2026, 12, 7, 1, 2, 3, 250000, timezone.utc)),
        ("2026-12-07T01:02Z", datetime(2026, 12, 7, 1, 2, 0, tzinfo=timezone.utc)),
    ],
)
def test_times_are_read_leniently(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-02-31T00:00:00Z", 1733, None, "9" * 99])
def test_unreadable_times_are_none(text):
    assert parse_time(text) is None


@settings(max_examples=60, deadline=None)
@given(
    payload=st.recursive(
        st.none() | st.integers() | st.text(max_size=30),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
        max_leaves=20,
    )
)
def test_any_answer_is_a_history_or_a_service_error(payload):
    try:
        history = history_of(payload)
    except ServiceError:
        return
    assert isinstance(history, History)


def test_counts_as_strings_and_records_out_of_order_are_sorted():
    start = NOW - timedelta(hours=3)
    payload = {
        "total": "3",
        "data": [
            row(start + timedelta(hours=2), None),
            {**row(start, 100), "issue_counts": {"serious": "4", "normal": 7, "prompt": "x"}},
            row(start + timedelta(hours=1), 120, "%Y-%m-%d %H:%M:%S"),
        ],
    }
    history = history_of(payload)
    assert [r.started for r in history.records] == sorted(r.started for r in history.records)
    assert history.records[0].counts == {"major": 4, "minor": 7}
    assert history.durations() == [100.0, 120.0]
    assert history.running_since() == start + timedelta(hours=2)
    assert not history.cut


def fake_with_history(rows, order="newest") -> tuple[FakeCodeArts, object]:
    api = FakeCodeArts()
    api.add_task(TASK, history=rows, history_order=order)
    raw = RawOptions(task_id=TASK, token=api.token, endpoint=api.url)
    return api, build_settings(raw)


def fetch(api, settings, now=NOW):
    deadline = Deadline(30.0)
    with build_session(settings) as http:
        return task_history(
            http, settings, api.console_project_id, deadline, lambda _s: None, now=now
        )


@pytest.mark.parametrize("order", ["newest", "oldest", "given"])
@pytest.mark.parametrize("count", [1, 5, 40])
def test_histories_of_any_length_and_order_give_the_latest_20_durations(order, count):
    rows = [row(NOW - timedelta(days=1, hours=i), 100 + i) for i in range(count)]
    api, settings = fake_with_history(rows, order)
    with api:
        history = fetch(api, settings)
    [request] = api.task_requests("checkrecord")
    assert request.query["limit"] == ["1000"] and request.query["end_time"] == [
        "2026-12-07T12:00:00Z"
    ]
    assert request.query["start_time"] == ["2026-09-08T12:00:00Z"]  # 90 days back
    expected = [100.0 + i for i in range(min(count, 20))][::-1]
    assert history.durations() == expected


def test_a_huge_history_narrows_the_window_and_reads_one_bounded_answer_each():
    rows = [row(NOW - timedelta(minutes=5 * i + 5), 60) for i in range(3000)]
    api, settings = fake_with_history(rows)
    with api:
        history = fetch(api, settings)
    windows = [r.query["start_time"][0] for r in api.task_requests("checkrecord")]
    assert windows == ["2026-09-08T12:00:00Z", "2026-11-23T12:00:00Z", "2026-12-05T12:00:00Z"]
    assert len(history.records) == 576 and not history.cut  # 2 days of a scan every 5 min
    assert history.durations() == [60.0] * 20


@pytest.mark.parametrize(
    "step",
    [
        json_step(200, _cc_body("CC.00050010", "no permission")),
        json_step(200, {"total": 1, "data": "nope"}),
        raw_step(200, b"<html>", "text/html"),
    ],
)
def test_errors_with_http_200_are_errors_not_an_empty_history(step):
    api, settings = fake_with_history([row(NOW, 10)])
    with api:
        api.inject("checkrecord", step)
        with pytest.raises(GateError):
            fetch(api, settings)


def test_a_record_without_readable_start_is_skipped_and_an_end_before_start_has_no_duration():
    history = history_of(
        {"data": [{"check_time": "?"}, row(NOW, -5), {"check_time": "2026-12-07T00:00:00Z"}]}
    )
    assert len(history.records) == 2 and history.durations() == []
    assert Record(NOW, None).seconds is None


def gate(api, tmp_path, *args, **env):
    base = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_TASK_ID=TASK)
    return run_gate(tmp_path, *args, env={**base, **env})


def test_run_with_history_shows_the_estimate_and_warns_of_a_short_timeout(tmp_path):
    now = datetime.now(timezone.utc)
    rows = [row(now - timedelta(hours=i + 1), 2 + i % 3) for i in range(12)]
    with FakeCodeArts() as api:
        api.add_task(TASK, length=2.5, history=rows)
        run = gate(api, tmp_path, "--run", "--timeout", "5", "-v",
                   "--console-project-id", api.console_project_id)  # fmt: skip
    assert run.code == 0, run.stderr
    assert "scans of this task took up to 4.0 s; --timeout is 5.0 s" in run.stderr
    assert "left (from the last 12 scans)" in run.stderr
    assert run.stderr.count("scans of this task took up to") == 1


def test_run_reads_the_project_from_the_latest_report_and_says_so(tmp_path):
    now = datetime.now(timezone.utc)
    with FakeCodeArts() as api:
        api.report["REPORT_URL"] = (
            f"https://console.example/codecheck/project/{api.console_project_id}/task/x"
        )
        api.add_task(TASK, length=1.0, history=[row(now - timedelta(hours=1), 1.0)])
        run = gate(api, tmp_path, "--run", "-v")
        assert len(api.task_requests("checkrecord")) == 1
    assert run.code == 0, run.stderr
    assert "reading the CodeArts project from the task's latest report" in run.stderr


def test_no_history_keeps_todays_schedule_and_says_so_once(tmp_path):
    with FakeCodeArts() as api:
        api.scenario = [report_step({**PASS_REPORT, "REPORT_URL": "https://console.example/x"})]
        api.add_task(TASK, length=1.0)
        run = gate(api, tmp_path, "--run")
        assert api.task_requests("checkrecord") == []
    assert run.stderr.count("no scan history") == 1, run.stderr


def test_a_refused_history_keeps_todays_schedule(tmp_path):
    with FakeCodeArts(console_project_id="p1") as api:
        api.add_task(TASK, length=1.0)
        api.inject("checkrecord", json_step(200, _cc_body("CC.00050010", "no permission")))
        run = gate(api, tmp_path, "--run", "--console-project-id", "p1")
    assert run.code == 0 and run.stderr.count("no scan history") == 1
    assert "CC.00050010" in run.stderr


def test_a_scan_past_twice_its_usual_time_gets_one_warning(tmp_path):
    now = datetime.now(timezone.utc)
    rows = [row(now - timedelta(hours=i + 1), 1) for i in range(5)]
    with FakeCodeArts() as api:
        api.add_task(TASK, length=3.5, history=rows)
        run = gate(api, tmp_path, "--run", "--console-project-id", api.console_project_id)
    assert run.code == 0, run.stderr
    assert run.stderr.count("over twice its usual 1.0 s (from the last 5 scans)") == 1


def test_waiting_for_a_scan_under_way_takes_its_start_from_the_history(tmp_path):
    now = datetime.now(timezone.utc)
    rows = [row(now - timedelta(hours=i + 1), 4) for i in range(3)]
    with FakeCodeArts() as api:
        api.add_task(TASK, history=rows, running_for=3.0)
        run = gate(api, tmp_path, "--wait", "--console-project-id", api.console_project_id)
    assert run.code == 0, run.stderr
    assert "left (from the last 3 scans)" in run.stderr
    assert "start of the scan under way is not known" not in run.stderr


def test_the_heartbeat_shows_the_estimate_while_checking_only():
    import io

    from gate.heartbeat import Heartbeat
    from gate.waiting import Progress

    stream = io.StringIO()
    beat = Heartbeat(stream, "t", (), live=False)
    beat.use_estimate(lambda: "about 1 min 20 s left (from the last 12 scans)")
    beat(Progress(0, 0.4), 5.0)
    beat(Progress(2, 1.0), 90.0)
    first, last = stream.getvalue().splitlines()
    assert first == (
        "codearts-gate: task t: checking, 40%, about 1 min 20 s left (from the last 12 scans), "
        "5.0 s elapsed"
    )
    assert "left" not in last


def test_a_joined_scan_whose_start_is_unknown_keeps_todays_schedule(tmp_path):
    now = datetime.now(timezone.utc)
    with FakeCodeArts() as api:
        task = api.add_task(TASK, history=[row(now - timedelta(hours=1), 4)], running_for=2.0)
        task.run_walls.clear()  # the history does not list the scan under way
        run = gate(api, tmp_path, "--wait", "--console-project-id", api.console_project_id)
    assert run.code == 0, run.stderr
    assert run.stderr.count("the start of the scan under way is not known") == 1
