"""Every header and number parser is total (issue 17): any text, any number, any size ends
in a value or a ``GateError`` with its documented exit code, never a traceback.

Property tests feed arbitrary text (and absurd HTTP dates, digit strings past Python's
4,300-digit ``int`` limit, NaN, infinity) into each parser; end-to-end rows drive the
installed gate with such values from the service and from the user.
"""

from __future__ import annotations

import gc
import math
import socket
import threading

import pytest
from fakeapi import PASS_REPORT, FakeCodeArts, json_step, report_step
from gaterun import clean_env, run_gate
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.api.defects import expected_count, page_of
from gate.api.http import Session
from gate.api.tasks import ratio_of
from gate.api.transport import RETRY_AFTER_CAP, Deadline, parse_retry_after, send
from gate.defects import position, whole_number
from gate.errors import ExitCode, GateError, UsageError
from gate.policy import parse_assignment, parse_maximum
from gate.report import Report, decode_json
from gate.settings import timeout_of

EXAMPLES = 300
DAYS = ["Mon", "Tue", "", "Xyz"]
MONTHS = ["Jan", "Dec", "Foo", ""]
ZONES = ["GMT", "UTC", "+0000", "-2359", "+9999", "-99999999999", "EST", ""]
LONG_DIGITS = ["9" * 30, "9" * 4301, "1" * 10_000]


@st.composite
def http_dates(draw: st.DrawFn) -> str:
    """HTTP-date lookalikes with any year, day, time and zone (absurd ones included)."""
    year = draw(st.one_of(st.integers(-(10**30), 10**30), st.sampled_from(LONG_DIGITS)))
    day = draw(st.one_of(st.integers(-5, 40), st.sampled_from(LONG_DIGITS)))
    clock = draw(st.sampled_from(["00:00:00", "23:59:60", "99:99:99", "-1:00:00", "12:00"]))
    weekday, month = draw(st.sampled_from(DAYS)), draw(st.sampled_from(MONTHS))
    zone = draw(st.sampled_from(ZONES))
    return f"{weekday}, {day} {month} {year} {clock} {zone}".strip(", ")


header_texts = st.one_of(
    st.text(max_size=80),
    http_dates(),
    st.sampled_from([*LONG_DIGITS, "-1", "-0", "1e400", "nan", "inf", "²", "\x00"]),
    st.from_regex(r"\A[0-9]{1,40}\Z"),
)
number_texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from([*LONG_DIGITS, "nan", "NaN", "inf", "-inf", "1e400", "-0", "0", "off"]),
    st.from_regex(r"\A ?[+-]?[0-9]{0,30}(\.[0-9]{0,5})?(e[+-]?[0-9]{1,5})? ?\Z"),
)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([10**4000, -(10**4000), 2**63, math.inf, -math.inf, math.nan]),
    st.floats(),
    st.booleans(),
    st.none(),
    number_texts,
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(header_texts)
def test_any_retry_after_gives_a_bounded_delay_or_none(value):
    delay = parse_retry_after(value)
    assert delay is None or 0.0 <= delay <= RETRY_AFTER_CAP


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 01 Jan 10000000000000000000 00:00:00 GMT",  # raised OverflowError before
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 -2359",
        "Mon, 01 Jan 0001 00:00:00 +2359",
        "9" * 5000,
    ],
)
def test_absurd_retry_after_examples(value):
    delay = parse_retry_after(value)
    assert delay is None or 0.0 <= delay <= RETRY_AFTER_CAP


def test_a_huge_delay_in_digits_is_capped_not_infinite():
    assert parse_retry_after("9" * 5000) == RETRY_AFTER_CAP
    assert parse_retry_after(" 120 ") == 120.0


@settings(max_examples=EXAMPLES, deadline=None)
@given(number_texts)
def test_any_maximum_text_is_a_maximum_or_a_usage_error(text):
    try:
        maximum = parse_maximum(text, source="--max-major")
    except UsageError as err:
        assert len(err.message) < 200  # the text is shown cut, never whole
        return
    assert maximum is None or 0 <= maximum < 10**18


@pytest.mark.parametrize("digits", [19, 4301, 10_000])
def test_a_maximum_of_thousands_of_digits_is_a_usage_error(digits):
    with pytest.raises(UsageError, match="too large"):
        parse_maximum("9" * digits, source="--max-major")
    with pytest.raises(UsageError, match="too large"):
        parse_assignment("major=" + "9" * digits, source="--max")
    assert parse_maximum("0" * 30 + "7", source="--max-major") == 7


@settings(max_examples=EXAMPLES, deadline=None)
@given(number_texts)
def test_any_timeout_text_is_a_timeout_or_a_usage_error(text):
    try:
        seconds = timeout_of(text)
    except UsageError:
        return
    assert 0 < seconds <= 86400


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400", "9" * 5000, "1" * 400 + ".5"])
def test_absurd_timeouts_are_usage_errors(text):
    with pytest.raises(UsageError, match="--timeout"):
        timeout_of(text)


@settings(max_examples=EXAMPLES, deadline=None)
@given(numbers)
def test_the_service_number_readers_are_total(value):
    number = whole_number(value)
    assert number is None or number >= 0
    line = position(value)
    assert line is None or 0 <= line < 2**31
    ratio = ratio_of(value)
    assert ratio is None or 0.0 <= ratio <= 1.0
    try:
        count = Report({"critical": value}).count("critical")
    except GateError as err:
        assert err.exit_code == ExitCode.NO_VERDICT
    else:
        assert count >= 0


@settings(max_examples=EXAMPLES, deadline=None)
@given(numbers, numbers)
def test_the_defect_totals_are_read_totally(total, count):
    try:
        page = page_of({"total": total, "defects": []}, 0)
    except GateError:
        return
    assert page.total is None or page.total >= 0
    found = expected_count({"severity": {"critical": count}}, ("critical",))
    assert found is None or found >= 0


def test_a_total_of_1e400_is_read_as_unknown_with_its_reason():
    page = page_of(decode_json(b'{"total": 1e400, "defects": []}'), 0)
    assert page.total is None and page.total_problem is not None
    assert "1e400" in page.total_problem or "inf" in page.total_problem


# --------------------------------------------------------------------------- end to end


ABSURD_DATE = "Mon, 01 Jan 10000000000000000000 00:00:00 GMT"
TASK = "7c0ffee0000000000000000000000001"


def test_an_absurd_retry_after_on_a_pass_is_a_pass(tmp_path):
    with FakeCodeArts(
        scenario=[report_step(PASS_REPORT, headers=(("Retry-After", ABSURD_DATE),))]
    ) as api:
        env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token)
        run = run_gate(tmp_path, "--job-id", "a1", env=env)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr


def test_an_absurd_retry_after_while_a_started_scan_runs_never_leaves_it_running(
    fake_api, tmp_path
):
    task = fake_api.add_task(TASK, length=300.0)
    busy = {"error_code": "APIGW.0202", "error_msg": "Backend unavailable", "request_id": None}
    headers = {"Retry-After": ABSURD_DATE}
    fake_api.inject(
        "progress",
        json_step(503, busy, headers=headers),
        json_step(200, busy, headers=headers),
    )
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token, CODEARTS_TASK_ID=TASK
    )
    run = run_gate(tmp_path, "--run", "--timeout", "3", "--cancel-on-timeout", env=env)
    assert run.code == 4, run.stderr
    assert "Traceback" not in run.stderr
    assert "was stopped (--cancel-on-timeout)" in run.stderr
    assert len(fake_api.task_requests("stop")) == 1 and task.state(fake_api.clock()) == 3


@pytest.mark.parametrize(
    "args",
    [
        ("--max-major", "9" * 5000),
        ("--max", "critical=" + "9" * 5000),
        ("--timeout", "9" * 5000),
        ("--timeout", "nan"),
        ("--timeout", "inf"),
    ],
)
def test_absurd_numbers_from_the_user_are_exit_2_with_outputs(tmp_path, args):
    run = run_gate(tmp_path, "--job-id", "a1", *args, env=clean_env(CODEARTS_TOKEN="t" * 20))
    assert run.code == 2, run.stderr
    assert "Traceback" not in run.stderr and run.json["error"]["kind"] == "usage"
    assert len(run.stderr) < 2000


def raw_answer(head: bytes) -> str:
    """A one-shot server on loopback answering ``head`` and a ``{}`` body; its URL."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + head)
                conn.sendall(b"\r\n{}")

    threading.Thread(target=answer, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/x"


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Length: -1\r\n",
        b"Content-Length: " + b"9" * 5000 + b"\r\n",
        b"Content-Length: 1e400\r\n",
        b"Content-Length: 18446744073709551617\r\n",
        b"Content-Length: 2, 3\r\n",
        b"Content-Length: 2\r\nRetry-After: " + ABSURD_DATE.encode() + b"\r\n",
        b"Content-Length: 2\r\nRetry-After: \xff\xfe 1\r\n",
        b"Content-Length: 2\r\nRetry-After: " + b"9" * 5000 + b"\r\n",
    ],
    ids=[
        "cl-negative",
        "cl-5000-digits",
        "cl-float",
        "cl-2^64",
        "cl-two",
        "ra-year-10^19",
        "ra-latin1",
        "ra-5000-digits",
    ],
)
def test_any_size_or_delay_header_gives_an_answer_or_a_gate_error(head, monkeypatch):
    """Every answer the client refuses or reads closes its connection: no socket is left
    for a later test's garbage collection to find."""
    monkeypatch.setenv("NO_PROXY", "*")
    url = raw_answer(head)
    try:
        with Session() as http:
            answer = send(http, url, Deadline(10), method="GET")
    except GateError as err:
        assert err.exit_code == ExitCode.NO_VERDICT
    else:
        assert answer.status == 200
        assert answer.retry_after is None or 0 <= answer.retry_after <= RETRY_AFTER_CAP
    finally:
        gc.collect()
