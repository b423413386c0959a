"""Benchmark: ``--show-config`` against the offline verdict, in one run.

Both are fresh processes of the installed ``codearts-gate`` (imports count), interleaved
so that both see the same machine load; ``--show-config`` reads a config file and a few
variables, the offline verdict judges the example report with three outputs. Bar: the
median ``--show-config`` within 1.5x the offline verdict's median. The section in
``bench/RESULTS.md`` is replaced. Rerun: ``.venv/bin/python bench/config_bench.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import save_section

REPO = Path(__file__).resolve().parents[1]
GATE = Path(sys.executable).with_name("codearts-gate")
REPORT = REPO / "examples" / "reports" / "api-example.json"
CONFIG = REPO / "examples" / "codearts-gate.toml"
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
BAR = 1.5
MARK, END_MARK = "<!-- config-bench -->", "<!-- /config-bench -->"


def wall_ms(args: list[str], env: dict[str, str], expect: int) -> float:
    """One fresh process, timed by wall clock; its exit code checked."""
    started = time.perf_counter()
    code = subprocess.run([str(GATE), *args], env=env, stdout=subprocess.DEVNULL, check=False)
    if code.returncode != expect:
        raise SystemExit(f"exit {code.returncode}, expected {expect}, for {args}")
    return (time.perf_counter() - started) * 1000


def measure(tmp: Path) -> tuple[list[float], list[float]]:
    """(offline verdict, --show-config) wall times, interleaved after one warm-up each."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEARTS_")}
    outputs = [f"--junit={tmp}/j.xml", f"--summary={tmp}/s.md", f"--json={tmp}/r.json"]
    offline = (["--report-file", str(REPORT), *outputs], env, 1)
    shown_env = {**env, "CODEARTS_CONFIG": str(CONFIG), "CODEARTS_MAX_MAJOR": "3"}
    show = (["--show-config", "--token", "bench-token-0123456789"], shown_env, 0)
    wall_ms(*offline)
    wall_ms(*show)
    pairs = [(wall_ms(*offline), wall_ms(*show)) for _ in range(RUNS)]
    return [a for a, _ in pairs], [b for _, b in pairs]


def section(offline: list[float], show: list[float]) -> str:
    """The RESULTS.md section."""
    base, shown = statistics.median(offline), statistics.median(show)
    ratio = shown / base
    return "\n".join(
        [
            MARK,
            "## `--show-config` against the offline verdict",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} by `bench/config_bench.py`: {RUNS} fresh "
            "processes of each, interleaved, after one warm-up. `--show-config` reads "
            "`examples/codearts-gate.toml` and a variable; the offline verdict judges",
            f"`api-example.json` with three outputs. Bar: within {BAR}x.",
            "",
            "| case | median wall | max wall |",
            "| --- | ---: | ---: |",
            f"| offline verdict | {base:.0f} ms | {max(offline):.0f} ms |",
            f"| --show-config | {shown:.0f} ms | {max(show):.0f} ms |",
            "",
            f"Ratio: {ratio:.2f}x ({'meets' if ratio <= BAR else 'MISSES'} the {BAR}x bar).",
            END_MARK,
            "",
        ]
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        offline, show = measure(Path(tmp))
    text = section(offline, show)
    save_section(text, MARK, END_MARK)
    print(text)
    return 0 if statistics.median(show) <= BAR * statistics.median(offline) else 1


if __name__ == "__main__":
    sys.exit(main())
