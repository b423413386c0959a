"""GitHub: the gate's one comment on a pull request, over the REST API.

``GET /repos/{repo}/issues/{n}/comments?per_page=100`` (``Link`` pagination followed on
the same origin only), then ``PATCH /repos/{repo}/issues/comments/{id}`` or ``POST``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from gate.api.transport import Answer
from gate.core import CommentResult
from gate.forges import MAX_PAGES, CommentTarget, ForgeCall, json_object, marked_id

PERMISSION_HINT = (
    ": the workflow needs `permissions: pull-requests: write`, and a pull request from a "
    "fork gets a read-only GITHUB_TOKEN"
)
_NEXT = re.compile(r'<([^<>]+)>\s*;\s*rel="?next"?')


def next_link(link: str | None, origin: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, only on ``origin`` (the token goes
    nowhere else)."""
    found = _NEXT.search(link or "")
    if not found:
        return None
    url = found.group(1)
    parts = urlsplit(url)
    return url if f"{parts.scheme}://{parts.netloc}" == origin else None


def upsert(call: ForgeCall, target: CommentTarget, body: str) -> CommentResult:
    """Edit the comment holding the target's marker, or create it; never a second one."""
    marker = target.marker
    base = f"{target.api}/repos/{quote(target.where, safe='/')}"
    listing = f"{base}/issues/{quote(target.number, safe='')}/comments"
    found = find(call, f"{listing}?per_page=100", marker)
    if found is not None:
        url = f"{base}/issues/comments/{found}"
        answer = call("PATCH", url, json={"body": body})
        return CommentResult("updated", f"comment {found} updated", html_url(answer))
    answer = call("POST", listing, repeatable=False, json={"body": body})
    return CommentResult("created", "comment created", html_url(answer))


def find(call: ForgeCall, url: str | None, marker: str) -> int | None:
    """The id of the comment holding ``marker``, following the pages."""
    parts = urlsplit(url or "")
    origin = f"{parts.scheme}://{parts.netloc}"
    for _ in range(MAX_PAGES):
        if url is None:
            return None
        answer = call("GET", url)
        found = marked_id(answer, marker)
        if found is not None:
            return found
        url = next_link(answer.headers.get("Link"), origin)
    return None


def html_url(answer: Answer) -> str | None:
    """The comment's web address from the answer, if it is an http(s) one."""
    url = json_object(answer).get("html_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
