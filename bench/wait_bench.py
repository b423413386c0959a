"""Benchmark of waiting for a scan: how soon the verdict request follows the end of the
scan, and how many progress requests the wait costs, for the gate's polling told the
task's past durations (checkrecord), the same without them, and fixed 5 s polling (the
SonarQube action's interval), side by side.

The real code path (``gate.api.scan.gate_task``: run POST, progress polls, refresh PUT)
talks HTTP to the local fake API. Scans end at random times (seeded, so reruns draw the
same lengths). To keep the run to about a minute, the gate and the fake share a scaled
clock: ``SCALE`` simulated seconds pass per real second, and every case runs at once in
its own thread. Latency is measured by the fake: the arrival of the refresh request
minus the scan's end, both on the shared clock. HTTP and thread scheduling cost real
milliseconds that the scale multiplies, so the figures err on the slow side.

Rerun: ``.venv/bin/python bench/wait_bench.py`` (updates its section of bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import os
import random
import statistics
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from fakeapi import FakeCodeArts  # noqa: E402

from bench import machine  # noqa: E402 - after the path set-up
from gate.api.scan import Tools, gate_task  # noqa: E402
from gate.settings import RawOptions, build_settings  # noqa: E402
from gate.waiting import AdaptiveSchedule, FixedSchedule, ScanLog, Schedule  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "3"))
CASES = int(os.environ.get("BENCH_CASES", "25"))  # scan lengths per ratio mode
SHORTEST, LONGEST = 5.0, 300.0  # simulated seconds
SEED = 8
RESULTS = REPO / "bench" / "RESULTS.md"
MARK, END_MARK = "<!-- wait-bench -->", "<!-- /wait-bench -->"


def clock() -> float:
    """The shared simulated clock."""
    return time.monotonic() * SCALE


def sleep(seconds: float) -> None:
    """Sleep simulated seconds."""
    time.sleep(seconds / SCALE)


def adaptive(started: float, anchor: tuple[float, float] | None) -> Schedule:
    return AdaptiveSchedule(started, anchor)


def fixed(_started: float, _anchor: tuple[float, float] | None) -> Schedule:
    return FixedSchedule(5.0)


OURS = "history (codearts-gate)"
SCHEDULES = {OURS: adaptive, "adaptive, no history": adaptive, "fixed 5 s": fixed}
"""The gate with the task's history (+-10% around the scan's median), the gate before
issue 16 (same code, an empty history), and fixed 5 s polling."""
PAST_SCANS = 20
SPREAD = 0.1  # past durations and the scan itself lie within +-10% of the median


def past_scans(length: float, draw: random.Random) -> list[dict[str, Any]]:
    """``PAST_SCANS`` checkrecord rows whose durations lie within +-10% of a median that
    the scan's own length is within +-10% of (on the simulated clock's seconds)."""
    median = length / (1 + draw.uniform(-SPREAD, SPREAD))
    durations = [median] + [median * (1 + draw.uniform(-SPREAD, SPREAD)) for _ in range(19)]
    base = datetime.now(timezone.utc) - timedelta(days=1)
    rows = []
    for i, seconds in enumerate(durations):
        start = base - timedelta(hours=i)
        end = start + timedelta(seconds=seconds)
        rows.append({"check_time": stamp(start), "check_end_time": stamp(end)})
    return rows


def stamp(moment: datetime) -> str:
    """A checkrecord time with its fraction (``2026-12-07T01:02:03.250000Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Case:
    """One scan: its length, ratio mode and schedule; filled in with what happened."""

    task_id: str
    length: float
    ratio: str
    schedule: str
    error: str | None = None
    latency: float = 0.0
    polls: int = 0
    waited: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


def run_case(api: FakeCodeArts, case: Case) -> None:
    """One gate run of the real flow against the fake, on the scaled clock."""
    raw = RawOptions(
        task_id=case.task_id,
        token=api.token,
        endpoint=api.url,
        run="true",
        branch="",
        console_project_id=api.console_project_id,
    )
    settings = build_settings(raw)
    tools = Tools(clock=clock, sleep=sleep, schedule=SCHEDULES[case.schedule])
    try:
        gate_task(settings, ScanLog(case.task_id), tools)
    except Exception as err:  # reported in the table, never hidden
        case.error = f"{type(err).__name__}: {err}"


def measure(api: FakeCodeArts, case: Case) -> None:
    """Latency and progress requests, from what the fake received."""
    task = api.tasks[case.task_id]
    [job] = task.exec_ids
    refresh = [r for r in api.task_requests("refresh") if job in r.path]
    polls = [r for r in api.task_requests("progress") if case.task_id in r.path]
    assert task.started_at is not None and task.ends_at is not None and refresh
    case.latency = refresh[0].received_at - task.ends_at
    case.polls = len(polls)
    case.waited = refresh[0].received_at - task.started_at


def cases() -> list[Case]:
    """Every length for both ratio modes and every schedule (same lengths side by side)."""
    draw = random.Random(SEED)
    lengths = [draw.uniform(SHORTEST, LONGEST) for _ in range(CASES)]
    made = []
    histories = [past_scans(length, draw) for length in lengths]
    for ratio in ("steady", "none"):
        for schedule in SCHEDULES:
            for length, history in zip(lengths, histories, strict=True):
                told = history if schedule == OURS else []
                made.append(Case(f"{len(made):032x}", length, ratio, schedule, history=told))
    return made


def run_all() -> list[Case]:
    """All cases at once, each in its own thread, against one fake."""
    todo = cases()
    with FakeCodeArts(clock=clock) as api:
        for case in todo:
            api.add_task(case.task_id, length=case.length, ratio=case.ratio, history=case.history)
        threads = [threading.Thread(target=run_case, args=(api, c)) for c in todo]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for case in todo:
            if case.error is None:
                measure(api, case)
    return todo


def bar_for(ratio: str, case: Case) -> float:
    """The bar for this scan: 1.5 s with a steady ratio or a history, else max(2 s, 10%)."""
    return 1.5 if ratio == "steady" or case.history else max(2.0, 0.1 * case.length)


def row(ratio: str, schedule: str, done: list[Case]) -> str:
    latencies = [c.latency for c in done]
    rates = [c.polls / c.waited for c in done]
    within = sum(c.latency <= bar_for(ratio, c) for c in done)
    cells = [
        "steady ratio" if ratio == "steady" else "no ratio",
        schedule,
        str(len(done)),
        f"{statistics.median(latencies):.2f} s",
        f"{max(latencies):.2f} s",
        f"{within}/{len(done)}",
        f"{statistics.median(rates):.3f}",
        f"{max(rates):.3f}",
        f"{statistics.median(c.polls for c in done):.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


def table(results: list[Case]) -> list[str]:
    rows = [
        "| progress | polling | scans | median latency | max latency | within bar "
        "| median polls/s | max polls/s | median polls |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for ratio in ("steady", "none"):
        for schedule in SCHEDULES:
            done = [c for c in results if (c.ratio, c.schedule) == (ratio, schedule)]
            rows.append(row(ratio, schedule, [c for c in done if c.error is None]))
    return rows


def medians(results: list[Case], ratio: str, schedule: str) -> tuple[float, float]:
    """Median latency and median polls per second of one row."""
    done = [c for c in results if (c.ratio, c.schedule) == (ratio, schedule) and not c.error]
    if not done:
        return float("nan"), float("nan")
    latency = statistics.median(c.latency for c in done)
    return latency, statistics.median(c.polls / c.waited for c in done)


def reading(results: list[Case]) -> str:
    """What the table says, in words, from the figures of this run."""
    parts = []
    for ratio, words in (("steady", "With a steady ratio"), ("none", "Without a ratio")):
        ours, today, fixed = (medians(results, ratio, name) for name in SCHEDULES)
        parts.append(
            f"{words}, the gate with the task's history had a median latency of "
            f"{ours[0]:.2f} s at {ours[1]:.3f} polls/s, against {today[0]:.2f} s at "
            f"{today[1]:.3f} polls/s without the history and {fixed[0]:.2f} s at "
            f"{fixed[1]:.3f} polls/s for fixed 5 s polling."
        )
    parts.append(
        "With a history the gate polls at most every 15 s until shortly before the "
        "earliest plausible end (the median less the spread, at least 10%), every 1.4 s "
        "until the latest, then backs off; a ratio, when there is one, narrows that window "
        "or overrules it. Without a history (a first scan, no project id) it keeps the "
        "earlier rule, max(2 s, 10% of the time waited) capped at 15 s."
    )
    return " ".join(parts)


def history_bar(results: list[Case]) -> str:
    """The issue's bar without a ratio: median latency <= 1.5 s and no more polls/s than
    fixed 5 s polling; with a ratio: no worse than the gate without a history."""
    ours, fixed = medians(results, "none", OURS), medians(results, "none", "fixed 5 s")
    plain = ours[0] <= 1.5 and ours[1] <= fixed[1]
    steady, today = (
        medians(results, "steady", OURS),
        medians(results, "steady", "adaptive, no history"),
    )
    ratio = steady[0] <= today[0] + 0.25 and steady[1] <= today[1] * 1.1
    return (
        f"Bar without a ratio (median latency at most 1.5 s and no more polls/s than fixed "
        f"5 s polling): {'met' if plain else 'MISSED'}. With a ratio (no worse than without "
        f"the history, within 0.25 s and 10% of polls for noise): {'met' if ratio else 'MISSED'}."
    )


HANDFUL = 5  # polls in the first seconds the bar sets aside


def meets_bar(case: Case) -> bool:
    """The issue's bar for one adaptive run: latency, and polls per 2 s of waiting."""
    return case.latency <= bar_for(case.ratio, case) and case.polls - HANDFUL <= case.waited / 2


def verdict_line(results: list[Case]) -> str:
    """Whether every adaptive run met the bar."""
    runs = [c for c in results if c.schedule != "fixed 5 s" and c.error is None]
    met = sum(meets_bar(c) for c in runs)
    missed = [
        f"{c.ratio} ratio, {c.length:.1f} s scan: {c.latency:.2f} s late, {c.polls} polls"
        for c in runs
        if not meets_bar(c)
    ]
    return (
        f"The gate's polling met the bar in {met} of {len(runs)} runs (latency within its bar "
        f"and at most one poll per 2 s of waiting beyond the first {HANDFUL})"
        + (f"; missed: {'; '.join(missed)}." if missed else ".")
    )


def section(results: list[Case], seconds: float) -> str:
    failed = [c for c in results if c.error]
    about = (
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `bench/wait_bench.py`: "
        f"{CASES} scans of random length ({SHORTEST:.0f} to {LONGEST:.0f} s, seed {SEED}) per "
        "progress mode, each waited for three ways (the gate told the task's last "
        f"{PAST_SCANS} durations, within +-10% of a median the scan is within +-10% of; the "
        "gate without a history; fixed 5 s polling), all against the local fake API "
        "through the real flow (run POST, progress GETs, refresh PUT) on a clock scaled "
        f"x{SCALE:g} ({seconds:.0f} s of real time). Latency: the refresh request's arrival "
        "at the fake minus the scan's end. Polls/s: progress requests per second from the "
        "run to the refresh. Bar per run: within 1.5 s with a steady ratio or a history, "
        "within max(2 s, 10% of the scan) with neither, at most 0.5 polls/s (a handful in "
        "the first seconds aside)."
    )
    lines = [
        MARK,
        "## Waiting for a scan (`--run`): latency to the verdict request, progress requests",
        "",
        textwrap.fill(about, 90),
        "",
        *table(results),
        "",
        verdict_line(results),
        "",
        history_bar(results),
        "",
        textwrap.fill(reading(results), 90),
        "",
    ]
    if failed:
        lines += [f"Failed runs: {len(failed)}; first: {failed[0].error}", ""]
    return "\n".join([*lines, END_MARK, ""])


def save(text: str) -> None:
    """Replace this benchmark's section of RESULTS.md, keeping the rest."""
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if MARK in old:
        head, _, rest = old.partition(MARK)
        tail = rest.partition(END_MARK)[2].lstrip("\n")
        new = head + text + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(new, encoding="utf-8")


def main() -> int:
    logging.getLogger("gate").setLevel(logging.ERROR)  # the flow's progress lines: not here
    started = time.monotonic()
    results = run_all()
    text = section(results, time.monotonic() - started)
    save(text)
    print(text)
    return 0 if not any(c.error for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
