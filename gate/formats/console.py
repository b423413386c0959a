"""The short table printed on stdout: each check, the verdict, the report link."""

from __future__ import annotations

from gate.core import Check, Outcome, Verdict
from gate.text import one_line

WORDS = {Outcome.PASSED: "PASSED", Outcome.FAILED: "FAILED", Outcome.ERROR: "NO VERDICT"}


RESULTS = {"pass": "pass", "warn": "warn", "fail": "FAIL", "error": "ERROR"}


def level_text(level: int | None) -> str:
    """A maximum or warn level for people: the number, or ``off``."""
    return "off" if level is None else str(level)


def _row(check: Check, width: int, warn_column: bool) -> str:
    actual = "?" if check.actual is None else str(check.actual)
    warn = f"  {level_text(check.warn):>8}" if warn_column else ""
    maximum = level_text(check.maximum)
    return f"  {check.metric:<{width}}  {actual:>8}  {maximum:>8}{warn}  {RESULTS[check.status]}"


def table(verdict: Verdict) -> list[str]:
    """The checks as aligned rows with a header (a warn column when a check has a level)."""
    if not verdict.checks:
        return []
    width = max(len("metric"), *(len(c.metric) for c in verdict.checks))
    warn_column = any(c.warn is not None for c in verdict.checks)
    warn = f"  {'warn':>8}" if warn_column else ""
    header = f"  {'metric':<{width}}  {'actual':>8}  {'max':>8}{warn}  result"
    return [header] + [_row(c, width, warn_column) for c in verdict.checks]


def plural(count: int, noun: str) -> str:
    """``1 check``, ``2 checks``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def verdict_line(verdict: Verdict) -> str:
    """One line: the outcome, and why; and the exit code when an output was lost."""
    word = WORDS[verdict.outcome]
    warned = len(verdict.warned_checks)
    if verdict.outcome is Outcome.PASSED and warned:
        word += f" with {plural(warned, 'warning')}"
    checks = len(verdict.checks)
    if verdict.outcome is Outcome.FAILED:
        over = len(verdict.failed_checks)
        unreadable = sum(1 for c in verdict.checks if c.actual is None)
        why = f"{over} of {plural(checks, 'check')} over their maximum"
        why += f", {unreadable} unreadable" if unreadable else ""
        gate = verdict.codearts
        if gate is not None and gate.decides and gate.state == "failed":
            why = f"CodeArts' own gate failed; {why}"
    elif verdict.outcome is Outcome.PASSED:
        why = f"{plural(checks, 'check')} within their maximum"
    else:
        why = verdict.error.kind if verdict.error else "error"
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
    lines += codearts_lines(verdict)
    return "\n".join(lines) + "\n"


def codearts_lines(verdict: Verdict) -> list[str]:
    """CodeArts' own gate and, when it disagrees with the local thresholds, a line saying so."""
    gate = verdict.codearts
    if gate is None:
        return []
    lines = [one_line(gate.summary(), 2000)]
    disagreement = gate.disagreement(verdict)
    if disagreement:
        lines.append(f"disagreement: {disagreement}")
    return lines
