"""The task's scan history: ``GET /v2/{project_id}/tasks/{task_id}/checkrecord``.

In the official SDK (``check_record``). ``limit`` is at most 1000 and ``start_time`` /
``end_time`` filter on a scan's start (UTC ``yyyy-MM-ddTHH:mm:ssZ``). The order of
``data`` is not documented, so the latest scans are found by narrowing the window
rather than by paging: 90 days, then 14, then 2, until one answer holds every record of
its window (at most three requests, each inside the overall deadline).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import quote

import requests

from gate.api.transport import Deadline, json_of, send, with_retries
from gate.records import MAX_RECORDS, History, api_time, history_of
from gate.settings import Settings

log = logging.getLogger(__name__)

WINDOWS_DAYS = (90, 14, 2)
"""The windows asked for, widest first: the durations and the baseline use the latest."""


def checkrecord_url(settings: Settings, project: str) -> str:
    """``{endpoint}/v2/{project_id}/tasks/{task_id}/checkrecord``, ids one segment each."""
    task = quote(settings.task_id, safe="")
    return f"{settings.endpoint}/v2/{quote(project, safe='')}/tasks/{task}/checkrecord"


def task_history(
    http: requests.Session,
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
