"""The waiting loop and its schedules, on a fake clock: no real sleep anywhere."""

from __future__ import annotations

from itertools import pairwise

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.errors import DeadlineError, ServiceError, TransientNetworkError, TransientServiceError
from gate.waiting import (
    CAP,
    AdaptiveSchedule,
    FixedSchedule,
    Progress,
    ScanLog,
    Waiter,
    wait_for_scan,
)


class FakeClock:
    """A clock that only moves when slept on; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class Scan:
    """A scan of ``length`` seconds from ``start``: answers progress like the service."""

    def __init__(self, clock: FakeClock, length: float, ratio: bool = True, outcome: int = 2):
        self.clock, self.start, self.length = clock, clock.now, length
        self.ratio, self.outcome = ratio, outcome
        self.polls: list[float] = []

    def __call__(self) -> Progress:
        now = self.clock.now
        self.polls.append(now)
        elapsed = now - self.start
        if elapsed >= self.length:
            return Progress(self.outcome, 1.0 if self.ratio else None, "success")
        share = min(99, int(100 * elapsed / self.length)) / 100
        return Progress(0, share if self.ratio else None, "checking")


def waiter(clock: FakeClock, timeout: float = 7200.0, **kw) -> Waiter:
    return Waiter(clock, clock.sleep, clock.now + timeout, timeout, **kw)


def wait(clock: FakeClock, scan: Scan, anchored: bool = True, **kw):
    schedule = AdaptiveSchedule(clock.now, (clock.now, 0.0) if anchored else None)
    log = ScanLog("t")
    result = wait_for_scan(scan, schedule, waiter(clock, **kw), log)
    return result, log


@pytest.mark.parametrize("length", [0.5, 3, 10, 47, 120, 600, 1800])
def test_a_steady_ratio_gets_a_poll_within_1_5_s_of_the_end(length):
    clock = FakeClock()
    scan = Scan(clock, length)
    result, log = wait(clock, scan)
    assert result.status == 2 and log.polls == len(scan.polls)
    assert scan.polls[-1] - (scan.start + length) <= 1.5
    assert all(b - a >= 1.0 - 1e-9 for a, b in pairwise(scan.polls))
    assert all(b - a <= CAP + 1e-9 for a, b in pairwise(scan.polls))


@settings(max_examples=examples(200), deadline=None)
@given(length=st.floats(min_value=0.1, max_value=3600), anchored=st.booleans())
def test_steady_ratio_property_soon_after_the_end_and_few_polls(length, anchored):
    clock = FakeClock()
    scan = Scan(clock, length)
    wait(clock, scan, anchored=anchored)
    end = scan.start + length
    late = scan.polls[-1] - end
    # joining a scan (no anchor), one ratio point is no estimate: the no-ratio bar holds
    assert late <= (1.5 if anchored else max(2.0, 0.1 * length)), scan.polls
    # at most one poll per 2 s of waiting, a handful in the first seconds aside
    assert len(scan.polls) - 6 <= (scan.polls[-1] - scan.start) / 2


@settings(max_examples=examples(200), deadline=None)
@given(length=st.floats(min_value=0.1, max_value=3600))
def test_without_a_ratio_the_end_is_seen_within_max_2_s_or_10_percent(length):
    clock = FakeClock()
    scan = Scan(clock, length, ratio=False)
    wait(clock, scan)
    late = scan.polls[-1] - (scan.start + length)
    assert late <= max(2.0, 0.1 * length)
    gaps = [b - a for a, b in pairwise(scan.polls)]
    assert all(1.9 - 1e-9 <= gap <= CAP + 1e-9 for gap in gaps)
    assert len(scan.polls) - 6 <= (scan.polls[-1] - scan.start) / 2


def test_no_ratio_interval_grows_with_the_time_waited_and_is_capped():
    schedule = AdaptiveSchedule(started=0.0)
    assert schedule.next_delay(5.0) == pytest.approx(1.9)
    assert schedule.next_delay(50.0) == pytest.approx(5.0)
    assert schedule.next_delay(1000.0) == CAP


def test_a_ratio_that_drops_starts_the_estimate_afresh():
    schedule = AdaptiveSchedule(started=0.0, anchor=(0.0, 0.0))
    schedule.observe(10.0, Progress(0, 0.5))
    assert schedule.bounds() is not None
    schedule.observe(12.0, Progress(0, 0.1))  # a new scan, or a new stage
    assert schedule.bounds() is None and schedule.points == [(12.0, 0.1)]


def test_fixed_schedule_polls_every_interval():
    clock = FakeClock()
    scan = Scan(clock, 23)
    wait_for_scan(scan, FixedSchedule(5.0), waiter(clock), ScanLog("t"))
    gaps = {round(b - a, 6) for a, b in pairwise(scan.polls)}
    assert gaps == {5.0}


def test_retry_after_of_a_progress_answer_is_honoured():
    clock = FakeClock()
    answers = iter([Progress(0, None, retry_after=30.0), Progress(2)])
    times = []

    def poll():
        times.append(clock.now)
        return next(answers)

    wait_for_scan(poll, AdaptiveSchedule(clock.now), waiter(clock), ScanLog("t"))
    assert times[1] - times[0] >= 30.0


def test_transient_poll_failures_are_retried_honouring_retry_after():
    clock = FakeClock()
    answers = [
        TransientServiceError("HTTP 503"),
        TransientServiceError("HTTP 429", retry_after=12.0),
        TransientNetworkError("connection reset"),
        Progress(2),
    ]
    times = []

    def poll():
        times.append(clock.now)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    log = ScanLog("t")
    result = wait_for_scan(poll, AdaptiveSchedule(clock.now), waiter(clock), log)
    assert result.status == 2 and len(times) == 4 and log.polls == 1
    assert times[2] - times[1] >= 12.0


def test_a_non_transient_poll_error_ends_the_wait():
    clock = FakeClock()

    def poll():
        raise ServiceError("HTTP 200, CC.00050013: project not exist")

    with pytest.raises(ServiceError, match=r"CC\.00050013"):
        wait_for_scan(poll, AdaptiveSchedule(clock.now), waiter(clock), ScanLog("t"))


def test_timeout_says_how_long_and_the_last_progress_and_stops_at_the_deadline():
    clock = FakeClock()
    started = clock.now
    scan = Scan(clock, 10_000)
    with pytest.raises(DeadlineError) as caught:
        wait_for_scan(
            scan, AdaptiveSchedule(clock.now, (clock.now, 0.0)), waiter(clock, 90.0), ScanLog("t")
        )
    message = caught.value.message
    assert "--timeout 90 s" in message and "waited 1 min 30 s" in message
    assert "last progress: checking, 0% (checking)" in message
    assert clock.now == pytest.approx(started + 90.0)


def test_the_heartbeat_beats_at_least_every_tick_while_sleeping():
    clock = FakeClock()
    beats: list[float] = []
    scan = Scan(clock, 300, ratio=False)
    w = waiter(clock, heartbeat=lambda _p, elapsed: beats.append(elapsed), tick=10.0)
    wait_for_scan(scan, AdaptiveSchedule(clock.now), w, ScanLog("t"))
    assert all(b - a <= 10.0 + 1e-9 for a, b in pairwise(beats))
    assert max(clock.sleeps) <= 10.0


def test_scan_log_reports_the_scan_and_the_wait():
    clock = FakeClock()
    log = ScanLog("t", source="started", job_id="j", started_at=clock.now)
    scan = Scan(clock, 42)
    wait_for_scan(scan, AdaptiveSchedule(clock.now, (clock.now, 0.0)), waiter(clock), log)
    info = log.info(clock.now + 5)
    assert info.job_id == "j" and info.status == "check succeeded"
    assert 42 <= info.scan_seconds <= 43.5 and info.wait_seconds == info.scan_seconds
    assert "job j (started by the gate) of task t; scan 4" in info.summary()


RETRY_AFTERS = st.sampled_from([0.0, 1e-9, 3600.0, 1e12, float("inf")]) | st.floats(0, 1e15)


@settings(max_examples=examples(100), deadline=None)
@given(retry_after=RETRY_AFTERS, failing=st.booleans())
def test_any_retry_after_neither_hammers_the_service_nor_stops_the_polls(retry_after, failing):
    """Retry-After 0 on every answer must not poll in a tight loop; a huge one must not
    keep the gate from seeing the end (the scan ends 10 min in, the wait allows 30)."""
    clock = FakeClock()
    scan = Scan(clock, 600, ratio=False)
    times = []

    def poll():
        times.append(clock.now)
        if failing and clock.now - scan.start < 600:
            raise TransientServiceError("HTTP 429", retry_after=retry_after)
        answer = scan()
        return Progress(answer.status, answer.ratio, answer.info, retry_after=retry_after)

    wait_for_scan(poll, AdaptiveSchedule(clock.now), waiter(clock, 1800.0), ScanLog("t"))
    assert all(b - a >= 1.0 - 1e-9 for a, b in pairwise(times))
    assert times[-1] - (scan.start + 600) <= 4 * CAP
