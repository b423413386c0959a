"""Benchmark: three tasks with ``--run`` in one step against the slowest of them alone.

Against the local fake API, each scan takes a fixed time (1, 2 and 3 s); each case is a
fresh process of the installed ``codearts-gate``. Bar: the three together within 1.2x the
slowest alone (median of ``BENCH_RUNS`` runs each). The section in ``bench/RESULTS.md``
is replaced. Rerun: ``.venv/bin/python bench/tasks_bench.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sections import save_section

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
GATE = Path(sys.executable).with_name("codearts-gate")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
LENGTHS = {"bench-a": 1.0, "bench-b": 2.0, "bench-c": 3.0}
BAR = 1.2
MARK, END_MARK = "<!-- tasks-bench -->", "<!-- /tasks-bench -->"


def wall_s(task_ids: str, env: dict[str, str]) -> float:
    """One fresh process running and gating ``task_ids``; it must pass."""
    started = time.perf_counter()
    proc = subprocess.run(
        [str(GATE), "--task-id", task_ids, "--run"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"exit {proc.returncode} for {task_ids}: {proc.stderr[-500:]}")
    return time.perf_counter() - started


def measure() -> tuple[float, float]:
    """(median of the slowest task alone, median of the three together), in seconds."""
    from fakeapi import FakeCodeArts  # noqa: PLC0415 - lives in tests/, found via sys.path

    with FakeCodeArts() as api:
        for task_id, length in LENGTHS.items():
            api.add_task(task_id, length=length)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEARTS_", "GITHUB_"))}
        env |= {"CODEARTS_TOKEN": api.token, "CODEARTS_ENDPOINT": api.url, "NO_PROXY": "*"}
        slowest = max(LENGTHS, key=LENGTHS.__getitem__)
        alone = [wall_s(slowest, env) for _ in range(RUNS)]
        together = [wall_s(",".join(LENGTHS), env) for _ in range(RUNS)]
    return statistics.median(alone), statistics.median(together)


def section(alone: float, together: float) -> str:
    """The RESULTS.md section."""
    ratio = together / alone
    return "\n".join(
        [
            MARK,
            "## Three tasks with `--run` in one step",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} by `bench/tasks_bench.py` against the local",
            "fake API: scans of 1, 2 and 3 s; median of "
            f"{RUNS} fresh processes each. Bar: within {BAR}x the slowest alone.",
            "",
            "| case | median wall |",
            "| --- | ---: |",
            f"| slowest task alone (3 s scan) | {alone:.2f} s |",
            f"| three tasks together | {together:.2f} s |",
            "",
            f"Ratio: {ratio:.2f}x ({'meets' if ratio <= BAR else 'MISSES'} the {BAR}x bar).",
            END_MARK,
            "",
        ]
    )


def main() -> int:
    alone, together = measure()
    text = section(alone, together)
    save_section(text, MARK, END_MARK)
    print(text)
    return 0 if together <= BAR * alone else 1


if __name__ == "__main__":
    sys.exit(main())
