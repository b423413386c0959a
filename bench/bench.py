"""Benchmarks: a cold offline verdict and a network verdict against the local fake API.

Each run is a fresh process of the installed ``codearts-gate`` (so imports count), timed
by wall clock; its peak memory is the child's maximum resident set size from ``wait4``.
Every run has compiled bytecode (in a private cache folder, written by the warm-up), as
an installed wheel has it, even where ``PYTHONDONTWRITEBYTECODE`` is set: without it each
run compiled the gate's sources anew and measured the compiler, not the gate.
Results (medians) go to ``bench/RESULTS.md``. Rerun: ``.venv/bin/python bench/bench.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
GATE = Path(sys.executable).with_name("codearts-gate")
REPORT = REPO / "examples" / "reports" / "api-example.json"
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
BAR_WALL_MS, BAR_RSS_MB = 150.0, 40.0
KEEP = (
    "<!-- wait-bench -->",
    "<!-- defects-benchmark -->",
    "<!-- config-bench -->",
    "<!-- tasks-bench -->",
)  # other benchmarks' sections


@dataclass(frozen=True)
class Sample:
    """One run: wall time in milliseconds and peak resident memory in MiB."""

    wall_ms: float
    peak_mb: float
    exit_code: int


def run_once(args: list[str], env: dict[str, str]) -> Sample:
    """Start the gate, wait for it, and read its own peak RSS from the kernel."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(GATE), *args], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_maxrss / 1024, proc.returncode)


def series(args: list[str], env: dict[str, str], expect: int) -> list[Sample]:
    """``RUNS`` runs after one warm-up (disk cache), each checked for the expected exit."""
    run_once(args, env)
    samples = [run_once(args, env) for _ in range(RUNS)]
    bad = {s.exit_code for s in samples} - {expect}
    if bad:
        raise SystemExit(f"unexpected exit codes {bad} for {args}")
    return samples


def compiled(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment with bytecode written to and read from ``tmp``'s cache folder."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(tmp / "pycache"), **extra}


def offline(tmp: Path) -> list[Sample]:
    """``--report-file`` with all three outputs: the gate's cold start and judgement."""
    outputs = [f"--junit={tmp}/j.xml", f"--summary={tmp}/s.md", f"--json={tmp}/r.json"]
    return series(["--report-file", str(REPORT), *outputs], compiled(tmp), expect=1)


def network(tmp: Path) -> list[Sample]:
    """One refresh against the local fake API, all three outputs."""
    from fakeapi import FakeCodeArts  # noqa: PLC0415 - lives in tests/, found via sys.path

    with FakeCodeArts(scenario="fail") as api:
        env = compiled(tmp, CODEARTS_TOKEN=api.token, CODEARTS_ENDPOINT=api.url)
        outputs = [f"--junit={tmp}/j.xml", f"--summary={tmp}/s.md", f"--json={tmp}/r.json"]
        return series(["--job-id", "2b31ed520aaaaaaebedb6e57bbbbbbbb", *outputs], env, expect=1)


def machine() -> str:
    """What the numbers were measured on."""
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores, {cpu}, {system}, Python {platform.python_version()}"


def row(name: str, samples: list[Sample], bar: bool) -> str:
    wall = statistics.median(s.wall_ms for s in samples)
    peak = statistics.median(s.peak_mb for s in samples)
    verdict = ("meets" if wall < BAR_WALL_MS and peak < BAR_RSS_MB else "MISSES") if bar else "-"
    slowest = max(s.wall_ms for s in samples)
    cells = [name, str(len(samples)), f"{wall:.0f} ms", f"{slowest:.0f} ms", f"{peak:.1f} MiB"]
    return "| " + " | ".join([*cells, verdict]) + " |"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            row("offline verdict (--report-file, 3 outputs)", offline(Path(tmp)), True),
            row("network verdict (local fake API, 3 outputs)", network(Path(tmp)), False),
        ]
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `bench/bench.py`.",
            f"Each figure is the median of {RUNS} fresh processes after one warm-up; peak",
            "memory is the process's maximum resident set size. Bar for the offline verdict: under",
            f"{BAR_WALL_MS:.0f} ms median wall and {BAR_RSS_MB:.0f} MiB peak.",
            "",
            "| case | runs | median wall | max wall | median peak RSS | bar |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            *rows,
            "",
        ]
    )
    results = REPO / "bench" / "RESULTS.md"
    old = results.read_text(encoding="utf-8") if results.exists() else ""
    starts = [old.find(mark) for mark in KEEP if mark in old]
    kept = old[min(starts) :] if starts else ""  # other benchmarks' sections, kept
    results.write_text(text + ("\n" + kept if kept else ""), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
