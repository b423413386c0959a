"""From task to report: run the check task (or join its scan), wait for it, refresh.

- ``--run``: ``POST run``, its ``exec_id`` is the job; wait; refresh that job alone.
- ``CC.00050015`` from the run (another scan is under way, often another pipeline's on
  another branch): wait for that scan to end, whatever its outcome, then send our own run
  (a busy answer again: wait again), all inside ``--timeout``; the job gated is ours.
- ``--wait``: wait for the task's current scan, then refresh ``--job-id`` or the task's
  latest report.
- ``--task-id`` alone: refresh the task's latest report at once.

Every HTTP call runs through ``within`` so the overall ``--timeout`` bounds it; the wait
itself (``gate.waiting``) runs on the caller's thread, where signals land.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TypeVar

from gate.api.history import task_history
from gate.api.http import Session
from gate.api.iam import authenticate
from gate.api.refresh import path_job_id, refresh
from gate.api.tasks import log_tail, run_task, stop_task, task_progress
from gate.api.transport import Deadline, build_session, log_proxy, within
from gate.core import seconds_text
from gate.errors import DeadlineError, GateError, Interrupted, ScanError
from gate.report import Report
from gate.settings import Settings, project_in_url
from gate.structs import record, replace
from gate.text import one_line
from gate.waiting import (
    FAILED,
    FIRST_POLL,
    STOPPED,
    SUCCEEDED,
    AdaptiveSchedule,
    Expectation,
    HistorySchedule,
    Progress,
    ScanLog,
    Schedule,
    Waiter,
    wait_for_scan,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

STOP_BUDGET = 5.0  # seconds for the stop call after a timeout or a signal


@record(frozen=False)
class Tools:
    """The injectable parts: clock, sleep, heartbeat, schedule, session."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    heartbeat: Callable[[Progress | None, float], None] = lambda _p, _e: None
    tick: float = 10.0
    schedule: Callable[[float, tuple[float, float] | None], Schedule] = AdaptiveSchedule
    session: Session | None = None
    on_secret: Callable[[str], None] = lambda _secret: None
    wall: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    on_estimate: Callable[[Callable[[], str | None]], None] = lambda _estimate: None
    """Handed the wait's estimate of the time left (the heartbeat shows it)."""


@record(frozen=False)
class Flow:
    """One task flow's shared state: the session, settings, deadline, tools, what it learnt."""

    http: Session
    settings: Settings
    deadline: Deadline
    tools: Tools
    scan: ScanLog
    project_sought: bool = False
    """True once the project was looked for in the latest report (one request per run)."""

    def call(self, step: Callable[[], T]) -> T:
        """One HTTP step, bounded by the overall deadline."""
        return within(self.deadline, step)

    def poll(self) -> Progress:
        """One progress call, bounded by the overall deadline."""
        return self.call(lambda: task_progress(self.http, self.settings, self.deadline))

    def waiter(self, heartbeat: Callable[[Progress | None, float], None] | None = None) -> Waiter:
        """The polling loop's tools, up to the overall deadline (``heartbeat``: the tools'
        own unless another is given)."""
        tools = self.tools
        return Waiter(
            tools.clock, tools.sleep, self.deadline.ends_at, self.settings.timeout,
            heartbeat or tools.heartbeat, tools.tick,
        )  # fmt: skip


def gate_task(settings: Settings, scan: ScanLog, tools: Tools | None = None) -> Report:
    """Run, join or skip the scan as the settings say, wait for it, return its report."""
    tools = tools or Tools()
    deadline = Deadline(settings.timeout, tools.clock)
    log_proxy(settings.endpoint)
    with tools.session or build_session(settings) as http:
        flow = Flow(http, settings, deadline, tools, scan)
        flow.call(lambda: authenticate(http, settings, deadline, tools.sleep, tools.on_secret))
        if settings.run:
            start(flow)
        elif settings.wait:
            scan.job_id = settings.job_id
        if settings.wait or wants_history(settings):
            learn_history(flow)
        if settings.wait:
            require_success(flow, wait(flow))
        return flow.call(lambda: refresh_gated(flow))


def start(flow: Flow) -> None:
    """``POST run`` until the task takes it: the new scan's job id. A busy task
    (``CC.00050015``) runs someone else's scan, which is not the one asked for: wait for
    it to end, then send ours."""
    settings, scan = flow.settings, flow.scan
    where = f" on branch {one_line(settings.branch, 100)}" if settings.branch else ""
    log.warning("starting a scan of task %s%s", settings.task_id, where + branch_origin(settings))
    queued_since = flow.tools.clock()
    try:
        while (exec_id := run_or_cancel(flow)) is None:
            log.warning(
                "another scan of task %s is under way (CC.00050015; another pipeline?): "
                "waiting for it to end, then starting ours",
                settings.task_id,
            )
            scan.busy_answers += 1
            wait_for_other(flow)
    finally:  # the time spent behind other scans, whether ours started or not
        if scan.busy_answers:
            scan.queued_seconds = flow.tools.clock() - queued_since
    scan.source, scan.job_id, scan.started_at = "started", exec_id, flow.tools.clock()
    scan.started_utc = flow.tools.wall()
    if scan.busy_answers:
        log.warning(
            "waited for another scan of the task (another pipeline?), then started ours: %s",
            exec_id,
        )
    else:
        log.warning("started scan %s", exec_id)


def wait_for_other(flow: Flow) -> None:
    """Poll the progress until the scan under way (not ours) ends, whatever its outcome.
    Nothing is stopped when the gate gives up: that scan is not this gate's."""
    other, tools = ScanLog(flow.settings.task_id, "other"), flow.tools
    try:
        schedule = tools.schedule(tools.clock(), None)
        final = wait_for_scan(flow.poll, schedule, flow.waiter(), other)
    except GateError as err:
        err.message = (
            f"another scan of task {flow.settings.task_id} (another pipeline?) was under way"
            f" and the gate gave up waiting for it: {err.message}; ours was not started"
        )
        if isinstance(err, DeadlineError):
            err.hint = (
                "let pipelines of this task queue (a concurrency group, resource_group or "
                "lock: see the README), or raise --timeout"
            )
        raise
    log.warning("the other scan of task %s ended (%s)", flow.settings.task_id, final.describe())


def run_or_cancel(flow: Flow) -> str | None:
    """``POST run``. A signal or the deadline during it: the request may still start a
    scan, so its answer is awaited a moment and, with ``--cancel-on-timeout``, the scan
    it started is stopped (a cancelled pipeline leaves no scan running)."""
    answered, run = threading.Event(), RunAnswer()

    def post() -> str | None:
        try:
            run.exec_id = run_task(flow.http, flow.settings, flow.deadline, flow.tools.sleep)
            return run.exec_id
        finally:
            answered.set()

    try:
        return flow.call(post)
    except (DeadlineError, Interrupted) as err:
        raise interrupted_run(flow, err, answered, run) from None


@record(frozen=False)
class RunAnswer:
    """What the run request returned, kept for a gate interrupted while it was under way."""

    exec_id: str | None = None


def interrupted_run(
    flow: Flow, err: GateError, answered: threading.Event, run: RunAnswer
) -> GateError:
    """The error of a gate that gave up during the run request, after stopping the scan
    that request started when ``--cancel-on-timeout`` asks for it."""
    budget = Deadline(STOP_BUDGET if flow.settings.cancel_on_timeout else 0.0, flow.tools.clock)
    if not answered.wait(budget.remaining()):
        err.message += "; the run request was under way: a scan may have started"
        return err
    if run.exec_id is None:
        return err  # the run failed, or another scan was under way: none started here
    flow.scan.source, flow.scan.job_id = "started", run.exec_id
    return cancel(flow, err, budget)  # one budget for both: a CI kills ~10 s after SIGTERM


def branch_origin(settings: Settings) -> str:
    """`` (from GITHUB_HEAD_REF)`` when the branch is the CI's, not given."""
    source = settings.branch_source
    from_ci = settings.branch and source and "--branch" not in source
    return f" (from {source})" if from_ci else ""


def wait(flow: Flow) -> Progress:
    """Poll the progress until the scan ends; when the gate gives up (timeout, signal, an
    error of the progress call), stop it if asked."""
    tools, scan = flow.tools, flow.scan
    anchor = (scan.started_at, 0.0) if scan.started_at is not None else None
    schedule = informed(flow, tools.schedule(tools.clock(), anchor))
    waiter = flow.waiter(overrun_warning(flow, schedule, tools.heartbeat))
    try:
        first = FIRST_POLL if anchor else 0.0
        return wait_for_scan(flow.poll, schedule, waiter, scan, first=first)
    except GateError as err:  # a timeout, a signal, a poll error: the gate gives up
        raise cancel(flow, err) from None


def cancel(flow: Flow, err: GateError, budget: Deadline | None = None) -> GateError:
    """With ``--cancel-on-timeout``, stop the scan this gate started, within ``budget``
    (``STOP_BUDGET`` seconds by default); say what happened."""
    if not flow.settings.cancel_on_timeout:
        return err
    if flow.scan.source != "started":
        err.message += "; the scan was not stopped: this gate did not start it"
        return err
    budget = budget or Deadline(STOP_BUDGET, flow.tools.clock)
    try:
        within(budget, lambda: stop_task(flow.http, flow.settings, budget, flow.tools.sleep))
    except DeadlineError:  # the stop's own budget ran out, not --timeout: say which
        err.message += (
            f"; stopping the scan did not finish within the stop's {budget.seconds:g} s "
            f"budget: scan {flow.scan.job_id} may still be running"
        )
        return err
    except GateError as stop_error:
        err.message += f"; stopping the scan failed: {stop_error.message}"
        return err
    err.message += f"; scan {flow.scan.job_id} was stopped (--cancel-on-timeout)"
    return err


def require_success(flow: Flow, final: Progress) -> None:
    """Return for a succeeded scan; a ``ScanError`` saying why otherwise."""
    task = flow.settings.task_id
    if final.status == SUCCEEDED:
        return
    if final.status == STOPPED:
        raise ScanError(
            f"the scan of task {task} was stopped outside the gate",
            hint="run the task again (or rerun this job)",
        )
    if final.status != FAILED:
        raise ScanError(f"the task {task} has never run", hint="run it with --run")
    detail = f" ({final.info})" if final.info else ""
    raise ScanError(f"the scan of task {task} failed (check failed){detail}{check_log(flow)}")


def check_log(flow: Flow) -> str:
    """The last lines of the check log, printed and summed up; or how to get them."""
    project = known_project(flow)
    if not project:
        return (
            "; to see the check log here, set --console-project-id (the CodeArts project id, "
            "or a console URL holding /project/ID/)"
        )
    settings = replace(flow.settings, console_project_id=project)
    try:
        lines = flow.call(
            lambda: log_tail(flow.http, settings, flow.scan.job_id, flow.deadline, flow.tools.sleep)
        )
    except GateError as err:
        return f"; the check log could not be read: {err.message}"
    for line in lines:
        log.error("check log: %s", line)
    return f"; check log, last lines: {' | '.join(lines[-3:])}" if lines else ""


def known_project(flow: Flow) -> str | None:
    """The CodeArts project: given, or read once from the task's latest report."""
    if flow.settings.console_project_id or flow.project_sought:
        return flow.settings.console_project_id
    flow.project_sought = True
    project = project_of_latest_report(flow)
    if project:
        flow.settings = replace(flow.settings, console_project_id=project)
    return project


def project_of_latest_report(flow: Flow) -> str | None:
    """The CodeArts project id after ``/project/`` in the task's latest report's link, if
    the task has one (the log-detail path needs it); None when that cannot be had."""
    log.info("reading the CodeArts project from the task's latest report")
    settings = flow.settings
    try:
        report = flow.call(
            lambda: refresh(
                flow.http, settings, path_job_id(settings), flow.deadline, flow.tools.sleep
            )
        )
    except GateError as err:
        log.info("no latest report to read the project from: %s", err.message)
        return None
    return project_in_url(report.report_url)


def refresh_gated(flow: Flow) -> Report:
    """Refresh the scan this run gates: a job alone (no task_id, which would pick the
    task's latest), or the task's latest version-level report (``--wait``, ``--task-id``
    alone). A ``--run`` without its own job id gates nothing: no report of another scan
    may stand in for it."""
    settings, job_id = flow.settings, flow.scan.job_id
    if job_id:
        return refresh(
            flow.http, replace(settings, task_id=""), job_id, flow.deadline, flow.tools.sleep
        )
    if settings.run:
        raise ScanError(f"the run of task {settings.task_id} gave no job id: nothing to gate")
    return refresh(flow.http, settings, path_job_id(settings), flow.deadline, flow.tools.sleep)


def wants_history(settings: Settings) -> bool:
    """True when the baseline is the task's previous scan (read from its history)."""
    return settings.baseline is not None and settings.baseline.kind == "previous"


def learn_history(flow: Flow) -> None:
    """Read the task's past scans into the scan log; without them, say why once (the wait
    keeps today's schedule, a ``previous`` baseline is then missing)."""
    project = known_project(flow)
    without = "; polling without it" if flow.settings.wait else ""
    if not project:
        flow.scan.history_error = "the CodeArts project is not known (set --console-project-id)"
        log.warning("no scan history: %s%s", flow.scan.history_error, without)
        return
    settings = flow.settings
    try:
        flow.scan.history = flow.call(
            lambda: task_history(
                flow.http, settings, project, flow.deadline, flow.tools.sleep, now=flow.tools.wall()
            )
        )
    except (DeadlineError, Interrupted):
        raise
    except GateError as err:
        flow.scan.history_error = err.message
        log.warning("no scan history (%s)%s", err.message, without)
        return
    log.info("scan history: %d past scans read", len(flow.scan.history.records))


def informed(flow: Flow, schedule: Schedule) -> Schedule:
    """The schedule told how long the task's scans take, when the history says and the
    scan's start is known; as given otherwise (said once)."""
    history, tools = flow.scan.history, flow.tools
    expected = Expectation.of(history.durations()) if history else None
    if expected is None or not isinstance(schedule, AdaptiveSchedule):
        if history is not None and isinstance(schedule, AdaptiveSchedule):
            log.warning("no finished scan in the task's history: polling without it")
        return schedule
    started = scan_start(flow, expected)
    if started is None:
        log.warning("the start of the scan under way is not known: polling without the history")
        return schedule
    warn_short_timeout(flow.settings.timeout, expected)
    informed = HistorySchedule(schedule, expected, started)
    tools.on_estimate(lambda: informed.left(tools.clock()))
    return informed


def scan_start(flow: Flow, expected: Expectation) -> float | None:
    """When the awaited scan started, on the wait's clock: the gate's own start, or the
    history's running record (trusted only when it started within twice the longest
    plausible scan, or within ``RECENT_START`` for short ones: a record without an end
    from long ago is a stale one, not the scan under way)."""
    scan, tools = flow.scan, flow.tools
    if scan.started_at is not None:
        return scan.started_at
    since = scan.history.running_since() if scan.history else None
    if since is None:
        return None
    ago = (tools.wall() - since).total_seconds()
    return tools.clock() - ago if 0 <= ago <= max(2 * expected.high, RECENT_START) else None


RECENT_START = 60.0
"""Seconds within which a running record's start is trusted whatever the scans' length
(the gate itself may take seconds to start on a loaded runner)."""


def warn_short_timeout(timeout: float, expected: Expectation) -> None:
    """One warning when ``--timeout`` is under 1.5 times the 95th percentile of past scans."""
    if timeout < 1.5 * expected.p95:
        log.warning(
            "scans of this task took up to %s; --timeout is %s",
            seconds_text(expected.p95),
            seconds_text(timeout),
        )


def overrun_warning(
    flow: Flow, schedule: Schedule, heartbeat: Callable[[Progress | None, float], None]
) -> Callable[[Progress | None, float], None]:
    """The heartbeat, plus one warning line once the scan runs past twice its usual time."""
    if not isinstance(schedule, HistorySchedule):
        return heartbeat
    warned: list[bool] = []
    clock, usual = flow.tools.clock, schedule.expected.median

    def beat(progress: Progress | None, elapsed: float) -> None:
        ran = clock() - schedule.scan_started
        if not warned and ran > 2 * usual and (progress is None or not progress.finished):
            warned.append(True)
            log.warning(
                "the scan has run %s, over twice its usual %s (%s)",
                seconds_text(ran),
                seconds_text(usual),
                schedule.expected.source(),
            )
        heartbeat(progress, elapsed)

    return beat
