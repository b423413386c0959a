"""The task endpoints: run a check task, read its progress, stop it, read its check log.

Every answer may be an error with HTTP 200, so each body is checked for ``error_code``
before its fields are read (``json_of``). The run POST is not idempotent: it is sent
again only when the connection failed before the request could have left.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from urllib.parse import quote

from gate.api.http import ConnectError, Session
from gate.api.transport import (
    MAX_ATTEMPTS,
    Answer,
    Deadline,
    backoff,
    json_of,
    send,
    with_retries,
)
from gate.errors import (
    DeadlineError,
    GateError,
    NetworkError,
    ReportError,
    ServiceError,
    TransientNetworkError,
)
from gate.report import decode_json
from gate.service_errors import (
    LOG_PERMISSION,
    PROGRESS_PERMISSION,
    RUN_PERMISSION,
    STOP_PERMISSION,
    needing,
)
from gate.settings import Settings
from gate.text import one_line, redact
from gate.waiting import Progress

log = logging.getLogger(__name__)

TASK_RUNNING = "CC.00050015"
EXEC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
RATIO = re.compile(r"\s*(\d{1,3}(?:\.\d+)?)\s*%?\s*", re.ASCII)
LOG_TAIL_LINES = 12


def task_url(settings: Settings, action: str) -> str:
    """``{endpoint}/v2/tasks/{task_id}/{action}``; the task id is one path segment."""
    return f"{settings.endpoint}/v2/tasks/{quote(settings.task_id, safe='')}/{action}"


def run_body(branch: str | None) -> bytes:
    """The SDK's ``RunRequestV2``: every field optional; only ``git_branch`` is sent."""
    return json.dumps({"git_branch": branch} if branch else {}).encode("utf-8")


def run_task(
    http: Session,
    settings: Settings,
    deadline: Deadline,
    sleep: Callable[[float], None],
) -> str | None:
    """Start a scan and return its ``exec_id`` (the job id), or None if one is running.

    Sent again only after a connection that failed before the request left: a lost
    answer may mean a started scan, and a second POST a second scan.
    """
    with needing(RUN_PERMISSION):
        return send_run(http, settings, deadline, sleep)


def send_run(
    http: Session,
    settings: Settings,
    deadline: Deadline,
    sleep: Callable[[float], None],
) -> str | None:
    """The run request, sent once (again only if it cannot have left); its exec_id."""
    url = task_url(settings, "run")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        deadline.check()
        try:
            answer = send(
                http, url, deadline, method="POST", data=run_body(settings.branch),
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
        except DeadlineError as err:  # the answer was cut off: the scan may be under way
            err.message += "; the run request was sent: a scan may have started"
            raise
        except TransientNetworkError as err:
            if not request_not_sent(err) or attempt == MAX_ATTEMPTS:
                raise maybe_started(err) from None
            log.info("connection failed before the run request left; retrying")
            sleep(min(backoff(attempt, None), deadline.remaining()))
            continue
        return exec_id_of(answer)
    raise AssertionError("unreachable")  # pragma: no cover


def request_not_sent(err: GateError) -> bool:
    """True when the failure happened while connecting: nothing reached the service.

    ``transport_error`` raises ``from None``, which keeps the original on ``__context__``.
    """
    return isinstance(err.__context__, ConnectError)


def maybe_started(err: GateError) -> GateError:
    """A run request whose answer was lost: a scan may have started, so no second POST."""
    if request_not_sent(err):
        return err
    return NetworkError(
        f"{err.message}: the run request may have started a scan, so it was not sent again "
        "(a second request could start a second scan)",
        hint="look at the task's executions in the CodeArts Check console, then rerun the "
        "gate with --wait (or --job-id with that scan's id)",
    )


def body_field(answer: Answer, key: str) -> object:
    """A field of a JSON object body, whatever the HTTP status; None when absent, null,
    empty, or the body is no readable object."""
    try:
        payload = decode_json(answer.body, answer.content_type)
    except GateError:
        return None
    value = payload.get(key) if isinstance(payload, dict) else None
    return None if value in ("", None) else value


def exec_id_of(answer: Answer) -> str | None:
    """The run answer's ``exec_id``; None for ``CC.00050015`` (task is running).

    An error answer that names an ``exec_id`` all the same (``"status": "failed"`` with
    one, a busy code with one) says two things at once: a scan may have started."""
    named = body_field(answer, "exec_id")  # any exec_id, even one that is no valid id
    if body_field(answer, "error_code") == TASK_RUNNING and named is None:
        return None
    try:
        payload = json_of(answer)
    except ReportError as err:  # a 2xx body that is no answer (not JSON, a key twice)
        raise unreadable_run(err.message) from None
    except GateError as err:
        if named is None and answer.status < 500:  # refused before it ran: a 4xx, a CC code
            raise
        also = f" (yet it names exec_id {one_line(repr(named), 80)})" if named else ""
        raise unreadable_run(err.message + also) from None  # a 502/504 may hide a scan too
    exec_id = payload.get("exec_id") if isinstance(payload, dict) else None
    if not isinstance(exec_id, str) or not EXEC_ID.fullmatch(exec_id):
        raise unreadable_run(
            f"the run answer has no usable exec_id (got {one_line(repr(exec_id), 80)})"
        )
    return exec_id


def unreadable_run(message: str) -> ServiceError:
    """A run answer without a job id: a scan may have started all the same."""
    return ServiceError(
        f"{message}; the run request may have started a scan",
        hint="look at the task's executions in the CodeArts Check console, then rerun the "
        "gate with --wait (or --job-id with that scan's id)",
    )


def task_progress(http: Session, settings: Settings, deadline: Deadline) -> Progress:
    """One ``GET /v2/tasks/{task_id}/progress`` (the waiting loop retries, not this)."""
    deadline.check()
    with needing(PROGRESS_PERMISSION):
        answer = send(http, task_url(settings, "progress"), deadline, method="GET")
        return progress_of(json_of(answer), answer.retry_after)


def progress_of(payload: object, retry_after: float | None = None) -> Progress:
    """The documented progress body; a status the gate cannot read is an error."""
    if not isinstance(payload, dict) or "task_status" not in payload:
        raise ServiceError("the progress answer has no task_status")
    status = status_of(payload["task_status"])
    details = payload.get("progress")
    details = details if isinstance(details, dict) else {}
    info = details.get("info")
    return Progress(
        status=status,
        ratio=ratio_of(details.get("ratio")),
        info=one_line(info, 200) if isinstance(info, str) and info.strip() else None,
        retry_after=retry_after,
    )


STATUS_TEXTS = {str(code): code for code in (0, 1, 2, 3)}


def status_of(value: object) -> int | None:
    """``task_status``: 0-3 (an integer, or its one-digit string) or None; anything else,
    a float, a bool or a string of thousands of digits included, is an error."""
    if value is None:
        return None
    if isinstance(value, str) and value in STATUS_TEXTS:
        return STATUS_TEXTS[value]
    if type(value) is int and value in STATUS_TEXTS.values():
        return value
    raise ServiceError(f"unknown task_status {one_line(repr(value), 40)} in the progress")


def ratio_of(value: object) -> float | None:
    """``"42%"`` -> 0.42; anything unreadable -> None (the ratio only paces the polls).

    Total: any value, an integer of thousands of digits or a text of megabytes included."""
    if (type(value) is int and abs(value) <= 100) or type(value) is float:
        value = repr(float(value))  # "nan" and "inf" match nothing below
    if not isinstance(value, str) or len(value) > 40:
        return None
    match = RATIO.fullmatch(value)
    if not match:
        return None
    percent = float(match.group(1))
    return percent / 100 if percent <= 100 else None


def stop_task(
    http: Session,
    settings: Settings,
    deadline: Deadline,
    sleep: Callable[[float], None],
) -> None:
    """``POST /v2/tasks/{task_id}/stop``; its 200 body may be ``null``, empty or ``{}``."""

    def once() -> None:
        deadline.check()
        answer = send(http, task_url(settings, "stop"), deadline, method="POST")
        json_of(answer, allow_empty=True)

    with needing(STOP_PERMISSION):
        with_retries(once, deadline, sleep)


def log_tail(
    http: Session,
    settings: Settings,
    exec_id: str | None,
    deadline: Deadline,
    sleep: Callable[[float], None],
) -> list[str]:
    """The last lines of the check log of ``exec_id`` (the latest run when None)."""
    assert settings.console_project_id
    project = quote(settings.console_project_id, safe="")
    url = f"{settings.endpoint}/v2/{project}/tasks/{quote(settings.task_id, safe='')}/log-detail"
    params = {"execute_id": exec_id} if exec_id else {}

    def once() -> object:
        deadline.check()
        return json_of(send(http, url, deadline, method="GET", params=params))

    with needing(LOG_PERMISSION):
        return log_lines(with_retries(once, deadline, sleep))


def log_lines(payload: object, keep: int = LOG_TAIL_LINES) -> list[str]:
    """The last ``keep`` lines of the ``log_info`` entries (each entry's ``log``, then its
    ``analysis``), each folded onto one line: only those kept are folded, so that a log of
    millions of lines costs a split, not millions of redactions."""
    entries = payload.get("log_info") if isinstance(payload, dict) else None
    lines: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        for key in ("log", "analysis"):
            text = entry.get(key)
            if isinstance(text, str):
                lines += [line for line in text.splitlines() if line.strip()]
    kept = redact("\n".join(lines[-keep:])) if keep > 0 else ""  # a secret wrapped over lines
    return [one_line(line, 300) for line in kept.split("\n") if line.strip()]
