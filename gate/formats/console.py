"""The short table printed on stdout: each check, the verdict, the report link."""

from __future__ import annotations

from gate.core import Check, Outcome, Verdict
from gate.text import one_line

WORDS = {Outcome.PASSED: "PASSED", Outcome.FAILED: "FAILED", Outcome.ERROR: "NO VERDICT"}


def _row(check: Check, width: int) -> str:
    actual = "?" if check.actual is None else str(check.actual)
    result = "pass" if check.passed else ("ERROR" if check.actual is None else "FAIL")
    return f"  {check.metric:<{width}}  {actual:>8}  {check.maximum:>8}  {result}"


def table(verdict: Verdict) -> list[str]:
    """The checks as aligned rows with a header."""
    if not verdict.checks:
        return []
    width = max(len("metric"), *(len(c.metric) for c in verdict.checks))
    header = f"  {'metric':<{width}}  {'actual':>8}  {'max':>8}  result"
    return [header] + [_row(c, width) for c in verdict.checks]


def plural(count: int, noun: str) -> str:
    """``1 check``, ``2 checks``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def verdict_line(verdict: Verdict) -> str:
    """One line: the outcome, and why; and the exit code when an output was lost."""
    word = WORDS[verdict.outcome]
    checks = len(verdict.checks)
    if verdict.outcome is Outcome.FAILED:
        over = len(verdict.failed_checks)
        unreadable = sum(1 for c in verdict.checks if c.actual is None)
        why = f"{over} of {plural(checks, 'check')} over their maximum"
        why += f", {unreadable} unreadable" if unreadable else ""
    elif verdict.outcome is Outcome.PASSED:
        why = f"{plural(checks, 'check')} within their maximum"
    else:
        why = verdict.error.kind if verdict.error else "error"
        if verdict.exit_code >= 128:  # a signal's code (130, 143): say it, it is unusual
            why += f", exit {int(verdict.exit_code)}"
    line = f"verdict: {word} ({why})"
    if verdict.unwritten:
        lost = ", ".join(verdict.unwritten)
        line += f"; not written: {lost}; exit {int(verdict.exit_code)}"
    return line


def render(verdict: Verdict) -> str:
    """Table, verdict line and report link."""
    lines = [*table(verdict), verdict_line(verdict)]
    if verdict.report_url:
        lines.append(f"report: {one_line(verdict.report_url, 2000)}")
    if verdict.scan:
        lines.append(f"gated: {verdict.scan.summary()}")
    return "\n".join(lines) + "\n"
