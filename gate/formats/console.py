"""The short table printed on stdout: each check, the verdict, the report link."""

from __future__ import annotations

from gate.core import Check, Outcome, Verdict
from gate.text import one_line

WORDS = {Outcome.PASSED: "PASSED", Outcome.FAILED: "FAILED", Outcome.ERROR: "NO VERDICT"}


RESULTS = {"pass": "pass", "warn": "warn", "fail": "FAIL", "error": "ERROR"}


def level_text(level: int | None) -> str:
    """A maximum or warn level for people: the number, or ``off``."""
    return "off" if level is None else str(level)


def _row(check: Check, width: int, columns: tuple[int, int], warn_column: bool) -> str:
    shown, limits = check.shown().rjust(columns[0]), check.limits().rjust(columns[1])
    warn = f"  {level_text(check.warn):>8}" if warn_column else ""
    return f"  {check.metric:<{width}}  {shown}  {limits}{warn}  {RESULTS[check.status]}"


def table(verdict: Verdict) -> list[str]:
    """The checks as aligned rows with a header (a warn column when a check has a level)."""
    if not verdict.checks:
        return []
    width = max(len("metric"), *(len(c.metric) for c in verdict.checks))
    columns = (
        max(8, *(len(c.shown()) for c in verdict.checks)),
        max(8, *(len(c.limits()) for c in verdict.checks)),
    )
    warn_column = any(c.warn is not None for c in verdict.checks)
    warn = f"  {'warn':>8}" if warn_column else ""
    header = f"  {'metric':<{width}}  {'actual':>{columns[0]}}  {'max':>{columns[1]}}{warn}  result"
    return [header] + [_row(c, width, columns, warn_column) for c in verdict.checks]


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


def tasks_why(verdict: Verdict) -> str:
    """Why a step of several tasks reached its verdict: ``1 of 3 tasks failed, ...``."""
    count = len(verdict.tasks)
    failed = sum(1 for t in verdict.tasks if t.verdict.outcome is Outcome.FAILED)
    missing = sum(1 for t in verdict.tasks if t.verdict.outcome is Outcome.ERROR)
    parts = [f"{failed} of {plural(count, 'task')} failed"] if failed else []
    parts += [f"{missing} of {plural(count, 'task')} without a verdict"] if missing else []
    return ", ".join(parts) or f"{plural(count, 'task')} passed"


def all_warnings(verdict: Verdict) -> int:
    """The warned checks of the verdict, or of every task of the step."""
    return len(verdict.warned_checks) + sum(all_warnings(t.verdict) for t in verdict.tasks)


def verdict_line(verdict: Verdict) -> str:
    """One line: the outcome, and why; and the exit code when an output was lost."""
    line = f"verdict: {verdict_words(verdict)}{identity(verdict)}"
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


def verdict_words(verdict: Verdict) -> str:
    """``PASSED with 2 warnings (3 checks within their maximum)`` and the like."""
    word = WORDS[verdict.outcome]
    warned = all_warnings(verdict)
    if verdict.outcome is Outcome.PASSED and warned:
        word += f" with {plural(warned, 'warning')}"
    if verdict.tasks:
        return f"{word} ({tasks_why(verdict)})"
    checks = len(verdict.checks)
    if verdict.outcome is Outcome.FAILED:
        over = len(verdict.failed_checks)
        unreadable = sum(1 for c in verdict.checks if c.actual is None)
        limit = " or past their increase" if verdict.baseline else ""
        why = f"{over} of {plural(checks, 'check')} over their maximum{limit}"
        why += f", {unreadable} unreadable" if unreadable else ""
        gate = verdict.codearts
        if gate is not None and gate.decides and gate.state == "failed":
            why = f"CodeArts' own gate failed; {why}"
    elif verdict.outcome is Outcome.PASSED:
        why = f"{plural(checks, 'check')} within their maximum"
    else:
        why = verdict.error.kind if verdict.error else "error"
        if verdict.exit_code >= 128:  # a signal's code (130, 143): say it, it is unusual
            why += f", exit {int(verdict.exit_code)}"
    if verdict.change and verdict.change.judged:
        why += ", on the change's lines"
    return f"{word} ({why})"


def render(verdict: Verdict) -> str:
    """Table, verdict line and report link; for several tasks, each task's, then the step's."""
    if verdict.tasks:
        return tasks_render(verdict)
    lines = [*table(verdict), *baseline_lines(verdict), verdict_line(verdict)]
    if verdict.report_url:
        lines.append(f"report: {one_line(verdict.report_url, 2000)}")
    if verdict.scan:
        lines.append(f"gated: {one_line(verdict.scan.summary(), 1000)}")
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


def tasks_render(verdict: Verdict) -> str:
    """Each task under its name, indented, then the step's verdict line."""
    lines = []
    for task in verdict.tasks:
        lines.append(f"task {one_line(task.name, 80)} ({one_line(task.task_id, 80)}):")
        if task.verdict.error is not None:
            lines.append(f"  error: {one_line(task.verdict.error.message, 1000)}")
        lines += [f"  {line}" for line in render(task.verdict).splitlines()]
    lines.append(verdict_line(verdict))
    return "\n".join(lines) + "\n"
