"""Benchmark: what ``--scope change`` adds to the fetch of 300,000 defects.

Two gate processes against the same local fake (300,000 defects, every severity, 100 per
page, 20 ms latency per page), in a real git checkout whose change touches 10,000 lines
of 200 files: the same fetch judged on the whole branch (``--defects``), and judged on
the change (``--scope change --base main``: git diff, then every defect looked up in the
changed lines). Runs alternate, so that the machine's drift falls on both. The ratio of
the medians is the cost of change scope; the bar is at most 1.10. The time of the diff
and of the look-up alone is measured too, in this process. Medians go to a section of
``bench/RESULTS.md``; the rest is kept. Rerun: ``.venv/bin/python bench/change_scope.py``
(``BENCH_DEFECTS``, ``BENCH_CHANGE_RUNS`` to vary).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from defects import publish_section

from bench import REPO, machine

sys.path.insert(0, str(REPO / "tests"))
DEFECTS = int(os.environ.get("BENCH_DEFECTS", "300000"))
RUNS = int(os.environ.get("BENCH_CHANGE_RUNS", "3"))
LATENCY = 0.020
FILES, LINES, EVERY = 200, 500, 10
BAR = 1.10
BEGIN, END = "<!-- change-scope-benchmark -->", "<!-- /change-scope-benchmark -->"
GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b"}
GIT_ENV["GIT_COMMITTER_EMAIL"] = "b@b"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, check=True)


def checkout(root: Path) -> None:
    """A repository of the files the first defects name; the change edits every tenth
    line of each (10,000 lines)."""
    from fakeapi import make_defect  # noqa: PLC0415 - tests/ on sys.path

    paths = {make_defect(i)["file_path"].split("/", 1)[1] for i in range(FILES)}
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("".join(f"line {n}\n" for n in range(1, LINES + 1)))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    for path in paths:
        lines = [f"line {n}\n" if n % EVERY else f"edit {n}\n" for n in range(1, LINES + 1)]
        (root / path).write_text("".join(lines))
    git(root, "commit", "-q", "-am", "change")


def gate_run(root: Path, env: dict[str, str], *scope: str) -> tuple[float, int]:
    """One gate process; its wall time in seconds and exit code."""
    gate = str(Path(sys.executable).with_name("codearts-gate"))
    args = ["--job-id", "2b31ed520aaaaaaebedb6e57bbbbbbbb", "--task-id", "bench", "--defects"]
    args += ["--defect-severity", "all", "--path-prefix-strip", "demo-repo", "-q", *scope]
    started = time.perf_counter()
    proc = subprocess.run([gate, *args], env=env, cwd=root, capture_output=True, check=False)
    return time.perf_counter() - started, proc.returncode


def alternate(root: Path) -> tuple[list[float], list[float]]:
    """``RUNS`` pairs of runs (whole branch, then change) against fresh fakes."""
    from fakeapi import FakeCodeArts, GeneratedDefects  # noqa: PLC0415

    whole, change = [], []
    for _ in range(RUNS):
        for times, scope in ((whole, ()), (change, ("--scope", "change", "--base", "main"))):
            with FakeCodeArts(scenario="fail") as api:
                api.defect_api.rows = GeneratedDefects(DEFECTS)
                api.defect_api.latency = LATENCY
                env = {**os.environ, "CODEARTS_TOKEN": api.token, "CODEARTS_ENDPOINT": api.url}
                env["NO_PROXY"] = "*"
                seconds, code = gate_run(root, env, *scope)
            if code not in (0, 1):
                raise SystemExit(f"unexpected exit code {code} ({scope or 'whole branch'})")
            times.append(seconds)
    return whole, change


def parts_alone(root: Path) -> tuple[float, float, int]:
    """Seconds of the git diff and of looking up every defect, in this process; and how
    many defects are on the change."""
    from fakeapi import GeneratedDefects  # noqa: PLC0415

    from gate.defects import DefectReader  # noqa: PLC0415
    from gate.gitdiff import Git, change_diff  # noqa: PLC0415
    from gate.paths import PathMapper  # noqa: PLC0415

    started = time.perf_counter()
    diff = change_diff(Git(root, 60), "main", None)
    diffed = time.perf_counter() - started
    reader = DefectReader(PathMapper(None, "demo-repo"))
    defects = [reader.read(row) for row in GeneratedDefects(DEFECTS)]
    contains = diff.lines.contains
    started = time.perf_counter()
    hits = sum(1 for d in defects if contains(d.path, d.line))
    return diffed, time.perf_counter() - started, hits


def section(whole: list[float], change: list[float], parts: tuple[float, float, int]) -> str:
    ratio = statistics.median(change) / statistics.median(whole)
    diffed, looked_up, hits = parts
    share = (diffed + looked_up) / statistics.median(whole)
    verdict = "meets" if ratio <= BAR else "MISSES"
    return "\n".join(
        [
            BEGIN,
            "## `--scope change` on 300,000 defects",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `bench/change_scope.py`:",
            f"{DEFECTS:,} defects (every severity, 100 per page, {LATENCY * 1000:.0f} ms per",
            f"page) fetched by the gate in a git checkout whose change edits "
            f"{FILES * LINES // EVERY:,}",
            f"lines of {FILES} files; {RUNS} alternating pairs of fresh processes. Bar: change",
            f"scope at most {BAR:.2f} times the whole-branch run.",
            "",
            "| case | runs | median wall | max wall |",
            "| --- | ---: | ---: | ---: |",
            f"| whole branch (`--defects`) | {len(whole)} | {statistics.median(whole):.1f} s "
            f"| {max(whole):.1f} s |",
            f"| change (`--scope change --base main`) | {len(change)} | "
            f"{statistics.median(change):.1f} s | {max(change):.1f} s |",
            "",
            f"Ratio of the medians: {ratio:.3f} ({verdict} the bar); on a shared machine the",
            "pairs are noisy, so the parts are timed alone too, in one process: the git diff",
            f"took {diffed * 1000:.0f} ms and looking up {DEFECTS:,} defects in the changed",
            f"lines {looked_up * 1000:.0f} ms ({hits:,} on the change), together",
            f"{share:.1%} of the whole-branch run's median.",
            END,
        ]
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "checkout"
        checkout(root)
        whole, change = alternate(root)
        parts = parts_alone(root)
    text = section(whole, change, parts)
    publish_section(text, BEGIN, END)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
