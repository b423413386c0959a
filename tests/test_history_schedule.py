"""The schedule that knows how long the task's scans take, on a fake clock (issue 16)."""

from __future__ import annotations

import statistics
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_waiting import FakeClock, Scan, waiter

from gate.waiting import (
    CAP,
    HISTORY_GAP,
    AdaptiveSchedule,
    Expectation,
    HistorySchedule,
    ScanLog,
    wait_for_scan,
)


def history_wait(clock: FakeClock, scan: Scan, durations: list[float]) -> HistorySchedule:
    expected = Expectation.of(durations)
    assert expected is not None
    schedule = HistorySchedule(AdaptiveSchedule(clock.now, (clock.now, 0.0)), expected, clock.now)
    wait_for_scan(scan, schedule, waiter(clock), ScanLog("t"))
    return schedule


def last_poll_before(polls: list[float], end: float) -> float:
    return max(p for p in polls if p < end)


BAND = st.floats(min_value=-0.1, max_value=0.1)


@settings(max_examples=150, deadline=None)
@given(
    median=st.floats(min_value=2.0, max_value=3600.0),
    spreads=st.lists(BAND, min_size=1, max_size=20),
    share=BAND,
)
def test_history_within_10_percent_puts_the_last_poll_within_1_5_s_of_the_end(
    median, spreads, share
):
    """The issue's property: past durations within +-10% of their median, a scan of the
    same kind (within +-10% of that median): the last poll before its end is at most 1.5 s
    before it, so the poll that sees the end follows it within 1.5 s."""
    durations = [median * (1 + s) for s in spreads]
    middle = statistics.median(durations)
    assume(all(abs(d - middle) <= 0.1 * middle for d in durations))
    clock = FakeClock()
    length = middle * (1 + share)
    scan = Scan(clock, length, ratio=False)
    history_wait(clock, scan, durations)
    end = scan.start + length
    assert end - last_poll_before(scan.polls, end) <= 1.5 + 1e-9, scan.polls
    assert scan.polls[-1] - end <= 1.5 + 1e-9
    assert all(b - a >= 1.0 - 1e-9 for a, b in pairwise(scan.polls))


@pytest.mark.parametrize("median", [30.0, 120.0, 600.0])
def test_history_polls_sparsely_before_the_window_and_fewer_than_fixed_5_s(median):
    clock = FakeClock()
    scan = Scan(clock, median, ratio=False)
    history_wait(clock, scan, [median * f for f in (0.9, 0.95, 1.0, 1.05, 1.1)])
    window_start = scan.start + 0.9 * median - 1.0
    early = [p for p in scan.polls if p < window_start - 1e-9]
    assert all(b - a <= CAP + 1e-9 for a, b in pairwise(scan.polls))
    assert len(early) <= 2 + median / CAP  # sparse: at most one per CAP, a few aside
    assert len(scan.polls) <= median / 5  # no more than fixed 5 s polling


def test_an_overrun_backs_off_as_today():
    clock = FakeClock()
    scan = Scan(clock, 400, ratio=False)
    history_wait(clock, scan, [100.0] * 5)
    late = [p for p in scan.polls if p > scan.start + 120]
    gaps = [b - a for a, b in pairwise(late)]
    assert gaps[-1] == pytest.approx(CAP) and max(gaps) <= CAP + 1e-9


def test_the_ratio_wins_when_it_disagrees_with_the_history():
    """History says 100 s; the steady ratio says 300 s: the dense polls go to 300 s."""
    clock = FakeClock()
    scan = Scan(clock, 300)
    history_wait(clock, scan, [100.0] * 5)
    assert scan.polls[-1] - (scan.start + 300) <= 1.5
    around_history = [p for p in scan.polls if 100 <= p - scan.start <= 115]
    assert len(around_history) <= 2  # no dense polling where the ratio says it is not the end


def test_a_ratio_that_agrees_narrows_the_window():
    schedule = HistorySchedule(AdaptiveSchedule(0.0, (0.0, 0.0)), Expectation.of([100.0] * 3), 0.0)
    assert schedule.window() == pytest.approx((89.0, 111.0))
    schedule.observe(50.0, __import__("gate.waiting").waiting.Progress(0, 0.5))
    early, late = schedule.window()
    assert early >= 98.0 and late <= 100.0 + 1e-9


def test_expectation_ignores_one_odd_scan_and_keeps_a_minimum_spread():
    steady = Expectation.of([100.0] * 19 + [5.0])
    assert steady is not None
    assert steady.low == pytest.approx(89.0) and steady.high == pytest.approx(111.0)
    assert steady.scans == 20 and steady.median == 100.0
    assert Expectation.of([]) is None


def test_time_left_is_told_from_the_history():
    schedule = HistorySchedule(AdaptiveSchedule(0.0), Expectation.of([80.0] * 12), 0.0)
    assert schedule.left(0.0) == "about 1 min 20 s left (from the last 12 scans)"
    assert schedule.left(200.0) == "longer than usual (1 min 20 s, from the last 12 scans)"


def test_dense_polls_are_at_most_one_a_second():
    schedule = HistorySchedule(AdaptiveSchedule(0.0), Expectation.of([60.0]), 0.0)
    assert schedule.next_delay(55.0) == HISTORY_GAP >= 1.0
