"""The core: judge a report against a policy. Imports neither click nor requests."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from gate.defects import DefectDigest
from gate.errors import ExitCode, GateError, ReportError, final_exit_code
from gate.metrics import METRICS
from gate.policy import Policy, Threshold
from gate.report import Report
from gate.text import bidi_shown, encodable, redact


class Outcome(enum.Enum):
    """What the gate concluded."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


@dataclass(frozen=True)
class Check:
    """One threshold applied: ``actual`` is ``None`` when the count could not be read."""

    metric: str
    maximum: int
    actual: int | None
    problem: str | None = None

    @property
    def passed(self) -> bool:
        """True only for a count that was read and is within its maximum."""
        return self.actual is not None and self.actual <= self.maximum

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
        """The summary of a ``GateError`` that the outputs show (invisible characters shown
        escaped: every format carries the message, not all of them escape it)."""
        message = bidi_shown(encodable(str(err)))
        return cls(kind=err.kind, message=message, exit_code=err.exit_code)


@dataclass(frozen=True)
class ScanInfo:
    """Which scan of a task was gated and how long it took (``--run``, ``--wait``,
    ``--task-id`` alone).

    ``source``: ``run`` (starting one failed or gave no job id: nothing was gated),
    ``started`` (by this run; ``queued_seconds`` set when another scan of the task was
    under way first and the gate waited for it to end before starting its own),
    ``waited`` (``--wait``) or ``latest`` (the task's latest version-level report, no
    wait). ``scan_seconds`` is known only for a scan the gate started (run to the first
    poll that saw it end); ``wait_seconds`` when it waited for the gated scan.
    """

    task_id: str
    source: str
    job_id: str | None = None
    status: str | None = None
    scan_seconds: float | None = None
    wait_seconds: float | None = None
    queued_seconds: float | None = None

    @property
    def gated(self) -> str:
        """Which report was gated, in words."""
        if self.source == "run":
            # not "started none": a run whose answer was lost may well have started one
            return f"no scan: the run of task {self.task_id} gave no job id"
        if self.job_id:
            started = " (started by the gate)" if self.source == "started" else ""
            if self.source == "started" and self.queued_seconds is not None:
                started = " (started by the gate after another scan of the task ended)"
            return f"job {self.job_id}{started} of task {self.task_id}"
        return f"the latest version-level report of task {self.task_id}"

    def summary(self) -> str:
        """``job J (started by the gate) of task T; scan 1 min 5 s, wait 1 min 6 s``."""
        times = [
            f"{name} {seconds_text(value)}"
            for name, value in (
                ("queued", self.queued_seconds),
                ("scan", self.scan_seconds),
                ("wait", self.wait_seconds),
            )
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
        )

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        """The checks over their maximum."""
        return tuple(c for c in self.checks if c.actual is not None and not c.passed)


def _apply(report: Report, threshold: Threshold) -> Check:
    try:
        actual = report.count(threshold.metric)
    except ReportError as err:
        return Check(threshold.metric, threshold.maximum, None, problem=str(err))
    return Check(threshold.metric, threshold.maximum, actual)


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
