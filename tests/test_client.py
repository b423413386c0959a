"""The HTTP client against canned answers (tests/httpmock.py): the call, retries, error
mapping, redirects."""

from __future__ import annotations

import email.utils
import time

import pytest

from gate import __version__
from gate.api import http as client
from gate.api.refresh import fetch_report
from gate.api.transport import MAX_ATTEMPTS, backoff, parse_retry_after
from gate.errors import (
    CredentialsError,
    ExitCode,
    NetworkError,
    ReportError,
    ServiceError,
)
from gate.settings import RawOptions, build_settings

TOKEN = "tok-SECRET-3f9a"
ENDPOINT = "https://codearts-check.cn-north-4.myhuaweicloud.com"
JOB = "2b31ed520aaaaaaebedb6e57bbbbbbbb"
URL = f"{ENDPOINT}/v1/jobs/{JOB}/result/refresh"
GOOD = {"status": "success", "httpStatus": "OK", "result": {"critical": 0, "major": 1}}


def settings(**changes: object):
    return build_settings(RawOptions(**{"job_id": JOB, "token": TOKEN, **changes}))


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def fetch(sleeps: Sleeps, **changes: object):
    return fetch_report(settings(**changes), sleep=sleeps)


def test_one_put_with_documented_shape(http_mock, sleeps):
    http_mock.put(URL, json=GOOD)
    report = fetch(sleeps)
    assert report.count("major") == 1
    assert http_mock.call_count == 1
    request = http_mock.last_request
    assert request.method == "PUT"
    assert request.qs == {"task_id": [""], "async": ["false"]}
    assert "task_id=&" in request.url or request.url.endswith("task_id=")
    assert request.headers["X-Auth-Token"] == TOKEN
    assert request.headers["Accept"] == "application/json"
    assert f"codearts-gate/{__version__}" in request.headers["User-Agent"]
    assert sleeps == []


def test_task_id_is_sent(http_mock, sleeps):
    http_mock.put(URL, json=GOOD)
    fetch(sleeps, task_id="task42")
    assert http_mock.last_request.qs["task_id"] == ["task42"]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(http_mock, sleeps, status):
    http_mock.put(URL, [{"status_code": status, "text": "busy"}, {"json": GOOD}])
    assert fetch(sleeps).count("critical") == 0
    assert http_mock.call_count == 2
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 0.5


@pytest.mark.parametrize("code", ["CC.00050012", "CC.00000000"])
def test_retry_later_envelopes_with_200_are_retried(http_mock, sleeps, code):
    busy = {"status": "failed", "error_code": code, "error_msg": "network busy"}
    http_mock.put(URL, [{"json": busy}, {"json": GOOD}])
    fetch(sleeps)
    assert http_mock.call_count == 2


def test_retry_after_is_honoured(http_mock, sleeps):
    limited = {
        "status_code": 429,
        "headers": {"Retry-After": "2"},
        "json": {"error_code": "APIGW.0308"},
    }
    http_mock.put(URL, [limited, {"json": GOOD}])
    fetch(sleeps)
    assert sleeps == [2.0]


def test_attempts_are_bounded(http_mock, sleeps):
    http_mock.put(URL, status_code=503, text="down")
    with pytest.raises(ServiceError, match=f"gave up after {MAX_ATTEMPTS} attempts") as caught:
        fetch(sleeps)
    assert http_mock.call_count == MAX_ATTEMPTS
    assert caught.value.exit_code is ExitCode.NO_VERDICT
    assert sleeps == sorted(sleeps)


def test_no_retry_when_the_wait_would_pass_the_deadline(http_mock, sleeps):
    http_mock.put(URL, status_code=429, headers={"Retry-After": "600"})
    with pytest.raises(ServiceError, match="HTTP 429"):
        fetch(sleeps, timeout="5")
    assert http_mock.call_count == 1 and sleeps == []


def test_connection_errors_are_retried(http_mock, sleeps):
    http_mock.put(URL, [{"exc": client.ConnectError("refused")}, {"json": GOOD}])
    fetch(sleeps)
    assert http_mock.call_count == 2


def test_read_timeouts_are_retried_then_reported(http_mock, sleeps):
    http_mock.put(URL, exc=client.ReadTimeout("slow"))
    with pytest.raises(NetworkError, match="did not answer in time"):
        fetch(sleeps)
    assert http_mock.call_count == MAX_ATTEMPTS


# What the client's ProxyFailure says for an unreachable proxy (the socket's error) and for
# a CONNECT answered 407 (http.client's words), each beside a port that contains "407" (a
# CI run once drew port 34073): only the tunnel's status counts.
UNREACHABLE_PROXY = "[Errno 111] Connection refused (proxy 127.0.0.1:34073)"
PROXY_WANTS_AUTH = "Tunnel connection failed: 407 Proxy Authentication Required"


@pytest.mark.parametrize(
    ("text", "expected"),
    [(UNREACHABLE_PROXY, "cannot reach"), (PROXY_WANTS_AUTH, "asked for authentication")],
)
def test_proxy_407_is_told_apart_from_a_port_number(http_mock, sleeps, monkeypatch, text, expected):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    http_mock.put(URL, exc=client.ProxyFailure(text))
    with pytest.raises(NetworkError, match=expected):
        fetch(sleeps)


def test_tls_failure_names_host_and_fix(http_mock, sleeps):
    http_mock.put(URL, exc=client.TlsError("bad cert"))
    with pytest.raises(NetworkError, match="TLS verification of codearts-check") as caught:
        fetch(sleeps)
    assert "CA" in str(caught.value) and http_mock.call_count == 1


@pytest.mark.parametrize("status", [400, 404, 409])
def test_other_4xx_are_not_retried(http_mock, sleeps, status):
    http_mock.put(URL, status_code=status, json={"error_code": "CC.00050000", "error_msg": "bad"})
    with pytest.raises(ServiceError, match=f"HTTP {status}, CC.00050000: bad"):
        fetch(sleeps)
    assert http_mock.call_count == 1


def test_expired_token_is_exit_3_with_fix_and_request_id(http_mock, sleeps):
    body = {"error_code": "CC.00000003", "error_msg": "Authentication information expired."}
    http_mock.put(URL, status_code=401, json=body, headers={"X-Request-Id": "req-77"})
    with pytest.raises(CredentialsError) as caught:
        fetch(sleeps)
    message = str(caught.value)
    assert caught.value.exit_code is ExitCode.CREDENTIALS_REFUSED
    assert "HTTP 401, CC.00000003: Authentication information expired." in message
    assert "request id req-77" in message and "fetch a new one" in message
    assert TOKEN not in message


@pytest.mark.parametrize("status", [401, 403])
def test_401_403_without_body_are_credentials(http_mock, sleeps, status):
    http_mock.put(URL, status_code=status, text="")
    with pytest.raises(CredentialsError):
        fetch(sleeps)


def test_error_envelope_with_200_is_not_a_pass(http_mock, sleeps):
    http_mock.put(URL, json={"status": "failed", "error_code": "CC.00050006", "error_msg": "inner"})
    with pytest.raises(ServiceError, match=r"CC\.00050006"):
        fetch(sleeps)
    assert http_mock.call_count == 1


def test_async_answer_without_result_is_an_error(http_mock, sleeps):
    http_mock.put(URL, json={"status": "success", "httpStatus": "OK"})
    with pytest.raises(ReportError, match="no 'result'"):
        fetch(sleeps)


def test_non_json_body_names_content_type(http_mock, sleeps):
    http_mock.put(URL, text="<html>hi</html>", headers={"Content-Type": "text/html"})
    with pytest.raises(ReportError, match=r"text/html body .*<html>hi</html>"):
        fetch(sleeps)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_refused_naming_the_target(http_mock, sleeps, status):
    http_mock.put(URL, status_code=status, headers={"Location": "https://evil.example/x"})
    http_mock.put("https://evil.example/x", json=GOOD)
    with pytest.raises(NetworkError, match=r"redirected .* to https://evil\.example/x"):
        fetch(sleeps)
    assert [r.hostname for r in http_mock.request_history] == [
        "codearts-check.cn-north-4.myhuaweicloud.com"
    ]


def test_oversized_body_is_refused(http_mock, sleeps):
    http_mock.put(URL, content=b" " * (10 * 1024 * 1024 + 1))
    with pytest.raises(NetworkError, match="larger than 10 MiB"):
        fetch(sleeps)


def test_retries_stop_inside_the_deadline(http_mock):
    http_mock.put(URL, status_code=503)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(ServiceError, match="HTTP 503"):
        fetch_report(settings(timeout="3"), sleep=sleep, clock=lambda: now[0])
    assert now[0] < 3
    assert 2 <= http_mock.call_count < MAX_ATTEMPTS


def test_backoff_grows_with_jitter_and_is_capped():
    for attempt in range(1, 8):
        delay = backoff(attempt, None)
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert backoff(3, 7.0) == 7.0


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    parsed = parse_retry_after(later)
    assert parsed is not None and 50 < parsed <= 60
