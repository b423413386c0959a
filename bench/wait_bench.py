"""Benchmark of waiting for a scan: how soon the verdict request follows the end of the
scan, and how many progress requests the wait costs, for the gate's adaptive polling and
for fixed 5 s polling (the SonarQube action's interval), side by side.

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
from dataclasses import dataclass
from pathlib import Path

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


SCHEDULES = {"adaptive (codearts-gate)": adaptive, "fixed 5 s": fixed}


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


def run_case(api: FakeCodeArts, case: Case) -> None:
    """One gate run of the real flow against the fake, on the scaled clock."""
    raw = RawOptions(task_id=case.task_id, token=api.token, endpoint=api.url, run="true", branch="")
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
    """Every length for both ratio modes and both schedules (same lengths side by side)."""
    draw = random.Random(SEED)
    lengths = [draw.uniform(SHORTEST, LONGEST) for _ in range(CASES)]
    made = []
    for ratio in ("steady", "none"):
        for schedule in SCHEDULES:
            for length in lengths:
                made.append(Case(f"{len(made):032x}", length, ratio, schedule))
    return made


def run_all() -> list[Case]:
    """All cases at once, each in its own thread, against one fake."""
    todo = cases()
    with FakeCodeArts(clock=clock) as api:
        for case in todo:
            api.add_task(case.task_id, length=case.length, ratio=case.ratio)
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
    """The issue's bar for this scan: 1.5 s with a steady ratio, else max(2 s, 10%)."""
    return 1.5 if ratio == "steady" else max(2.0, 0.1 * case.length)


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
        ours, fixed = (medians(results, ratio, name) for name in SCHEDULES)
        parts.append(
            f"{words}, adaptive polling's median latency was {ours[0]:.2f} s against "
            f"{fixed[0]:.2f} s for fixed 5 s polling, at {ours[1]:.3f} against "
            f"{fixed[1]:.3f} polls/s."
        )
    parts.append(
        "Without a ratio the gate follows the issue's rule, max(2 s, 10% of the time "
        "waited) capped at 15 s: it polls more often than every 5 s during the first 50 s "
        "of a wait and less often after. Its gains are at the ends (a short scan is seen "
        "within about 2 s; a long one costs at most 4 polls a minute); on scans of a few "
        "minutes, like most here, fixed 5 s polling can be both cheaper and quicker, "
        "while the rule stays within its bar."
    )
    return " ".join(parts)


HANDFUL = 5  # polls in the first seconds the bar sets aside


def meets_bar(case: Case) -> bool:
    """The issue's bar for one adaptive run: latency, and polls per 2 s of waiting."""
    return case.latency <= bar_for(case.ratio, case) and case.polls - HANDFUL <= case.waited / 2


def verdict_line(results: list[Case]) -> str:
    """Whether every adaptive run met the bar."""
    runs = [c for c in results if c.schedule.startswith("adaptive") and c.error is None]
    met = sum(meets_bar(c) for c in runs)
    missed = [
        f"{c.ratio} ratio, {c.length:.1f} s scan: {c.latency:.2f} s late, {c.polls} polls"
        for c in runs
        if not meets_bar(c)
    ]
    return (
        f"Adaptive polling met the bar in {met} of {len(runs)} runs (latency within its bar "
        f"and at most one poll per 2 s of waiting beyond the first {HANDFUL})"
        + (f"; missed: {'; '.join(missed)}." if missed else ".")
    )


def section(results: list[Case], seconds: float) -> str:
    failed = [c for c in results if c.error]
    about = (
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `bench/wait_bench.py`: "
        f"{CASES} scans of random length ({SHORTEST:.0f} to {LONGEST:.0f} s, seed {SEED}) per "
        "progress mode, each waited for with both schedules, all against the local fake API "
        "through the real flow (run POST, progress GETs, refresh PUT) on a clock scaled "
        f"x{SCALE:g} ({seconds:.0f} s of real time). Latency: the refresh request's arrival "
        "at the fake minus the scan's end. Polls/s: progress requests per second from the "
        "run to the refresh. Bar: within 1.5 s with a steady ratio, within max(2 s, 10% of "
        "the scan) without one, at most 0.5 polls/s (a handful in the first seconds aside)."
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
