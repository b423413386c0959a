"""A benchmark's own section of ``bench/RESULTS.md``, replaced in place (the rest kept)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def save_section(text: str, mark: str, end_mark: str) -> None:
    """Replace the section between ``mark`` and ``end_mark`` with ``text`` (which holds
    both), or append it."""
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if mark in old:
        head, _, rest = old.partition(mark)
        new = head + text + rest.partition(end_mark)[2].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(new, encoding="utf-8")
