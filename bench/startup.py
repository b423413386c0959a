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

from bench import compiled, machine  # noqa: E402 - bench/bench.py, found via sys.path

GATE = Path(sys.executable).with_name("codearts-gate")
REPORT = REPO / "examples" / "reports" / "api-example.json"
JOB = "2b31ed520aaaaaaebedb6e57bbbbbbbb"
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
BARS = {"offline": 8.0, "network": 5.0}
START, END = "<!-- startup-bench -->", "<!-- /startup-bench -->"


def run_once(command: list[str], env: dict[str, str], expect: int) -> tuple[float, float]:
    """One run's wall time and CPU time (user + system, its children included), in ms; a
    run that does not end as expected stops the benchmark."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    code = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read() if proc.stderr else b""
    if code != expect:
        raise SystemExit(f"{command[:3]}: exit {code}, expected {expect}: {stderr[-500:]!r}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def commands(folder: Path, api: FakeCodeArts) -> dict[str, tuple[list[str], int]]:
    """The four commands and the exit code each must end with (the report fails the gate)."""
    outputs = [f"--junit={folder}/j.xml", f"--summary={folder}/s.md", f"--json={folder}/r.json"]
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], 0),
        "offline verdict": ([str(GATE), "--report-file", str(REPORT), *outputs], 1),
        "curl + jq": (["bash", str(HERE / "curl_verdict.sh"), JOB], 1),
        "network verdict": ([str(GATE), "--job-id", JOB, *outputs], 1),
    }


def measure(folder: Path) -> dict[str, list[tuple[float, float]]]:
    """Every command ``RUNS`` times, in turn, after one warm-up each: (wall, CPU) in ms."""
    with FakeCodeArts(scenario="fail") as api:
        env = compiled(folder, CODEARTS_TOKEN=api.token, CODEARTS_ENDPOINT=api.url, NO_PROXY="*")
        todo = commands(folder, api)
        for command, expect in todo.values():
            run_once(command, env, expect)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in todo}
        for _ in range(RUNS):
            for name, (command, expect) in todo.items():
                times[name].append(run_once(command, env, expect))
        return times


def section(times: dict[str, list[tuple[float, float]]], load: tuple[float, float]) -> str:
    """The Markdown section: medians side by side, the two ratios and their bars."""
    median = {name: statistics.median(wall for wall, _ in runs) for name, runs in times.items()}
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in times.items()}
    pairs = [
        ("offline", "offline verdict", "python -c pass"),
        ("network", "network verdict", "curl + jq"),
    ]
    rows = []
    for key, gate, reference in pairs:
        ratio = median[gate] / median[reference]
        verdict = "meets" if ratio <= BARS[key] else "MISSES"
        cpu_ratio = cpu[gate] / cpu[reference]
        rows.append(
            f"| {gate} | {median[gate]:.0f} ms | {reference} | {median[reference]:.0f} ms "
            f"| {ratio:.1f}x | at most {BARS[key]:g}x: {verdict} | {cpu_ratio:.1f}x |"
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
            f"{load[0]:.2f} and {load[1]:.2f}. The bar is on the ratio of wall times; the",
            "ratio of CPU times (user + system, children included) is shown beside it, as",
            "it depends less on what else the machine is doing.",
            "",
            "| gate | median wall | reference | median wall | ratio | bar | CPU ratio |",
            "| --- | ---: | --- | ---: | ---: | --- | ---: |",
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
        times = measure(Path(tmp))
    text = section(times, (before, os.getloadavg()[0]))
    publish(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
