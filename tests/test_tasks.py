"""The task endpoints against canned answers (tests/httpmock.py): shapes, HTTP-200 errors,
the no-second-scan rule."""

from __future__ import annotations

import json

import pytest
from budget import examples
from httpmock import mocked
from hypothesis import assume, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from test_hardening import ENCODINGS, FILLER, SECRETS, apart, pieces

from gate import text
from gate.api import http as client
from gate.api import scan, tasks
from gate.api.transport import Deadline, build_session
from gate.errors import (
    CredentialsError,
    GateError,
    Interrupted,
    NetworkError,
    ScanError,
    ServiceError,
    TransientNetworkError,
)
from gate.settings import RawOptions, build_settings
from gate.text import MIN_FRAGMENT
from gate.waiting import ScanLog

TOKEN = "tok-SECRET-3f9a"
ENDPOINT = "https://codearts-check.cn-north-4.myhuaweicloud.com"
TASK = "7c0ffee0000000000000000000000001"
BASE = f"{ENDPOINT}/v2/tasks/{TASK}"
EXEC = "9a" * 16


def settings(**changes: object):
    raw = {"task_id": TASK, "token": TOKEN, "run": "true", "branch": "", **changes}
    return build_settings(RawOptions(**raw))


def run(**changes):
    s = settings(**changes)
    with build_session(s) as http:
        return tasks.run_task(http, s, Deadline(30), lambda _s: None)


def test_run_posts_the_branch_and_returns_the_exec_id(http_mock):
    http_mock.post(f"{BASE}/run", json={"exec_id": EXEC})
    assert run(branch="feature/x") == EXEC
    request = http_mock.last_request
    assert request.json() == {"git_branch": "feature/x"}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Auth-Token"] == TOKEN


def test_run_without_branch_sends_an_empty_object(http_mock):
    http_mock.post(f"{BASE}/run", json={"exec_id": EXEC})
    assert run() == EXEC and http_mock.last_request.json() == {}


@pytest.mark.parametrize("status", [200, 400])
def test_task_is_running_is_not_an_error_but_no_exec_id(http_mock, status):
    body = {"error_code": "CC.00050015", "error_msg": "task is running"}
    http_mock.post(f"{BASE}/run", status_code=status, json=body)
    assert run() is None and http_mock.call_count == 1


@pytest.mark.parametrize(
    "body",
    [
        {"status": "failed", "exec_id": EXEC},
        {"status": "failed", "error_msg": "x", "exec_id": EXEC},
        {"error_code": "CC.00050015", "error_msg": "task is running", "exec_id": EXEC},
        {"error_code": "CC.00050010", "error_msg": "no permission", "exec_id": EXEC},
        {"status": "failed", "exec_id": 12345},  # not an id the gate can use, yet named
    ],
)
def test_a_failed_run_answer_that_names_an_exec_id_may_have_started_a_scan(http_mock, body):
    http_mock.post(f"{BASE}/run", json=body)
    with pytest.raises(ServiceError) as caught:
        run()
    assert type(caught.value) is ServiceError and caught.value.exit_code == 4
    named = str(body["exec_id"])
    assert "may have started a scan" in caught.value.message and named in caught.value.message
    assert http_mock.call_count == 1


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ({"error_code": "CC.00050010", "error_msg": "no permission"}, CredentialsError, "00050010"),
        ({"status": "failed", "error_code": "CC.00050006"}, ServiceError, "CC.00050006"),
        ({"exec_id": None}, ServiceError, "no usable exec_id"),
        ({"exec_id": "../x"}, ServiceError, "no usable exec_id"),
        ([], ServiceError, "no usable exec_id"),
        (f'{{"exec_id": "{EXEC}", "exec_id": "{EXEC[::-1]}"}}', ServiceError, "ambiguous"),
        ("<html>OK</html>", ServiceError, "not"),
    ],
)
def test_run_answers_with_http_200_that_are_errors(http_mock, body, error, words):
    if isinstance(body, str):
        http_mock.post(f"{BASE}/run", text=body)
    else:
        http_mock.post(f"{BASE}/run", json=body)
    with pytest.raises(error, match=words) as caught:
        run()
    if "exec_id" in words or isinstance(body, str):
        assert "may have started a scan" in caught.value.message and caught.value.hint


def test_run_is_sent_again_when_the_connection_never_opened(http_mock):
    http_mock.post(
        f"{BASE}/run",
        [
            {"exc": client.ConnectTimeout("connect timed out")},
            {"json": {"exec_id": EXEC}},
        ],
    )
    assert run() == EXEC and http_mock.call_count == 2


def test_run_is_sent_again_when_the_connection_was_refused(http_mock):
    wrapped = client.ConnectError("Connection refused")
    wrapped.__cause__ = ConnectionRefusedError(111, "Connection refused")
    http_mock.post(f"{BASE}/run", [{"exc": wrapped}, {"json": {"exec_id": EXEC}}])
    assert run() == EXEC and http_mock.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [
        client.ProtocolFailure("no answer (RemoteDisconnected)"),
        client.ReadTimeout("read timed out"),
        client.ProtocolFailure("the answer broke off (IncompleteRead)"),
    ],
    ids=["disconnected", "read-timeout", "broken-body"],
)
def test_run_is_never_sent_twice_once_the_request_may_have_left(http_mock, failure):
    http_mock.post(f"{BASE}/run", [{"exc": failure}, {"json": {"exec_id": EXEC}}])
    with pytest.raises(NetworkError, match="not sent again") as caught:
        run()
    assert http_mock.call_count == 1
    assert not isinstance(caught.value, TransientNetworkError)  # nothing above retries it


@pytest.mark.parametrize(
    ("body", "status", "ratio", "info"),
    [
        ({"task_status": 0, "progress": {"ratio": "42%", "info": "检查中"}}, 0, 0.42, "检查中"),
        ({"task_status": 2, "progress": {"ratio": "100%", "info": "success"}}, 2, 1.0, "success"),
        ({"task_status": "1", "progress": {"ratio": None, "info": None}}, 1, None, None),
        ({"task_status": None, "progress": {"ratio": None, "info": None}}, None, None, None),
        ({"task_status": 0, "progress": None}, 0, None, None),
        ({"task_status": 0, "progress": {"ratio": "12.5 %"}}, 0, 0.125, None),
        ({"task_status": 0, "progress": {"ratio": "abc%", "info": "  "}}, 0, None, None),
        ({"task_status": 0, "progress": {"ratio": "250%", "info": "a\nb"}}, 0, None, "a\\x0ab"),
    ],
)
def test_progress_reads_the_documented_body(body, status, ratio, info):
    progress = tasks.progress_of(body)
    assert (progress.status, progress.ratio, progress.info) == (status, ratio, info)


@pytest.mark.parametrize(
    "body",
    [{}, {"progress": {}}, {"task_status": 7}, {"task_status": True}, [], "x"]
    + [{"task_status": s} for s in ("9" * 5000, 2.0, "2.0", " 2", "02", "-0", [2])],
)
def test_progress_without_a_readable_status_is_an_error(body):
    with pytest.raises(ServiceError):
        tasks.progress_of(body)


def test_progress_error_with_http_200_is_raised_and_retry_after_is_kept(http_mock):
    http_mock.get(f"{BASE}/progress", json={"error_code": "CC.00050013", "error_msg": "x"})
    s = settings()
    with build_session(s) as http, pytest.raises(ServiceError, match=r"CC\.00050013"):
        tasks.task_progress(http, s, Deadline(30))
    http_mock.get(f"{BASE}/progress", json={"task_status": 0}, headers={"Retry-After": "9"})
    with build_session(s) as http:
        assert tasks.task_progress(http, s, Deadline(30)).retry_after == 9.0


@pytest.mark.parametrize("body", [b"null", b"", b"{}"])
def test_stop_accepts_null_empty_or_an_empty_object(http_mock, body):
    http_mock.post(f"{BASE}/stop", content=body)
    s = settings()
    with build_session(s) as http:
        tasks.stop_task(http, s, Deadline(30), lambda _s: None)
    assert http_mock.call_count == 1 and not http_mock.last_request.body


def test_stop_error_with_http_200_is_raised(http_mock):
    http_mock.post(f"{BASE}/stop", json={"error_code": "CC.00050000", "error_msg": "bad"})
    s = settings()
    with build_session(s) as http, pytest.raises(ServiceError, match=r"CC\.00050000"):
        tasks.stop_task(http, s, Deadline(30), lambda _s: None)


def test_log_tail_reads_the_last_lines_of_the_run(http_mock):
    project = "5e1f" * 8
    url = f"{ENDPOINT}/v2/{project}/tasks/{TASK}/log-detail"
    entries = [{"log": f"line {i}", "analysis": ""} for i in range(20)]
    entries.append({"log": "fatal: boom\n\n", "analysis": "the build failed"})
    http_mock.get(url, json={"param_info": {}, "log_info": [*entries, "junk", {"log": 3}]})
    s = settings(console_project_id=f"https://x.example/codecheck/project/{project}/task/y")
    with build_session(s) as http:
        lines = tasks.log_tail(http, s, EXEC, Deadline(30), lambda _s: None)
    assert lines[-2:] == ["fatal: boom", "the build failed"] and len(lines) == tasks.LOG_TAIL_LINES
    assert http_mock.last_request.qs == {"execute_id": [EXEC]}


def test_run_body_is_the_sdk_shape():
    assert json.loads(tasks.run_body("main")) == {"git_branch": "main"}
    assert json.loads(tasks.run_body(None)) == {}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
PROGRESSISH = st.fixed_dictionaries(
    {},
    optional={
        "task_status": JSON
        | st.sampled_from([0, 1, 2, 3, "2"])
        | st.builds(str.__mul__, st.sampled_from("0123"), st.integers(1, 6000)),
        "progress": JSON | st.fixed_dictionaries({}, optional={"ratio": JSON, "info": JSON}),
    },
)


@hyp_settings(max_examples=examples(300), deadline=None)
@given(body=PROGRESSISH | JSON)
def test_progress_of_any_body_is_a_progress_or_a_service_error(body):
    try:
        progress = tasks.progress_of(body)
    except ServiceError:
        return
    assert progress.status in (None, 0, 1, 2, 3)
    assert progress.ratio is None or 0.0 <= progress.ratio <= 1.0
    assert progress.info is None or ("\n" not in progress.info and len(progress.info) <= 200)


@hyp_settings(max_examples=examples(300), deadline=None)
@given(body=JSON)
def test_log_lines_of_any_body_are_single_lines(body):
    for line in tasks.log_lines({"log_info": body if isinstance(body, list) else [body]}):
        assert "\n" not in line and "\r" not in line and len(line) <= 300


@hyp_settings(max_examples=examples(300), deadline=None)
@given(
    secret=SECRETS,
    encoding=st.sampled_from(["plain", "url", "url-plus", "json", "html"]),
    width=st.integers(MIN_FRAGMENT, 80),
    before=FILLER,
    after=FILLER,
)
def test_a_secret_the_check_log_echoes_is_never_shown_even_wrapped(
    secret, encoding, width, before, after
):
    """The log echoes a credential in some form, whole or wrapped over several lines (each
    line a cut of it): no line shown holds a piece of it long enough to tell."""
    assume(apart(ENCODINGS[encoding](secret), before, after))
    text.use_secrets([secret])
    echoed = ENCODINGS[encoding](secret)
    wrapped = "\n".join(echoed[i : i + width] for i in range(0, len(echoed), width))
    log = {"log_info": [{"log": f"{before}{wrapped}{after}", "analysis": f"got {echoed}"}]}
    shown = tasks.log_lines(log, keep=1000)
    assert not any(piece in line for line in shown for piece in pieces(echoed)), shown


def test_only_the_tail_of_a_huge_check_log_is_folded(monkeypatch):
    folded = []
    monkeypatch.setattr(tasks, "one_line", lambda line, _limit: folded.append(line) or line)
    lines = tasks.log_lines({"log_info": [{"log": "x\n" * 200_000 + "last"}]})
    assert lines[-1] == "last" and len(folded) == len(lines) == tasks.LOG_TAIL_LINES


def test_waiting_for_an_interrupted_run_answer_and_the_stop_share_one_budget(monkeypatch):
    """A CI kills the job about 10 s after SIGTERM: awaiting the run's answer and then
    stopping the scan it started must fit in one ``STOP_BUDGET`` together."""
    clock = [100.0]

    class SlowAnswer:  # the run's answer comes 4 s after the signal
        def wait(self, timeout: float) -> bool:
            clock[0] += 4.0
            return True

    left: list[float] = []
    monkeypatch.setattr(
        scan, "cancel", lambda _f, err, budget: left.append(budget.remaining()) or err
    )
    s = settings(cancel_on_timeout="true")
    flow = scan.Flow(None, s, Deadline(30), scan.Tools(clock=lambda: clock[0]), ScanLog(TASK))
    scan.interrupted_run(
        flow, Interrupted("stopped by SIGTERM", signum=15), SlowAnswer(), scan.RunAnswer(EXEC)
    )
    assert left == [pytest.approx(scan.STOP_BUDGET - 4.0)] and flow.scan.job_id == EXEC


@pytest.mark.parametrize("envelope", [{"error_code": None}, {"error_code": "", "error_msg": None}])
def test_success_answers_carrying_a_null_error_code_are_not_errors(http_mock, envelope):
    http_mock.post(f"{BASE}/run", json={"exec_id": EXEC, **envelope})
    http_mock.get(f"{BASE}/progress", json={"task_status": 2, **envelope})
    http_mock.post(f"{BASE}/stop", json=envelope)
    s = settings()
    assert run() == EXEC
    with build_session(s) as http:
        assert tasks.task_progress(http, s, Deadline(30)).status == 2
        tasks.stop_task(http, s, Deadline(30), lambda _s: None)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_server_error_on_the_run_says_a_scan_may_have_started(http_mock, status):
    http_mock.post(f"{BASE}/run", status_code=status, text="<html>Gateway Timeout</html>")
    with pytest.raises(ServiceError, match="may have started a scan") as caught:
        run()
    assert f"HTTP {status}" in caught.value.message and http_mock.call_count == 1


def test_a_throttled_run_started_nothing_and_says_so_plainly(http_mock):
    body = {"error_code": "APIGW.0308", "error_msg": "throttled"}
    http_mock.post(f"{BASE}/run", status_code=429, json=body)
    with pytest.raises(ServiceError) as caught:
        run()
    assert "may have started" not in caught.value.message and http_mock.call_count == 1


def test_a_run_without_its_own_job_id_gates_nothing():
    """No report of another scan stands in for the run's: without its job id nothing is
    refreshed (the task's latest report may be someone else's scan). No session: a
    request would fail otherwise than with this error."""
    flow = scan.Flow(None, settings(), Deadline(30), scan.Tools(), ScanLog(TASK, "run"))
    with pytest.raises(ScanError, match="gave no job id: nothing to gate"):
        scan.refresh_gated(flow)


BUSY = {"error_code": "CC.00050015", "error_msg": "task is running"}
RUN_ANSWERS = {
    "busy": {"status_code": 200, "json": BUSY},
    "busy-400": {"status_code": 400, "json": BUSY},
    "ok": {"status_code": 200, "json": {"exec_id": EXEC}},
    "failed-with-id": {"status_code": 200, "json": {"status": "failed", "exec_id": EXEC}},
    "busy-with-id": {"status_code": 200, "json": {**BUSY, "exec_id": EXEC}},
    "bad-gateway": {"status_code": 502, "text": "<html>Bad Gateway</html>"},
    "refused": {"status_code": 200, "json": {"error_code": "CC.00050010", "error_msg": "no"}},
    "no-id": {"status_code": 200, "json": {"exec_id": None}},
}
BUSY_KINDS = ["busy", "busy-400"]
SETTLING = sorted(set(RUN_ANSWERS) - set(BUSY_KINDS))
MAYBE_STARTED = {"failed-with-id", "busy-with-id", "bad-gateway", "no-id"}


@hyp_settings(max_examples=examples(40), deadline=None)
@given(
    busy=st.lists(st.sampled_from(BUSY_KINDS), max_size=4),
    last=st.sampled_from(SETTLING),
    others_end=st.sampled_from([1, 2, 3]),
)
def test_only_a_clean_run_answer_after_busy_ones_is_gated(busy, last, others_end):
    """Any number of "task is running" answers, then any other answer: each busy answer is
    waited out and the run sent again; the job gated is the exec_id of a clean answer and
    nothing else; after any other answer no run request is sent again."""
    now = [0.0]
    tools = scan.Tools(clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    s = settings()
    with mocked() as mock, build_session(s) as http:
        mock.post(f"{BASE}/run", [RUN_ANSWERS[kind] for kind in [*busy, last]])
        mock.get(f"{BASE}/progress", json={"task_status": others_end, "progress": {}})
        flow = scan.Flow(http, s, Deadline(3600, tools.clock), tools, ScanLog(TASK, "run"))
        try:
            scan.start(flow)
            error = None
        except GateError as raised:
            error = raised
        posts = [r for r in mock.request_history if r.method == "POST"]
    assert len(posts) == len(busy) + 1  # one more only after each busy answer
    assert flow.scan.busy_answers == len(busy)
    assert (flow.scan.queued_seconds is not None) == bool(busy)
    if last == "ok":
        assert error is None and flow.scan.job_id == EXEC and flow.scan.source == "started"
    else:
        assert error is not None and flow.scan.job_id is None and flow.scan.source == "run"
        assert ("may have started a scan" in error.message) == (last in MAYBE_STARTED)


@pytest.mark.parametrize(
    ("method", "what", "permission"),
    [
        ("POST", "run", "the permission to run the check task"),
        ("GET", "progress", "the permission to read the task's progress"),
        ("POST", "stop", "the permission to stop the task's scan"),
    ],
)
@pytest.mark.parametrize(
    "refusal",
    [
        {"status_code": 200, "json": {"error_code": "CC.00050010", "error_msg": "no"}},
        {"status_code": 403, "json": {"error_code": "APIGW.0302", "error_msg": "denied"}},
    ],
)
def test_a_refused_task_call_names_the_permission_it_needs(
    http_mock, method, what, permission, refusal
):
    http_mock.register_uri(method, f"{BASE}/{what}", **refusal)
    s = settings()
    calls = {
        "run": lambda http: tasks.run_task(http, s, Deadline(30), lambda _s: None),
        "progress": lambda http: tasks.task_progress(http, s, Deadline(30)),
        "stop": lambda http: tasks.stop_task(http, s, Deadline(30), lambda _s: None),
    }
    with build_session(s) as http, pytest.raises(CredentialsError) as caught:
        calls[what](http)
    assert caught.value.hint == f"grant the IAM user {permission}"
    assert "getReport" not in str(caught.value)


def test_a_refused_token_on_a_task_call_keeps_its_credentials_hint(http_mock):
    body = {"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication"}
    http_mock.get(f"{BASE}/progress", status_code=401, json=body)
    s = settings()
    with build_session(s) as http, pytest.raises(CredentialsError) as caught:
        tasks.task_progress(http, s, Deadline(30))
    assert caught.value.identity and "permission" not in (caught.value.hint or "")
