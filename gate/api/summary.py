"""CodeArts Check's own quality gate for a task: its verdict and, where available, its
thresholds.

- ``GET /v2/tasks/{task_id}/defects-summary`` (in the SDK): ``is_access`` is the gate's
  verdict for the task's *latest* scan. Its values are undocumented: only the obvious
  spellings are read (``"1"``/``"0"``, ``"true"``/``"false"``, ``"pass"``/``"fail"``, any
  case); anything else, empty or missing is "unknown", never a pass.
- ``GET /v2/transmission/review-data`` (**docs-only**, not in the SDK): the project's gate
  thresholds. Behind a fallback: any failure (404 ``APIGW.0101`` included) leaves them
  "unknown"; their shape is read leniently.

Both calls run inside what is left of ``--timeout``; an answer can be an error with HTTP
200, so every body is checked for ``error_code`` first (``json_of``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import quote

from gate.api.http import Session
from gate.api.iam import signed_in
from gate.api.transport import Deadline, json_of, send, with_retries, within
from gate.core import CodeArtsGate
from gate.errors import GateError, Interrupted
from gate.settings import Settings
from gate.structs import replace
from gate.text import one_line

log = logging.getLogger(__name__)

ACCESS_WORDS = {"1": "passed", "true": "passed", "pass": "passed"}
ACCESS_WORDS |= {"0": "failed", "false": "failed", "fail": "failed"}
MAX_THRESHOLDS = 20


def access_state(payload: object) -> tuple[str, str | None]:
    """(``passed``/``failed``/``unknown``, why unknown) from a defects-summary answer."""
    value = payload.get("is_access") if isinstance(payload, dict) else None
    if isinstance(value, bool):  # a JSON boolean is as plain as its string
        value = str(value)
    if type(value) is int:
        value = str(value)
    if isinstance(value, str) and value.lower() in ACCESS_WORDS:
        return ACCESS_WORDS[value.lower()], None
    if value is None or value == "":
        return "unknown", "the task summary has no is_access"
    return "unknown", f"is_access {one_line(repr(value), 40)} is not a verdict the gate can read"


def summary_url(settings: Settings) -> str:
    """``{endpoint}/v2/tasks/{task_id}/defects-summary``."""
    return f"{settings.endpoint}/v2/tasks/{quote(settings.task_id, safe='')}/defects-summary"


def review_url(settings: Settings) -> str:
    """``{endpoint}/v2/transmission/review-data`` (docs-only)."""
    return f"{settings.endpoint}/v2/transmission/review-data"


def thresholds_of(payload: object) -> tuple[str, ...] | None:
    """The switched-on thresholds of a review-data answer as ``name compare value``; None
    when the answer holds no list of thresholds the gate recognises."""
    items = payload if isinstance(payload, list) else None
    for key in ("reviewData", "review_data", "data", "result"):
        if items is None and isinstance(payload, dict) and isinstance(payload.get(key), list):
            items = payload[key]
    if items is None or not all(isinstance(item, dict) for item in items):
        return None
    return tuple(
        one_line(f"{item.get('name')} {item.get('compareType', '>')} {item.get('value')}", 80)
        for item in items[:MAX_THRESHOLDS]
        if str(item.get("isCheck", "1")) in ("1", "True")
    )


def read_codearts_gate(
    settings: Settings,
    seconds: float,
    project_id: str | None,
    *,
    latest_only: bool,
    on_secret: Callable[[str], None] = lambda _secret: None,
    sleep: Callable[[float], None] = time.sleep,
) -> CodeArtsGate:
    """CodeArts' gate for ``settings.task_id`` within ``seconds``; never raises: what
    could not be read is "unknown", saying why."""
    deadline = Deadline(max(seconds, 0.0))
    gate = CodeArtsGate("unknown", policy=settings.verdict_policy, latest_only=latest_only)
    try:
        return within(
            deadline,
            lambda: exchange(
                settings, deadline, gate, project_id, on_secret=on_secret, sleep=sleep
            ),
        )
    except Interrupted:
        raise  # the user stopped the run: no "unknown" gate, the run ends (143/130)
    except GateError as err:
        return _unknown(gate, err)


def _unknown(gate: CodeArtsGate, err: GateError) -> CodeArtsGate:
    return replace(gate, problem=one_line(err.message, 300), thresholds_note="not read")


def exchange(
    settings: Settings,
    deadline: Deadline,
    gate: CodeArtsGate,
    project_id: str | None,
    *,
    on_secret: Callable[[str], None],
    sleep: Callable[[float], None],
) -> CodeArtsGate:
    """Sign in, read the summary (retried), then the thresholds (once, docs-only)."""
    with signed_in(settings, deadline, None, sleep, on_secret) as http:
        try:
            summary = with_retries(
                lambda: get(http, summary_url(settings), deadline), deadline, sleep
            )
        except Interrupted:
            raise
        except GateError as err:
            return _unknown(gate, err)
        state, problem = access_state(summary)
        thresholds, note = review_thresholds(http, settings, project_id, deadline)
    return replace(gate, state=state, problem=problem, thresholds=thresholds, thresholds_note=note)


def get(
    http: Session, url: str, deadline: Deadline, params: dict[str, str] | None = None
) -> object:
    """One GET; the decoded body or the error it stands for."""
    deadline.check()
    return json_of(send(http, url, deadline, method="GET", params=params or {}))


def review_thresholds(
    http: Session, settings: Settings, project_id: str | None, deadline: Deadline
) -> tuple[tuple[str, ...] | None, str | None]:
    """(thresholds, why unknown) from the docs-only review-data endpoint; never raises."""
    if not project_id:
        return None, "no CodeArts project id to ask for them (--console-project-id)"
    params = {"project_id": project_id, "domain_id": "", "is_check_project": "1"}
    try:
        payload = get(http, review_url(settings), deadline, params)
    except GateError as err:
        if "APIGW.0101" in err.message or "HTTP 404" in err.message:
            return None, "review-data, a docs-only endpoint, is not available here"
        return None, f"review-data failed: {one_line(err.message, 200)}"
    thresholds = thresholds_of(payload)
    if thresholds is None:
        return None, "review-data answered in a shape the gate does not know"
    return thresholds, None
