"""Pull and merge request comments over the forges' REST APIs (GitHub, GitLab).

Beside ``gate.api`` (the CodeArts service) and apart from the runner's workflow commands
(``gate.github``). One comment per change request and task, found again by a hidden
marker and edited in place. Every call goes through ``gate.api.transport.send`` (no
redirects, bounded reads, inside the deadline); a rate limit is waited out only when
the wait the forge asks for fits in the time left.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from gate.api.http import Session
from gate.api.transport import Answer, Deadline, backoff, send
from gate.errors import CommentError, GateError, TransientNetworkError
from gate.structs import record
from gate.text import one_line, preview

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
MAX_PAGES = 100
"""Pages of comments read at most (100 each): a change request with more is not searched
further (the comment is then created anew)."""
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@record
class CommentTarget:
    """Where the comment goes: the API's base URL, the repository (``owner/name``) or
    project id, the change request's number, and the marker that finds it again."""

    api: str
    where: str
    number: str
    marker: str


@record(frozen=False)
class ForgeCall:
    """The shared machinery of one forge's calls: session, deadline, sleep, clock."""

    http: Session
    deadline: Deadline
    sleep: Callable[[float], None] = time.sleep
    wall: Callable[[], float] = time.time
    token_hint: str = ""
    """What a 401/403 means for this forge's token, in words."""

    def __call__(self, method: str, url: str, *, repeatable: bool = True, **kwargs: Any) -> Answer:
        """One call, retried on rate limits (and, when ``repeatable``, on 5xx and network
        faults) while the wait fits in the time left; ``CommentError`` on a refusal."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                answer = send(self.http, url, self.deadline, method=method, **kwargs)
            except TransientNetworkError as error:
                if not repeatable or not self._wait(attempt, backoff(attempt, None)):
                    raise CommentError(error.message) from None
                continue
            if 200 <= answer.status < 300:
                return answer
            wait = self.retry_wait(answer, attempt)
            limited = self.rate_limited(answer)
            if (limited or (repeatable and answer.status in RETRIED_STATUSES)) and self._wait(
                attempt, wait
            ):
                continue
            raise self.refusal(answer, wait if limited else None)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int, seconds: float) -> bool:
        """Sleep ``seconds`` before another attempt; False when none is left or it would
        not fit in the time left."""
        if attempt == MAX_ATTEMPTS or seconds >= self.deadline.remaining():
            return False
        log.info("comment: retrying in %.1f s", seconds)
        self.sleep(seconds)
        return True

    @staticmethod
    def rate_limited(answer: Answer) -> bool:
        """429, or GitHub's 403 with ``x-ratelimit-remaining: 0``."""
        remaining = answer.headers.get("x-ratelimit-remaining")
        return answer.status == 429 or (answer.status == 403 and remaining == "0")

    def retry_wait(self, answer: Answer, attempt: int) -> float:
        """Seconds the forge asks to wait: ``Retry-After``, else the limit's reset time."""
        if answer.retry_after is not None:
            return answer.retry_after
        for name in ("x-ratelimit-reset", "ratelimit-reset"):
            reset = answer.headers.get(name, "")
            if reset.isascii() and reset.isdigit():
                return max(0.0, float(reset) - self.wall())
        return backoff(attempt, None)

    def refusal(self, answer: Answer, wait: float | None) -> GateError:
        """The error of an answer that is not a success, in words a user can act on."""
        status = answer.status
        if wait is not None:
            return CommentError(f"rate limited (HTTP {status}); the limit resets in {wait:.0f} s")
        if 300 <= status < 400:
            return CommentError(f"the API redirected (HTTP {status}); not followed")
        why = {
            401: f"the token was refused (HTTP 401){self.token_hint}",
            403: f"the token may not write the comment (HTTP 403){self.token_hint}",
            404: "the change request or the comment was not found (HTTP 404): the token "
            "may not see the repository",
            422: "the comment was rejected (HTTP 422)",
        }.get(status, f"the API answered HTTP {status}")
        detail = message_of(answer)
        return CommentError(why + (f": {detail}" if detail else ""))


def message_of(answer: Answer) -> str:
    """The ``message`` of a JSON error body (GitHub and GitLab both use it), bounded."""
    try:
        payload = json.loads(answer.body)
    except ValueError:
        return preview(answer.body) if answer.body else ""
    message = payload.get("message") if isinstance(payload, dict) else None
    return one_line(str(message), 200) if message else ""


def json_list(answer: Answer) -> list[dict[str, Any]]:
    """The objects of a JSON list answer; ``CommentError`` for anything else."""
    try:
        payload = json.loads(answer.body)
    except ValueError:
        raise CommentError("the comment list is not JSON") from None
    if not isinstance(payload, list):
        raise CommentError("the comment list is not a JSON list")
    return [item for item in payload if isinstance(item, dict)]


def json_object(answer: Answer) -> dict[str, Any]:
    """The JSON object of an answer (empty when it is not one)."""
    try:
        payload = json.loads(answer.body)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def marked_id(answer: Answer, marker: str) -> int | None:
    """The id of the first comment of a listed page whose body starts with ``marker``."""
    for item in json_list(answer):
        body = item.get("body")
        if isinstance(body, str) and body.startswith(marker):
            found = item.get("id")
            if not isinstance(found, int) or isinstance(found, bool):
                raise CommentError("the marked comment has no numeric id")
            return found
    return None
