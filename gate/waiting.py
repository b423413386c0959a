"""Waiting for a scan to end: when to poll next, what the last answer said, when to stop.

No HTTP here. ``wait_for_scan`` is handed a ``poll`` call, a clock and a sleep, so its
timing is tested with a fake clock. Two schedules: ``AdaptiveSchedule`` (the gate's:
estimates the end from the progress ratio and polls near it, or polls every
max(~2 s, 10% of the time waited) when there is no ratio) and ``FixedSchedule`` (the
peers' fixed interval, kept for the benchmark).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from gate.core import ScanInfo
from gate.core import seconds_text as duration
from gate.errors import DeadlineError, TransientNetworkError, TransientServiceError
from gate.structs import field, record

if TYPE_CHECKING:
    from gate.records import History

log = logging.getLogger(__name__)

CHECKING, FAILED, SUCCEEDED, STOPPED = 0, 1, 2, 3
STATUS_WORDS = {
    CHECKING: "checking",
    FAILED: "check failed",
    SUCCEEDED: "check succeeded",
    STOPPED: "stopped",
    None: "never run",
}

FIRST_POLL = 1.0  # seconds after the run (or the start of the wait) before the first poll
MIN_GAP = 1.0  # never two polls closer than this
NO_RATIO_FLOOR = 1.9  # "about 2 s": the bar is 2 s after the end, a poll takes a few ms
NO_RATIO_SHARE = 0.1  # without a ratio, poll every 10% of the time waited so far
CAP = 15.0  # never more than this between two polls
RATIO_STEP = 0.01  # the ratio comes as a whole percentage: it lags the truth by < 1%


@record
class Progress:
    """One progress answer: ``status`` 0-3 or None (never ran), ``ratio`` 0..1 if given."""

    status: int | None
    ratio: float | None = None
    info: str | None = None
    retry_after: float | None = None

    @property
    def finished(self) -> bool:
        """True for every state but "checking": nothing more will change."""
        return self.status != CHECKING

    def describe(self) -> str:
        """``checking, 42% (info)``: the status word, the ratio and the service's free text."""
        text = STATUS_WORDS.get(self.status, f"status {self.status}")
        if self.ratio is not None:
            text += f", {self.ratio:.0%}"
        return text + (f" ({self.info})" if self.info else "")


class Schedule(Protocol):
    """When to poll next, given what the polls said so far."""

    def observe(self, now: float, progress: Progress) -> None:
        """Take note of one answer."""

    def next_delay(self, now: float) -> float:
        """Seconds from ``now`` to the next poll."""


@record(frozen=False)
class FixedSchedule:
    """Poll every ``interval`` seconds, whatever the service says (the peers' way)."""

    interval: float = 5.0

    def observe(self, now: float, progress: Progress) -> None:
        """Nothing to learn."""

    def next_delay(self, now: float) -> float:
        """Always the same interval."""
        return self.interval


@record(frozen=False)
class AdaptiveSchedule:
    """Few polls, and one soon after the end.

    With a ratio that advances, the end lies between two bounds (the ratio is a whole
    percentage, so it lags by less than one step): halve the time to the early bound,
    poll every ``MIN_GAP`` between the bounds, then back off if the scan overruns. With
    no ratio, poll every max(~2 s, 10% of the time waited), capped at ``CAP``.
    ``anchor`` is (time, 0.0) when the gate started the scan itself.
    """

    started: float
    anchor: tuple[float, float] | None = None
    points: list[tuple[float, float]] = field(default_factory=list)

    def observe(self, now: float, progress: Progress) -> None:
        """Keep the first time each new ratio value was seen (a drop starts afresh)."""
        ratio = progress.ratio
        if ratio is None:
            return
        if self.points and ratio < self.points[-1][1]:
            self.points.clear()
            self.anchor = None
        if not self.points or ratio > self.points[-1][1]:
            self.points.append((now, ratio))

    def bounds(self) -> tuple[float, float] | None:
        """(earliest, latest) plausible end of the scan, or None without two ratio points."""
        points = ([self.anchor] if self.anchor else []) + self.points
        if len(points) < 2:
            return None
        (t0, r0), (t1, r1) = points[0], points[-1]
        if t1 <= t0 or r1 <= r0:
            return None
        slow, fast = (r1 - r0) / (t1 - t0), (r1 + RATIO_STEP - r0) / (t1 - t0)
        return t0 + (1 - r0) / fast, t0 + (1 - r0) / slow

    def next_delay(self, now: float) -> float:
        """Seconds to the next poll (see the class docstring)."""
        bounds = self.bounds()
        if bounds is None:
            return min(CAP, max(NO_RATIO_FLOOR, NO_RATIO_SHARE * (now - self.started)))
        early, late = bounds
        if early - now > 2 * MIN_GAP:
            return min(CAP, (early - now) / 2)
        if now < late:
            return max(MIN_GAP, early - now)
        return min(CAP, max(MIN_GAP, (now - late) / 2))


def honoured(retry_after: float | None) -> float:
    """A ``Retry-After`` as the wait obeys it: at least ``MIN_GAP`` (``0`` would poll in a
    tight loop), at most ``4 * CAP`` (a year would never poll again); 0 when absent."""
    if retry_after is None:
        return 0.0
    return min(max(retry_after, MIN_GAP), 4 * CAP)


JITTER = random.Random()
"""The retries' own random numbers: the global ``random`` state stays the caller's (a
library must not draw from it; Hypothesis, for one, flags a test whose global random
state moves while it draws, as a retry thread of an earlier test did)."""


def failure_delay(failures: int, retry_after: float | None) -> float:
    """After a failed poll: ``Retry-After`` if given, else a jittered doubling from 2 s."""
    if retry_after is not None:
        return honoured(retry_after)
    ceiling: float = min(CAP, 2.0 * 2.0 ** (failures - 1))
    return ceiling / 2 + JITTER.uniform(0, ceiling / 2)


@record(frozen=False)
class ScanLog:
    """What the task flow learnt, filled in as it goes: read after a verdict or an error."""

    task_id: str
    source: str = "latest"
    job_id: str | None = None
    started_at: float | None = None
    wait_started: float | None = None
    wait_ended: float | None = None
    last: Progress | None = None
    polls: int = 0
    busy_answers: int = 0  # run answers "task is running" (another scan) before ours
    queued_seconds: float | None = None  # from the first run request to ours starting
    history: History | None = None
    """The task's past scans as ``checkrecord`` listed them before the wait (issue 16)."""
    started_utc: datetime | None = None
    """When the gate started the scan, on the wall clock (to tell it from past ones)."""
    history_error: str | None = None
    """Why the history could not be read, when the task flow tried."""

    def info(self, now: float) -> ScanInfo:
        """The frozen summary for the outputs."""
        end = self.wait_ended if self.wait_ended is not None else now
        waited = None if self.wait_started is None else end - self.wait_started
        scanned = None
        if self.started_at is not None and self.last is not None and self.last.finished:
            scanned = end - self.started_at
        status = STATUS_WORDS.get(self.last.status, "") if self.last else None
        return ScanInfo(
            self.task_id, self.source, self.job_id, status, scanned, waited, self.queued_seconds
        )


@record(frozen=False)
class Waiter:
    """The polling loop's tools: clock, sleep, the deadline and a heartbeat callback."""

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    ends_at: float
    timeout: float
    heartbeat: Callable[[Progress | None, float], None] = lambda _p, _e: None
    tick: float = 10.0

    def nap(self, seconds: float, scan: ScanLog) -> None:
        """Sleep ``seconds`` in slices of ``tick``, beating between them; time out at the end."""
        wake = self.clock() + seconds
        while (now := self.clock()) < wake:
            if now >= self.ends_at:
                raise self.timed_out(scan)
            self.sleep(min(wake - now, self.tick, self.ends_at - now))
            self.heartbeat(scan.last, self.clock() - (scan.wait_started or now))
        if self.clock() >= self.ends_at:
            raise self.timed_out(scan)

    def timed_out(self, scan: ScanLog) -> DeadlineError:
        """How long it waited and the last progress seen."""
        waited = self.clock() - (scan.wait_started or self.clock())
        last = scan.last.describe() if scan.last else "none (no progress answer)"
        return DeadlineError(
            f"the scan did not end within --timeout {self.timeout:g} s "
            f"(waited {duration(waited)}; last progress: {last})",
            hint="raise --timeout, or look at the task in the CodeArts Check console",
        )


def wait_for_scan(
    poll: Callable[[], Progress],
    schedule: Schedule,
    waiter: Waiter,
    scan: ScanLog,
    first: float = FIRST_POLL,
) -> Progress:
    """Poll until the scan is no longer checking; transient failures only delay the next poll.

    The first poll comes ``first`` seconds in. Raises ``DeadlineError`` at the deadline;
    any other error of ``poll`` ends the wait.
    """
    scan.wait_started = waiter.clock()
    delay, failures = first, 0
    while True:
        waiter.nap(delay, scan)
        asked = waiter.clock()  # the service read its state after this: the safe side
        try:
            progress = poll()
        except (TransientServiceError, TransientNetworkError) as err:
            failures += 1
            delay = failure_delay(failures, getattr(err, "retry_after", None))
            log.warning("progress poll failed (%s); next poll in %.1f s", err.message, delay)
            continue
        except DeadlineError:
            raise waiter.timed_out(scan) from None
        failures, scan.last, scan.polls = 0, progress, scan.polls + 1
        now = waiter.clock()
        schedule.observe(asked, progress)
        waiter.heartbeat(progress, now - scan.wait_started)
        if progress.finished:
            scan.wait_ended = now
            return progress
        # polls are spaced from start to start: a slow answer does not delay the next one
        delay = max(schedule.next_delay(asked) - (now - asked), honoured(progress.retry_after))


HISTORY_GAP = 1.4  # around the expected end without a ratio: a poll every 1.4 s (bar 1.5 s)
MIN_SPREAD = 0.1  # the window spans at least +-10% of the median: durations vary that much
WINDOW_MARGIN = 1.0  # seconds added on both sides of the window (HTTP, clock granularity)
SPREAD_SIGMAS = 3.0  # how far from the median an outlier is no longer "plausible"
MAD_TO_SIGMA = 1.4826  # the median absolute deviation of a normal law, in sigmas


@record
class Expectation:
    """What the task's past scans say of this one's length (seconds from its start).

    ``low``/``high``: the window the end should fall in, from the median and the spread
    (the min/max seen, at least +-``MIN_SPREAD``, at most ``SPREAD_SIGMAS`` robust sigmas
    from the median, so that one odd scan does not widen it), plus ``WINDOW_MARGIN``.
    """

    median: float
    low: float
    high: float
    p95: float
    scans: int

    @classmethod
    def of(cls, durations: list[float]) -> Expectation | None:
        """The expectation from past durations; None without any."""
        usable = sorted(d for d in durations if d >= 0)
        if not usable:
            return None
        median = percentile(usable, 0.5)
        sigma = MAD_TO_SIGMA * percentile(sorted(abs(d - median) for d in usable), 0.5)
        reach = SPREAD_SIGMAS * sigma
        below = max(MIN_SPREAD * median, min(median - usable[0], reach))
        above = max(MIN_SPREAD * median, min(usable[-1] - median, reach))
        return cls(
            median=median,
            low=max(0.0, median - below - WINDOW_MARGIN),
            high=median + above + WINDOW_MARGIN,
            p95=percentile(usable, 0.95),
            scans=len(usable),
        )

    def source(self) -> str:
        """``from the last 12 scans``."""
        return f"from the last {self.scans} scan{'' if self.scans == 1 else 's'}"


def percentile(ordered: list[float], share: float) -> float:
    """The ``share`` percentile of sorted values, interpolated between neighbours."""
    spot = share * (len(ordered) - 1)
    below = int(spot)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (spot - below)


@record(frozen=False)
class HistorySchedule:
    """The adaptive schedule told how long the task's scans take.

    Sparse (at most ``CAP`` apart; halving the time to the window with a ratio) until the earliest
    plausible end, dense (every ``HISTORY_GAP``, or ``MIN_GAP`` with a ratio) until the
    latest, then backing off as the ratio schedule does on an overrun. A ratio narrows
    the window when both agree; when they disagree the ratio's estimate wins.
    ``scan_started`` is on the wait's clock.
    """

    ratio: AdaptiveSchedule
    expected: Expectation
    scan_started: float

    def observe(self, now: float, progress: Progress) -> None:
        """The ratio's points, as the ratio schedule keeps them."""
        self.ratio.observe(now, progress)

    def window(self) -> tuple[float, float]:
        """(earliest, latest) plausible end: the history's, narrowed or overruled by the ratio."""
        low = self.scan_started + self.expected.low
        high = self.scan_started + self.expected.high
        ratio = self.ratio.bounds()
        if ratio is None:
            return low, high
        early, late = max(low, ratio[0]), min(high, ratio[1])
        return (early, late) if early <= late else ratio

    def expected_end(self) -> float:
        """The likeliest end: the median's, or the ratio's midpoint when it disagrees."""
        end = self.scan_started + self.expected.median
        early, late = self.window()
        return end if early <= end <= late else (early + late) / 2

    def next_delay(self, now: float) -> float:
        """Seconds to the next poll (see the class docstring)."""
        early, late = self.window()
        with_ratio = self.ratio.bounds() is not None
        gap = MIN_GAP if with_ratio else HISTORY_GAP
        if early - now > 2 * gap:  # a ratio's estimate sharpens as it goes: halve to it
            return min(CAP, (early - now) / 2 if with_ratio else early - now)
        if now < late:
            return gap if now >= early else max(MIN_GAP, early - now)
        return min(CAP, max(MIN_GAP, (now - late) / 2))

    def left(self, now: float) -> str:
        """``about 1 min 20 s left (from the last 12 scans)``, or how far past it is."""
        left = self.expected_end() - now
        if left >= 1:
            return f"about {duration(left)} left ({self.expected.source()})"
        usual = duration(self.expected.median)
        return f"longer than usual ({usual}, {self.expected.source()})"
