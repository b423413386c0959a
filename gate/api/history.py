"""The task's scan history: ``GET /v2/{project_id}/tasks/{task_id}/checkrecord``.

In the official SDK (``check_record``). ``limit`` is at most 1000 and ``start_time`` /
``end_time`` filter on a scan's start (UTC ``yyyy-MM-ddTHH:mm:ssZ``). The order of
``data`` is not documented, so the latest scans are found by narrowing the window
rather than by paging: 90 days, then 14, then 2, until one answer holds every record of
its window (at most three requests, each inside the overall deadline).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import quote

from gate.api.http import Session
from gate.api.iam import signed_in
from gate.api.refresh import fetch_report
from gate.api.transport import Deadline, json_of, send, with_retries, within
from gate.baseline import (
    Baseline,
    BaselineSpec,
    baseline_of_record,
    baseline_of_report,
    previous_record,
)
from gate.errors import BaselineError, DeadlineError, GateError, Interrupted
from gate.records import MAX_RECORDS, History, api_time, history_of
from gate.settings import Settings
from gate.structs import replace

if TYPE_CHECKING:
    from gate.waiting import ScanLog

log = logging.getLogger(__name__)

WINDOWS_DAYS = (90, 14, 2)
"""The windows asked for, widest first: the durations and the baseline use the latest."""


def checkrecord_url(settings: Settings, project: str) -> str:
    """``{endpoint}/v2/{project_id}/tasks/{task_id}/checkrecord``, ids one segment each."""
    task = quote(settings.task_id, safe="")
    return f"{settings.endpoint}/v2/{quote(project, safe='')}/tasks/{task}/checkrecord"


def task_history(
    http: Session,
    settings: Settings,
    project: str,
    deadline: Deadline,
    sleep: Callable[[float], None],
    *,
    now: datetime,
) -> History:
    """The task's scans that started in the widest window whose records all fit one
    answer (the narrowest window's, cut, when none does)."""
    url = checkrecord_url(settings, project)
    history = History()
    for days in WINDOWS_DAYS:
        params = {
            "offset": "0",
            "limit": str(MAX_RECORDS),
            "start_time": api_time(now - timedelta(days=days)),
            "end_time": api_time(now),
        }

        def once(query: dict[str, str] = params) -> History:
            deadline.check()
            return history_of(json_of(send(http, url, deadline, method="GET", params=query)))

        history = with_retries(once, deadline, sleep)
        if not history.cut:
            return history
        log.info("the scan history of %d days holds %s records: narrowing", days, history.total)
    return history


def service_baseline(
    settings: Settings,
    spec: BaselineSpec,
    scan: ScanLog | None,
    on_secret: Callable[[str], None] = lambda _secret: None,
    budget: float | None = None,
) -> Baseline:
    """The baseline the service keeps: the task's previous scan (from the history the
    wait read, or read here) or a job's report, within ``budget`` seconds (what is left of
    ``--timeout``). ``BaselineError`` saying why it cannot be had (an interruption or the
    deadline still ends the run as such)."""
    if budget is not None:
        settings = replace(settings, timeout=max(budget, 0.001))
    try:
        if spec.kind == "job":
            job = replace(settings, job_id=spec.value, task_id="")
            report = fetch_report(job, on_secret=on_secret)
            return baseline_of_report(report, spec.value)
        history = history_of_scan(scan) if scan is not None else None
        history = history or history_alone(settings, on_secret)
        started = scan.started_utc if scan is not None else None
        started = started or history.running_since()
        latest_is_gated = scan is None or scan.source == "latest"
        return baseline_of_record(previous_record(history, started, latest_is_gated))
    except (Interrupted, DeadlineError, BaselineError):
        raise
    except GateError as err:
        raise BaselineError(
            f"--baseline {spec.describe()} could not be had: {err.message}",
            hint="fix the cause, or add --baseline-optional to judge the maximums alone",
        ) from None


def history_of_scan(scan: ScanLog) -> History | None:
    """The history the task flow read; ``BaselineError`` when it tried and could not."""
    if scan.history is None and scan.history_error:
        raise BaselineError(
            f"--baseline previous: the task's scan history could not be read: {scan.history_error}"
        )
    return scan.history


def history_alone(settings: Settings, on_secret: Callable[[str], None]) -> History:
    """The task's history read outside the task flow (``--job-id`` with ``--task-id``)."""
    project = settings.console_project_id
    if not project:
        raise BaselineError(
            "--baseline previous: the task's scan history needs the CodeArts project: set "
            "--console-project-id (or let the gate wait for the task with --run or --wait)"
        )
    deadline = Deadline(settings.timeout)
    with signed_in(settings, deadline, None, time.sleep, on_secret) as http:
        return within(
            deadline,
            lambda: task_history(
                http, settings, project, deadline, time.sleep, now=datetime.now(timezone.utc)
            ),
        )
