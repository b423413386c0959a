"""The refresh call: ``PUT /v1/jobs/{job_id}/result/refresh?async=false`` -> ``Report``.

The refresh is idempotent, so transient failures are retried inside the overall
``--timeout``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import quote

from gate.api.http import Session
from gate.api.iam import signed_in
from gate.api.transport import (
    Answer,
    Deadline,
    refuse_failure,
    send,
    with_retries,
    within,
)
from gate.report import Report, decode_json, report_from_payload
from gate.settings import Settings

log = logging.getLogger(__name__)


def refresh_url(endpoint: str, job_id: str) -> str:
    """The refresh URL; the job id is one path segment, whatever it holds."""
    return f"{endpoint}/v1/jobs/{quote(job_id, safe='')}/result/refresh"


def fetch_report(
    settings: Settings,
    session: Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_secret: Callable[[str], None] = lambda _secret: None,
) -> Report:
    """Refresh the job's report synchronously and return it; ``GateError`` otherwise.

    ``on_secret`` is told of every secret learnt on the way (the token an IAM login
    returns), so that the caller can mask it.

    ``--timeout`` is a hard bound: the exchange runs in a worker thread that is abandoned
    (the process ends soon after) if a server trickles bytes or stalls mid-body.
    """
    deadline = Deadline(settings.timeout, clock)
    return within(deadline, lambda: exchange(settings, deadline, session, sleep, on_secret))


def exchange(
    settings: Settings,
    deadline: Deadline,
    session: Session | None,
    sleep: Callable[[float], None],
    on_secret: Callable[[str], None],
) -> Report:
    """Log in if needed, then refresh, each with its retries."""
    with signed_in(settings, deadline, session, sleep, on_secret) as http:
        return refresh(http, settings, path_job_id(settings), deadline, sleep)


def path_job_id(settings: Settings) -> str:
    """The path's job id: ``--job-id``, else the task id.

    With ``task_id`` in the query the service refreshes the task's latest successful
    version-level scan, documented as ignoring the path's job. The task id stands there:
    an id of the same shape, so a format check passes. That the service then ignores
    the path is not confirmed by Huawei's docs (see the README).
    """
    job_id = settings.job_id or settings.task_id
    assert job_id, "settings guarantee a job id or a task id"
    return job_id


def refresh(
    http: Session,
    settings: Settings,
    job_id: str,
    deadline: Deadline,
    sleep: Callable[[float], None],
) -> Report:
    """Refresh ``job_id``'s report synchronously (``settings.task_id`` in the query), retried."""
    url = refresh_url(settings.endpoint, job_id)
    params = {"task_id": settings.task_id, "async": "false"}
    return with_retries(lambda: refresh_once(http, url, params, deadline), deadline, sleep)


def refresh_once(http: Session, url: str, params: dict[str, str], deadline: Deadline) -> Report:
    """One PUT: send, read the answer (bounded), interpret it."""
    deadline.check()
    answer = send(http, url, deadline, params=params)
    log.debug(
        "HTTP %d, %d bytes, request id %s", answer.status, len(answer.body), answer.request_id
    )
    return interpret(answer)


def interpret(answer: Answer) -> Report:
    """The report in an answer, or the error it stands for (errors can come with HTTP 200)."""
    refuse_failure(answer)
    payload = decode_json(answer.body, answer.content_type)
    return report_from_payload(payload, status=answer.status, request_id=answer.request_id)
