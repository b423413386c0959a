"""The short table printed on stdout: each check, the verdict, the report link."""

from __future__ import annotations

from gate.core import Check, Outcome, Verdict
from gate.text import one_line

WORDS = {Outcome.PASSED: "PASSED", Outcome.FAILED: "FAILED", Outcome.ERROR: "NO VERDICT"}


def _row(check: Check, width: int, columns: tuple[int, int]) -> str:
    result = "pass" if check.passed else ("ERROR" if check.actual is None else "FAIL")
    shown, limits = check.shown().rjust(columns[0]), check.limits().rjust(columns[1])
    return f"  {check.metric:<{width}}  {shown}  {limits}  {result}"


def table(verdict: Verdict) -> list[str]:
    """The checks as aligned rows with a header."""
    if not verdict.checks:
        return []
    width = max(len("metric"), *(len(c.metric) for c in verdict.checks))
    columns = (
        max(8, *(len(c.shown()) for c in verdict.checks)),
        max(8, *(len(c.limits()) for c in verdict.checks)),
    )
    header = f"  {'metric':<{width}}  {'actual':>{columns[0]}}  {'max':>{columns[1]}}  result"
    return [header] + [_row(c, width, columns) for c in verdict.checks]


def baseline_lines(verdict: Verdict) -> list[str]:
    """Which baseline the counts were compared with, and what was judged without it."""
    lines = [f"baseline: {one_line(verdict.baseline.label, 500)}"] if verdict.baseline else []
    if verdict.baseline_note:
        lines.append(f"baseline: none: {one_line(verdict.baseline_note, 500)}")
    lines += [f"note: {one_line(c.note, 300)}" for c in verdict.checks if c.note]
    outcome = verdict.suppression
    if outcome is not None:
        expired, stale = len(outcome.expired), len(outcome.stale)
        lines.append(
            f"suppressed: {outcome.total} defects by {outcome.entries} [[suppress]] entries "
            f"({expired} expired, {stale} stale)"
        )
    return lines


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
        limit = " or past their increase" if verdict.baseline else ""
        why = f"{over} of {plural(checks, 'check')} over their maximum{limit}"
        why += f", {unreadable} unreadable" if unreadable else ""
    elif verdict.outcome is Outcome.PASSED:
        why = f"{plural(checks, 'check')} within their maximum"
    else:
        why = verdict.error.kind if verdict.error else "error"
        if verdict.exit_code >= 128:  # a signal's code (130, 143): say it, it is unusual
            why += f", exit {int(verdict.exit_code)}"
    if verdict.change and verdict.change.judged:
        why += ", on the change's lines"
    line = f"verdict: {word} ({why}){identity(verdict)}"
    if verdict.unwritten:
        lost = ", ".join(verdict.unwritten)
        line += f"; not written: {lost}; exit {int(verdict.exit_code)}"
    return line


def identity(verdict: Verdict) -> str:
    """`` on branch B, commit C`` for what is known of the two; empty when neither is."""
    scan = verdict.scan
    named = [
        f"{what} {one_line(value, 100)}"
        for what, value in (
            ("branch", scan and scan.branch),
            ("commit", scan and scan.commit and scan.commit[:12]),
        )
        if value
    ]
    return f" on {', '.join(named)}" if named else ""


def render(verdict: Verdict) -> str:
    """Table, verdict line and report link."""
    lines = [*table(verdict), *baseline_lines(verdict), verdict_line(verdict)]
    if verdict.report_url:
        lines.append(f"report: {one_line(verdict.report_url, 2000)}")
    if verdict.scan:
        lines.append(f"gated: {one_line(verdict.scan.summary(), 1000)}")
    return "\n".join(lines) + "\n"
