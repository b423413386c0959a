"""The core: judge a report against a policy. Imports neither click nor requests."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from gate.defects import SEVERITIES, DefectDigest
from gate.errors import ExitCode, GateError, ReportError, final_exit_code
from gate.metrics import METRICS
from gate.policy import Policy, Threshold
from gate.report import Report
from gate.structs import field, record, replace
from gate.text import bidi_shown, encodable, redact

TYPE_CHECKING = False
if TYPE_CHECKING:  # baselines and suppressions load only for the runs that have them
    from gate.baseline import Baseline
    from gate.suppressions import SuppressionOutcome


class Outcome(enum.Enum):
    """What the gate concluded."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


@record
class Check:
    """One threshold applied: ``actual`` is ``None`` when the count could not be read.

    ``maximum`` None: no maximum (a pure ratchet, or a check that only warns).
    ``baseline``: the count the baseline holds, when one is compared with;
    ``max_increase``: how much it may have grown. ``note``: what the output must say
    about how this count was judged. ``warn``: over it, a passing count warns.
    """

    metric: str
    maximum: int | None
    actual: int | None
    problem: str | None = None
    baseline: int | None = None
    max_increase: int | None = None
    note: str | None = None
    reported: int | None = None
    """The report's count, when the judged one came from the defect list (suppressions)."""
    warn: int | None = None

    @property
    def passed(self) -> bool:
        """True only for a count that was read, is within its maximum and did not grow
        by more than allowed."""
        return self.actual is not None and self.within_maximum and self.within_increase

    @property
    def within_maximum(self) -> bool:
        """The count is at most its maximum (or there is none)."""
        return self.maximum is None or (self.actual is not None and self.actual <= self.maximum)

    @property
    def within_increase(self) -> bool:
        """The count grew by at most the allowed increase (or there is no comparison)."""
        delta = self.delta
        return self.max_increase is None or delta is None or delta <= self.max_increase

    @property
    def delta(self) -> int | None:
        """How much the count changed since the baseline; None without one."""
        if self.actual is None or self.baseline is None:
            return None
        return self.actual - self.baseline

    def shown(self) -> str:
        """``4 (+2 since the baseline)``, ``4``, or ``?`` when unreadable."""
        if self.actual is None:
            return "?"
        delta, parts = self.delta, []
        if delta is not None:
            parts.append(f"{delta:+d} since the baseline")
        if self.reported is not None and self.reported != self.actual:
            parts.append(f"report {self.reported}")
        return str(self.actual) + (f" ({'; '.join(parts)})" if parts else "")

    def limits(self) -> str:
        """``0``, ``off``, ``0, +0 since the baseline``, ``off, +0 since the baseline``."""
        maximum = "off" if self.maximum is None else str(self.maximum)
        if self.max_increase is None or self.baseline is None:
            return maximum
        return f"{maximum}, +{self.max_increase} since the baseline"

    def why_failed(self) -> str:
        """``4 > maximum 0``, ``grew by 2 > allowed +0``, or both; empty when it passed."""
        reasons = []
        if self.actual is not None and not self.within_maximum:
            reasons.append(f"{self.actual} > maximum {self.maximum}")
        if self.actual is not None and not self.within_increase:
            reasons.append(
                f"grew by {self.delta} since the baseline > allowed +{self.max_increase}"
            )
        return "; ".join(reasons)

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


@record
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


@record
class ScanInfo:
    """Which scan of a task was gated and how long it took (``--run``, ``--wait``,
    ``--task-id`` alone).

    ``source``: ``run`` (starting one failed or gave no job id: nothing was gated),
    ``started`` (by this run). ``queued_seconds`` is set when another scan of the task was
    under way first: the time the gate waited behind it (and then started its own, or
    gave up),
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
    branch: str | None = None
    """The branch the gate asked the service to scan; None when not known."""
    commit: str | None = None
    """The head commit of the change under test (the CI's), which the service may not
    have scanned: it scans the branch as it is when the scan starts."""
    files_url: str | None = None
    """Where the CI's forge shows a commit's files: ``{files_url}/{sha}/{path}#L{line}``."""

    @property
    def started_by_gate(self) -> bool:
        """True when this run started the gated scan."""
        return self.source == "started"

    @property
    def identity(self) -> str:
        """``branch main, commit 0123456789ab`` (``unknown`` where not known)."""
        return f"branch {self.branch or 'unknown'}, commit {(self.commit or 'unknown')[:12]}"

    @property
    def gated(self) -> str:
        """Which report was gated, in words."""
        if self.source in ("job", "file"):
            what = f"job {self.job_id}" if self.job_id else "the report in --report-file"
            return what + (f" of task {self.task_id}" if self.task_id else "")
        if self.source == "run":
            # not "started none": a run whose answer was lost may well have started one
            if self.queued_seconds is not None:
                return (
                    f"no scan: task {self.task_id} was busy with another scan (another "
                    "pipeline?) and this run got no job id of its own"
                )
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


PER_DEFECT_METRICS = ("critical", "major", "minor", "suggestion", "new")
"""The counts that are a number of defects: judged on the change's lines in change scope
(``new`` is every severity together)."""


@record
class ChangeView:
    """What ``--scope change`` judged: the change's base and head, how much it touches,
    and the pending defects on its added or modified lines (``digest``).

    ``judged`` is False when change scope was asked for and the whole branch was judged
    instead (``note`` says why: no change request and no ``--base``)."""

    judged: bool
    base: str | None = None
    head: str | None = None
    files: int = 0
    lines: int = 0
    digest: DefectDigest | None = None
    note: str | None = None

    def redacted(self, secrets: tuple[str, ...]) -> ChangeView:
        """This view with every secret removed from its defects."""
        return replace(self, digest=self.digest and self.digest.redacted(secrets))


@record
class CommentResult:
    """What became of the pull/merge request comment: ``created``, ``updated``,
    ``skipped`` or ``failed``, and why (never changes the verdict)."""

    status: str
    detail: str = ""
    url: str | None = None


@record
class ChangeCounts:
    """Defects per severity on the change's lines; ``complete`` False when the fetch
    ended early (a count within its maximum then cannot be trusted)."""

    by_severity: dict[str, int]
    complete: bool = True
    shortfall: str = ""

    def count(self, metric: str) -> int:
        """Defects of ``metric``'s severity on the change; ``new``: of every severity."""
        if metric == "new":
            return sum(self.by_severity.values())
        return self.by_severity.get(metric, 0)


POLICIES = ("local", "codearts", "both")
"""``--policy``: whose verdict counts: the local thresholds, CodeArts' own gate, or both."""


@record
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


@record
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
    change: ChangeView | None = None
    comment: CommentResult | None = None
    baseline: Baseline | None = None
    """The counts compared with (``--baseline``), named for every output."""
    baseline_note: str | None = None
    """Why no baseline was compared with although one was asked for (``--baseline-optional``)."""
    suppression: SuppressionOutcome | None = None
    """What the ``[[suppress]]`` entries did, when there are any."""
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
            self.scan,
            job_id=self.scan.job_id and redact(self.scan.job_id, secrets),
            branch=self.scan.branch and redact(self.scan.branch, secrets),
        )
        baseline = self.baseline and replace(
            self.baseline,
            label=redact(self.baseline.label, secrets),
            job_id=self.baseline.job_id and redact(self.baseline.job_id, secrets),
        )
        note = self.baseline_note and redact(self.baseline_note, secrets)
        suppression = self.suppression and self.suppression.redacted(secrets)
        return replace(
            self,
            error=error,
            report_url=url,
            tools=tools,
            checks=checks,
            defects=defects,
            job_id=job_id,
            scan=scan,
            change=self.change and self.change.redacted(secrets),
            baseline=baseline,
            baseline_note=note,
            suppression=suppression,
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


def _apply(report: Report, threshold: Threshold, baseline: Baseline | None = None) -> Check:
    try:
        actual = report.count(threshold.metric)
    except ReportError as err:
        return Check(
            threshold.metric, threshold.maximum, None, problem=str(err), warn=threshold.warn
        )
    check = Check(threshold.metric, threshold.maximum, actual, warn=threshold.warn)
    return against(check, threshold, baseline) if baseline is not None else check


def _apply_change(
    report: Report, threshold: Threshold, change: ChangeCounts | None, baseline: Baseline | None
) -> Check:
    """A check on the change's defects for per-defect metrics (``--scope change``), on the
    report otherwise; compared with the baseline, when given, where that means something
    (the baseline's counts are the whole branch's, never the change's)."""
    if change is None or threshold.metric not in PER_DEFECT_METRICS:
        return _apply(report, threshold, baseline)
    actual = change.count(threshold.metric)
    over = threshold.maximum is not None and actual > threshold.maximum
    if change.complete or over:  # a lower bound over the maximum still fails
        check = Check(threshold.metric, threshold.maximum, actual, warn=threshold.warn)
    else:
        problem = f"{threshold.metric} in this change: {change.shortfall}"
        check = Check(
            threshold.metric, threshold.maximum, None, problem=problem, warn=threshold.warn
        )
    if baseline is not None:
        note = "judged on the change's lines: the baseline's whole-branch count is not compared"
        check = replace(check, note=note)
    return check


def against(check: Check, threshold: Threshold, baseline: Baseline) -> Check:
    """``check`` compared with the baseline: its count there and the allowed increase (0
    unless said otherwise). A count the baseline does not carry is judged on its maximum
    alone (and says so); with no maximum either, it cannot be judged at all."""
    before = baseline.counts.get(check.metric)
    if before is None and check.maximum is None:
        problem = (
            f"the baseline ({baseline.label}) carries no {check.metric!r} count and "
            f"{check.metric} has no maximum: it cannot be judged"
        )
        return replace(check, actual=None, problem=problem)
    if before is None:
        note = f"the baseline does not carry {check.metric}: judged on its maximum alone"
        return replace(check, note=note)
    if not threshold.ratchet:
        return replace(check, baseline=before)
    increase = 0 if threshold.max_increase is None else threshold.max_increase
    return replace(check, baseline=before, max_increase=increase)


def evaluate(
    report: Report,
    policy: Policy,
    change: ChangeCounts | None = None,
    *,
    baseline: Baseline | None = None,
) -> Verdict:
    """Judge ``report`` against ``policy`` (and ``baseline``, when given); an unreadable
    count is an error, never a pass, and a count over its maximum or grown past its
    allowed increase is a failure whatever the other counts are. With ``change``
    (``--scope change``), the per-defect counts are those on the change's lines."""
    checks = tuple(_apply_change(report, t, change, baseline) for t in policy.thresholds)
    return replace(
        judged(checks),
        counts=report.readable_counts(),
        report_url=report.report_url,
        tools=report.tools,
        baseline=baseline,
    )


def judged(checks: tuple[Check, ...]) -> Verdict:
    """The verdict of ``checks`` alone: failed, error (a count unreadable) or passed."""
    unreadable = [c.problem for c in checks if c.problem]
    error = ErrorInfo.from_error(ReportError("; ".join(unreadable))) if unreadable else None
    if any(c.actual is not None and not c.passed for c in checks):
        outcome = Outcome.FAILED
    elif error:
        outcome = Outcome.ERROR
    else:
        outcome = Outcome.PASSED
    return Verdict(outcome, checks, error=error)


def without_baseline(verdict: Verdict, err: GateError, *, optional: bool) -> Verdict:
    """A verdict reached without the baseline asked for: with ``--baseline-optional`` the
    thresholds alone, saying so; otherwise no verdict (a failed check still fails)."""
    if optional:
        note = f"{err.message}; judged on the thresholds alone (--baseline-optional)"
        return replace(verdict, baseline_note=encodable(note))
    error = ErrorInfo.from_error(err)
    outcome = Outcome.FAILED if verdict.outcome is Outcome.FAILED else Outcome.ERROR
    return replace(verdict, outcome=outcome, error=error)


def error_verdict(err: GateError, job_id: str | None = None) -> Verdict:
    """The verdict when no report could be had: no checks, the error saying why."""
    return Verdict(Outcome.ERROR, job_id=job_id, error=ErrorInfo.from_error(err))


NEW_NOT_LOWERED = "suppressions do not lower new: the report does not say which defects it counts"


def with_suppressions(verdict: Verdict, outcome: SuppressionOutcome) -> Verdict:
    """The verdict judged on the defect list less the suppressed defects: each severity
    check fetched counts the pending defects not suppressed (the report's count beside
    it). Defects that could not all be fetched leave those counts unreadable: no pass."""
    from gate.suppressions import counts_without_suppressed  # noqa: PLC0415 - only with them

    digest = verdict.defects
    why = digest_problem(digest)
    counts = (
        {} if digest is None else counts_without_suppressed(digest.by_severity, outcome.suppressed)
    )
    fetched = () if digest is None else digest.severities
    checks = tuple(recounted(c, counts, fetched, why) for c in verdict.checks)
    again = judged(checks)
    error = verdict.error or again.error
    failed = again.outcome is Outcome.FAILED
    result = Outcome.FAILED if failed else Outcome.ERROR if error else Outcome.PASSED
    return replace(verdict, outcome=result, checks=checks, error=error, suppression=outcome)


def with_change_suppressions(
    verdict: Verdict, outcome: SuppressionOutcome, in_change: Mapping[str, int]
) -> Verdict:
    """The change-scope verdict (judged already on the change's defects less the suppressed
    ones, ``in_change`` per severity) with what the suppressions did; each check they
    lowered says by how much. ``new`` is the change's own count here, so it is lowered too."""

    def noted(check: Check) -> Check:
        lowered = sum(n for s, n in in_change.items() if check.metric in ("new", s))
        if not lowered or check.metric not in PER_DEFECT_METRICS:
            return check
        said = f"{lowered} suppressed defects on the change's lines not counted"
        return replace(check, note=f"{check.note}; {said}" if check.note else said)

    return replace(verdict, checks=tuple(noted(c) for c in verdict.checks), suppression=outcome)


def digest_problem(digest: DefectDigest | None) -> str | None:
    """Why the defect list cannot stand in for the report's counts, or None."""
    if digest is None or digest.error:
        reason = digest.error if digest and digest.error else "the defects were not fetched"
        return f"the suppressions need the defect list: {reason}"
    if digest.incomplete:
        return f"the suppressions need every pending defect: only {digest.shortfall()} came"
    return None


def recounted(
    check: Check, counts: dict[str, int], fetched: tuple[str, ...], why: str | None
) -> Check:
    """One check on the defect list's count (``new`` keeps the report's, and says so)."""
    if check.metric == "new":
        return replace(check, note=NEW_NOT_LOWERED)
    if check.metric not in SEVERITIES or check.actual is None:
        return check
    if why is not None:
        return replace(check, actual=None, reported=check.actual, problem=why)
    if check.metric not in fetched:  # --defect-severity left it out: the report's count
        return replace(check, note=f"{check.metric} defects were not fetched: the report's count")
    return replace(check, actual=counts[check.metric], reported=check.actual)


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


@record
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
