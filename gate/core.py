"""The core: judge a report against a policy. Imports neither click nor requests."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from gate.defects import DefectDigest
from gate.errors import ExitCode, GateError, ReportError, final_exit_code
from gate.metrics import METRICS
from gate.policy import Policy, Threshold
from gate.report import Report
from gate.text import encodable, redact


class Outcome(enum.Enum):
    """What the gate concluded."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


@dataclass(frozen=True)
class Check:
    """One threshold applied: ``actual`` is ``None`` when the count could not be read;
    ``maximum`` is ``None`` for a check that only warns."""

    metric: str
    maximum: int | None
    actual: int | None
    problem: str | None = None
    warn: int | None = None

    @property
    def passed(self) -> bool:
        """True only for a count that was read and is within its maximum."""
        return self.actual is not None and (self.maximum is None or self.actual <= self.maximum)

    @property
    def warned(self) -> bool:
        """True for a count within its maximum but over its warn level: passed, with a warning."""
        return self.passed and self.warn is not None and (self.actual or 0) > self.warn

    def warning_text(self) -> str:
        """``minor issues: 60, over the warn level 50 (maximum 100)``."""
        maximum = "no maximum" if self.maximum is None else f"maximum {self.maximum}"
        return f"{self.description}: {self.actual}, over the warn level {self.warn} ({maximum})"

    @property
    def status(self) -> str:
        """``pass``, ``warn``, ``fail``, or ``error`` (the count could not be read)."""
        if self.actual is None:
            return "error"
        return "fail" if not self.passed else "warn" if self.warned else "pass"

    @property
    def description(self) -> str:
        """What the metric counts, in words."""
        return METRICS[self.metric].description


@dataclass(frozen=True)
class ErrorInfo:
    """Why no verdict was reached."""

    kind: str
    message: str
    exit_code: ExitCode

    @classmethod
    def from_error(cls, err: GateError) -> ErrorInfo:
        """The summary of a ``GateError`` that the outputs show."""
        return cls(kind=err.kind, message=encodable(str(err)), exit_code=err.exit_code)


@dataclass(frozen=True)
class ScanInfo:
    """Which scan of a task was gated and how long it took (``--run``, ``--wait``,
    ``--task-id`` alone).

    ``source``: ``run`` (starting one failed), ``started`` (by this run), ``running``
    (another scan was under way: the task's latest report was gated), ``waited``
    (``--wait``) or ``latest`` (the task's latest version-level report, no wait).
    ``scan_seconds`` is known only for a scan the gate started (run to the first poll
    that saw it end); ``wait_seconds`` when it waited.
    """

    task_id: str
    source: str
    job_id: str | None = None
    status: str | None = None
    scan_seconds: float | None = None
    wait_seconds: float | None = None

    @property
    def gated(self) -> str:
        """Which report was gated, in words."""
        if self.source == "run":
            # not "started none": a run whose answer was lost may well have started one
            return f"no scan: the run of task {self.task_id} gave no job id"
        if self.job_id:
            started = " (started by the gate)" if self.source == "started" else ""
            return f"job {self.job_id}{started} of task {self.task_id}"
        running = ", after the scan under way" if self.source == "running" else ""
        return f"the latest version-level report of task {self.task_id}{running}"

    def summary(self) -> str:
        """``job J (started by the gate) of task T; scan 1 min 5 s, wait 1 min 6 s``."""
        times = [
            f"{name} {seconds_text(value)}"
            for name, value in (("scan", self.scan_seconds), ("wait", self.wait_seconds))
            if value is not None
        ]
        return self.gated + (f"; {', '.join(times)}" if times else "")


def seconds_text(seconds: float) -> str:
    """``4.2 s``, ``42 s``, ``3 min 5 s``, ``1 h 2 min``: a duration for people."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    return f"{minutes // 60} h {minutes % 60} min"


POLICIES = ("local", "codearts", "both")
"""``--policy``: whose verdict counts: the local thresholds, CodeArts' own gate, or both."""


@dataclass(frozen=True)
class CodeArtsGate:
    """CodeArts Check's own quality gate for the task, as read from the service.

    ``state``: ``passed``, ``failed`` or ``unknown`` (``problem`` says why); ``thresholds``:
    its thresholds as words, ``None`` when unknown (``thresholds_note`` says why);
    ``latest_only``: the gated scan may not be the task's latest, which ``is_access``
    describes; ``policy``: ``--policy``.
    """

    state: str
    policy: str = "local"
    problem: str | None = None
    thresholds: tuple[str, ...] | None = None
    thresholds_note: str | None = None
    latest_only: bool = False

    @property
    def decides(self) -> bool:
        """True when CodeArts' verdict counts (``--policy codearts`` or ``both``)."""
        return self.policy != "local"

    def summary(self) -> str:
        """``CodeArts gate: failed; thresholds: critical > 0`` and what it describes."""
        text = f"CodeArts gate: {self.state}"
        if self.state == "unknown" and self.problem:
            text += f" ({self.problem})"
        if self.thresholds is not None:
            text += f"; thresholds: {', '.join(self.thresholds) or 'none switched on'}"
        else:
            text += f"; thresholds unknown ({self.thresholds_note or 'not read'})"
        if self.latest_only:
            text += "; is_access describes the task's latest scan, which may not be the gated one"
        return text

    def disagreement(self, verdict: Verdict) -> str | None:
        """A line when CodeArts' gate and the local thresholds reach opposite verdicts."""
        local_failed = bool(verdict.failed_checks)
        local_passed = not local_failed and not any(c.actual is None for c in verdict.checks)
        if (self.state == "passed" and local_failed) or (self.state == "failed" and local_passed):
            local = "failed" if local_failed else "passed"
            rule = {
                "local": "the local verdict stands (--policy local)",
                "codearts": "CodeArts' verdict stands (--policy codearts)",
                "both": "the gate fails (--policy both)",
            }[self.policy]
            return f"CodeArts' own gate {self.state} but the local thresholds {local}: {rule}"
        return None

    def redacted(self, secrets: tuple[str, ...]) -> CodeArtsGate:
        """This record with every secret removed from the service's text."""
        thresholds = self.thresholds and tuple(redact(t, secrets) for t in self.thresholds)
        return replace(
            self,
            problem=self.problem and redact(self.problem, secrets),
            thresholds=thresholds,
            thresholds_note=self.thresholds_note and redact(self.thresholds_note, secrets),
        )


@dataclass(frozen=True)
class Verdict:
    """Everything the outputs show: the outcome, the checks, the counts and the context."""

    outcome: Outcome
    checks: tuple[Check, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    report_url: str | None = None
    tools: tuple[str, ...] = ()
    job_id: str | None = None
    error: ErrorInfo | None = None
    duration: float = 0.0
    warn_on_error: bool = False
    unwritten: tuple[str, ...] = ()
    """The outputs (``--junit``, ...) that could not be written: such a run never exits 0."""
    scan: ScanInfo | None = None
    defects: DefectDigest | None = None
    codearts: CodeArtsGate | None = None
    """CodeArts Check's own gate for the task, when it was read (``--task-id``)."""
    tasks: tuple[TaskVerdict, ...] = ()
    """Several tasks gated in one step: each one's verdict; this one combines them."""

    @property
    def exit_code(self) -> ExitCode:
        """The exit code of the run, ``--on-error warn`` applied; a run that lost an output
        it was asked for is a usage error rather than a pass."""
        code = final_exit_code(self.verdict_exit_code, warn_on_error=self.warn_on_error)
        return ExitCode.USAGE if self.unwritten and code is ExitCode.PASSED else code

    @property
    def verdict_exit_code(self) -> ExitCode:
        """The exit code the outcome stands for, before ``--on-error warn``: a count known
        to be over its maximum fails the gate even when another count is unreadable."""
        if self.outcome is Outcome.FAILED:
            return ExitCode.GATE_FAILED
        if self.error is not None:
            return self.error.exit_code
        return ExitCode.PASSED

    @property
    def warned(self) -> bool:
        """True when an error was turned into exit 0 by ``--on-error warn``."""
        return (
            self.error is not None
            and self.verdict_exit_code is not ExitCode.PASSED
            and final_exit_code(self.verdict_exit_code, warn_on_error=self.warn_on_error)
            is ExitCode.PASSED
        )

    def redacted(self, secrets: tuple[str, ...]) -> Verdict:
        """This verdict with every secret removed from the text the service supplied."""
        error = self.error and replace(self.error, message=redact(self.error.message, secrets))
        url = self.report_url and redact(self.report_url, secrets)
        tools = tuple(redact(t, secrets) for t in self.tools)
        checks = tuple(
            replace(c, problem=c.problem and redact(c.problem, secrets)) for c in self.checks
        )
        defects = self.defects and self.defects.redacted(secrets)
        job_id = self.job_id and redact(self.job_id, secrets)  # a run's exec_id is the service's
        scan = self.scan and replace(
            self.scan, job_id=self.scan.job_id and redact(self.scan.job_id, secrets)
        )
        return replace(
            self,
            error=error,
            report_url=url,
            tools=tools,
            checks=checks,
            defects=defects,
            job_id=job_id,
            scan=scan,
            codearts=self.codearts and self.codearts.redacted(secrets),
            tasks=tuple(replace(t, verdict=t.verdict.redacted(secrets)) for t in self.tasks),
        )

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        """The checks over their maximum."""
        return tuple(c for c in self.checks if c.actual is not None and not c.passed)

    @property
    def warned_checks(self) -> tuple[Check, ...]:
        """The checks within their maximum but over their warn level."""
        return tuple(c for c in self.checks if c.warned)


def _apply(report: Report, threshold: Threshold) -> Check:
    try:
        actual = report.count(threshold.metric)
    except ReportError as err:
        return Check(
            threshold.metric, threshold.maximum, None, problem=str(err), warn=threshold.warn
        )
    return Check(threshold.metric, threshold.maximum, actual, warn=threshold.warn)


def evaluate(report: Report, policy: Policy) -> Verdict:
    """Judge ``report`` against ``policy``; an unreadable count is an error, never a pass,
    and a count over its maximum is a failure whatever the other counts are."""
    checks = tuple(_apply(report, t) for t in policy.thresholds)
    unreadable = [c.problem for c in checks if c.problem]
    error = ErrorInfo.from_error(ReportError("; ".join(unreadable))) if unreadable else None
    if any(c.actual is not None and not c.passed for c in checks):
        outcome = Outcome.FAILED
    elif error:
        outcome = Outcome.ERROR
    else:
        outcome = Outcome.PASSED
    return Verdict(
        outcome, checks, report.readable_counts(), report.report_url, report.tools, error=error
    )


def error_verdict(err: GateError, job_id: str | None = None) -> Verdict:
    """The verdict when no report could be had: no checks, the error saying why."""
    return Verdict(Outcome.ERROR, job_id=job_id, error=ErrorInfo.from_error(err))


def with_codearts_gate(verdict: Verdict, gate: CodeArtsGate) -> Verdict:
    """The verdict with CodeArts' own gate attached and, by ``gate.policy``, counted:
    ``local`` shows it only; ``codearts`` takes it as the verdict; ``both`` fails when
    either fails. A verdict the local flow could not reach stays no verdict (the report
    was not had: CodeArts' gate may describe another scan), and an unknown CodeArts
    verdict that counts is no verdict, never a pass."""
    verdict = replace(verdict, codearts=gate)
    local_error = verdict.outcome is Outcome.ERROR or (
        gate.policy == "codearts" and verdict.error is not None
    )
    if gate.policy == "local" or local_error:
        return replace(verdict, outcome=Outcome.ERROR) if local_error else verdict
    if (gate.policy == "both" and verdict.outcome is Outcome.FAILED) or gate.state == "failed":
        return replace(verdict, outcome=Outcome.FAILED)
    if gate.state == "unknown":
        error = ErrorInfo(
            kind="codearts-gate",
            message=f"CodeArts' own gate is unknown ({gate.problem or 'not read'}), and "
            f"--policy {gate.policy} needs it: no verdict",
            exit_code=ExitCode.NO_VERDICT,
        )
        return replace(verdict, outcome=Outcome.ERROR, error=error)
    return replace(verdict, outcome=Outcome.PASSED)


@dataclass(frozen=True)
class TaskVerdict:
    """One task of a step gating several: its name, id, folder and verdict."""

    name: str
    task_id: str
    path: str | None
    verdict: Verdict


def combine_tasks(tasks: tuple[TaskVerdict, ...], duration: float = 0.0) -> Verdict:
    """One verdict for several tasks: failed (exit 1) if any task failed, whatever the
    others did; otherwise no verdict (exit 4) if any task has none; otherwise passed."""
    failed = [t for t in tasks if t.verdict.outcome is Outcome.FAILED]
    missing = [t for t in tasks if t.verdict.outcome is Outcome.ERROR]
    error = None
    if missing:
        reasons = "; ".join(
            f"{t.name}: {t.verdict.error.message if t.verdict.error else 'no verdict'}"
            for t in missing
        )
        error = ErrorInfo(
            "tasks",
            f"no verdict for {len(missing)} of {len(tasks)} tasks ({reasons})",
            ExitCode.NO_VERDICT,
        )
    outcome = Outcome.FAILED if failed else Outcome.ERROR if missing else Outcome.PASSED
    return Verdict(outcome, error=error, duration=duration, tasks=tasks)
