"""Startup budget: the gate's verdicts against references measured side by side, in one run.

- offline: ``--report-file`` to JUnit, Markdown and JSON, against a bare ``python -c pass``
  of the same interpreter; bar: at most 8x.
- network: ``--job-id`` against the local fake API (tests/fakeapi.py, on loopback), against
  ``bench/curl_verdict.sh`` (curl the refresh with the token header, jq three counts
  against their maximums); bar: at most 5x.

The four commands run in turn, round after round, so that the machine's load falls on all
of them alike; each figure is the median wall time of its rounds, after one warm-up. Both
Python commands run with compiled bytecode (in a private cache folder), as an installed
wheel does. Results go to the "Startup" section of ``bench/RESULTS.md``.
Rerun: ``.venv/bin/python bench/startup.py`` (``BENCH_RUNS`` rounds, default 21).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests")]

from fakeapi import FakeCodeArts  # noqa: E402 - lives in tests/

from bench import machine  # noqa: E402 - bench/bench.py, found via sys.path

GATE = Path(sys.executable).with_name("codearts-gate")
REPORT = REPO / "examples" / "reports" / "api-example.json"
JOB = "2b31ed520aaaaaaebedb6e57bbbbbbbb"
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
BARS = {"offline": 8.0, "network": 5.0}
START, END = "<!-- startup-bench -->", "<!-- /startup-bench -->"


def wall_ms(command: list[str], env: dict[str, str], expect: int) -> float:
    """One run's wall time; a run that does not end as expected stops the benchmark."""
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, check=False)
    wall = (time.perf_counter() - started) * 1000
    if proc.returncode != expect:
        raise SystemExit(f"{command[:3]}: exit {proc.returncode}, expected {expect}")
    return wall


def commands(folder: Path, api: FakeCodeArts) -> dict[str, tuple[list[str], int]]:
    """The four commands and the exit code each must end with (the report fails the gate)."""
    outputs = [f"--junit={folder}/j.xml", f"--summary={folder}/s.md", f"--json={folder}/r.json"]
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], 0),
        "offline verdict": ([str(GATE), "--report-file", str(REPORT), *outputs], 1),
        "curl + jq": (["bash", str(HERE / "curl_verdict.sh"), JOB], 1),
        "network verdict": ([str(GATE), "--job-id", JOB, *outputs], 1),
    }


def measure(folder: Path) -> dict[str, list[float]]:
    """Every command ``RUNS`` times, in turn, after one warm-up each."""
    with FakeCodeArts(scenario="fail") as api:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(
            PYTHONPYCACHEPREFIX=str(folder / "pycache"),
            CODEARTS_TOKEN=api.token,
            CODEARTS_ENDPOINT=api.url,
            NO_PROXY="*",
        )
        todo = commands(folder, api)
        for command, expect in todo.values():
            wall_ms(command, env, expect)
        walls: dict[str, list[float]] = {name: [] for name in todo}
        for _ in range(RUNS):
            for name, (command, expect) in todo.items():
                walls[name].append(wall_ms(command, env, expect))
        return walls


def section(walls: dict[str, list[float]], load: tuple[float, float]) -> str:
    """The Markdown section: medians side by side, the two ratios and their bars."""
    median = {name: statistics.median(values) for name, values in walls.items()}
    pairs = [
        ("offline", "offline verdict", "python -c pass"),
        ("network", "network verdict", "curl + jq"),
    ]
    rows = []
    for key, gate, reference in pairs:
        ratio = median[gate] / median[reference]
        verdict = "meets" if ratio <= BARS[key] else "MISSES"
        rows.append(
            f"| {gate} | {median[gate]:.0f} ms | {reference} | {median[reference]:.0f} ms "
            f"| {ratio:.1f}x | at most {BARS[key]:g}x: {verdict} |"
        )
    return "\n".join(
        [
            START,
            "## Startup: the gate's verdicts against a bare interpreter and curl + jq",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `bench/startup.py`:",
            f"{RUNS} rounds of the four commands in turn after one warm-up each (medians of",
            "wall time); compiled bytecode, as an installed wheel has it. The offline verdict",
            "reads examples/reports/api-example.json and writes JUnit, Markdown and JSON; the",
            "network verdict refreshes a job on the local fake API (loopback) and writes the",
            "same three files; `bench/curl_verdict.sh` does the refresh with curl and judges",
            "the three default counts with jq. Load average (1 min) before and after:",
            f"{load[0]:.2f} and {load[1]:.2f}.",
            "",
            "| gate | median | reference | median | ratio | bar |",
            "| --- | ---: | --- | ---: | ---: | --- |",
            *rows,
            END,
        ]
    )


def publish(text: str) -> None:
    """Replace the Startup section of bench/RESULTS.md, or add it at the end."""
    results = HERE / "RESULTS.md"
    old = results.read_text(encoding="utf-8") if results.exists() else ""
    if START in old and END in old:
        new = old[: old.index(START)] + text + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip("\n") + "\n" + text + "\n"
    results.write_text(new, encoding="utf-8")


def main() -> int:
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        walls = measure(Path(tmp))
    text = section(walls, (before, os.getloadavg()[0]))
    publish(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
