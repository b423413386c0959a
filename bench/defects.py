"""Benchmark: 300,000 defects fetched and written to SARIF (capped) and Code Quality (all).

The local fake serves 100 defects per page with 20 ms latency per page. Each run is a fresh
process of the gate (``--sarif`` and ``--codequality``, every severity); its wall time and
peak resident memory (``wait4``) are recorded. The same is measured with one page at a
time (the sequential pager) for comparison. Medians go to a section of
``bench/RESULTS.md``; the rest of that file is kept. Rerun:
``.venv/bin/python bench/defects.py`` (``BENCH_DEFECTS``, ``BENCH_DEFECT_RUNS`` to vary).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO, Sample, machine

sys.path.insert(0, str(REPO / "tests"))
DEFECTS = int(os.environ.get("BENCH_DEFECTS", "300000"))
RUNS = int(os.environ.get("BENCH_DEFECT_RUNS", "3"))
LATENCY = 0.020
BAR_WALL_S, BAR_RSS_MB = 15.0, 250.0
BEGIN, END = "<!-- defects-benchmark -->", "<!-- /defects-benchmark -->"
SEQUENTIAL = (
    "import sys; import gate.api.defects as d; d.WORKERS = 1; "
    "from gate.cli import main; sys.argv[0] = 'codearts-gate'; main()"
)


def run_once(command: list[str], env: dict[str, str], folder: Path) -> Sample:
    """One gate process writing both files; its wall time and peak memory."""
    outputs = [f"--sarif={folder}/d.sarif", f"--codequality={folder}/cq.json"]
    args = ["--job-id", "2b31ed520aaaaaaebedb6e57bbbbbbbb", "--task-id", "bench", *outputs]
    started = time.perf_counter()
    proc = subprocess.Popen([*command, *args, "--defect-severity", "all", "-q"], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    return Sample(wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def check(folder: Path) -> None:
    """The files hold what was asked: every defect in Code Quality, 25,000 in SARIF."""
    text = (folder / "cq.json").read_text(encoding="utf-8")
    issues = text.count('"check_name":')
    if issues != DEFECTS:
        raise SystemExit(f"Code Quality holds {issues} issues, not {DEFECTS}")
    sarif = (folder / "d.sarif").read_text(encoding="utf-8")
    if sarif.count('"ruleIndex":') != min(DEFECTS, 25_000):
        raise SystemExit("SARIF does not hold the capped number of results")


def series(command: list[str], folder: Path) -> list[Sample]:
    """``RUNS`` runs against a fresh fake, each checked."""
    from fakeapi import FakeCodeArts, GeneratedDefects  # noqa: PLC0415 - tests/ on sys.path

    samples = []
    for _ in range(RUNS):
        with FakeCodeArts(scenario="fail") as api:
            api.defect_api.rows = GeneratedDefects(DEFECTS)
            api.defect_api.latency = LATENCY
            env = {**os.environ, "CODEARTS_TOKEN": api.token, "CODEARTS_ENDPOINT": api.url}
            env["NO_PROXY"] = "*"
            sample = run_once(command, env, folder)
        if sample.exit_code != 1:
            raise SystemExit(f"unexpected exit code {sample.exit_code}")
        check(folder)
        samples.append(sample)
    return samples


def row(name: str, samples: list[Sample], bar: bool) -> str:
    """One table row: medians, the slowest run, the verdict against the bar."""
    wall = statistics.median(s.wall_ms for s in samples) / 1000
    peak = statistics.median(s.peak_mb for s in samples)
    slowest = max(s.wall_ms for s in samples) / 1000
    verdict = ("meets" if wall < BAR_WALL_S and peak < BAR_RSS_MB else "MISSES") if bar else "-"
    cells = [name, str(len(samples)), f"{wall:.1f} s", f"{slowest:.1f} s", f"{peak:.0f} MiB"]
    return "| " + " | ".join([*cells, verdict]) + " |"


def section(rows: list[str]) -> str:
    """The Markdown section this benchmark owns in RESULTS.md."""
    return "\n".join(
        [
            BEGIN,
            "## Defects: 300,000 to SARIF and Code Quality",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `bench/defects.py`:",
            f"{DEFECTS:,} defects from the local fake (100 per page, {LATENCY * 1000:.0f} ms",
            "latency per page) written to SARIF (capped at 25,000 results) and GitLab Code",
            "Quality (all), every severity. Medians of fresh processes; peak memory is the",
            f"process's maximum resident set size. Bar: under {BAR_WALL_S:.0f} s wall and",
            f"{BAR_RSS_MB:.0f} MiB peak. The machine is shared with other work: expect noise.",
            "",
            "| case | runs | median wall | max wall | median peak RSS | bar |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            *rows,
            END,
        ]
    )


def publish(text: str) -> None:
    """Replace this benchmark's section of RESULTS.md (or append it), keeping the rest."""
    publish_section(text, BEGIN, END)


def publish_section(text: str, begin: str, end: str) -> None:
    """Replace the section between ``begin`` and ``end`` of RESULTS.md (or append it)."""
    path = REPO / "bench" / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    new = pattern.sub(lambda _m: text, old) if begin in old else old.rstrip("\n") + "\n\n" + text
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main() -> int:
    gate = [str(Path(sys.executable).with_name("codearts-gate"))]
    with tempfile.TemporaryDirectory() as tmp:
        concurrent = series(gate, Path(tmp))
        sequential = series([sys.executable, "-c", SEQUENTIAL], Path(tmp))
    rows = [
        row("concurrent pager (8 pages in flight)", concurrent, True),
        row("sequential pager (1 page at a time)", sequential, False),
    ]
    text = section(rows)
    publish(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
