"""GitLab: the gate's one note on a merge request, over the REST API (v4).

``GET /projects/{id}/merge_requests/{iid}/notes?per_page=100&page=N`` (``X-Next-Page``
followed), then ``PUT .../notes/{note_id}`` or ``POST``. The token is sent as
``PRIVATE-TOKEN``: a project or personal access token with ``api`` scope
(``CI_JOB_TOKEN`` cannot write notes).
"""

from __future__ import annotations

from urllib.parse import quote

from gate.core import CommentResult
from gate.forges import MAX_PAGES, CommentTarget, ForgeCall, marked_id

PERMISSION_HINT = (
    ": CODEARTS_GITLAB_TOKEN must be a project or personal access token with the api "
    "scope and at least the Reporter role (CI_JOB_TOKEN cannot write notes)"
)


def upsert(call: ForgeCall, target: CommentTarget, body: str) -> CommentResult:
    """Edit the note holding the target's marker, or create it; never a second one."""
    project, iid = quote(target.where, safe=""), quote(target.number, safe="")
    notes = f"{target.api}/projects/{project}/merge_requests/{iid}/notes"
    found = find(call, notes, target.marker)
    if found is not None:
        call("PUT", f"{notes}/{found}", json={"body": body})
        return CommentResult("updated", f"note {found} updated")
    call("POST", notes, repeatable=False, json={"body": body})
    return CommentResult("created", "note created")


def find(call: ForgeCall, notes: str, marker: str) -> int | None:
    """The id of the note holding ``marker``, following ``X-Next-Page``."""
    page = 1
    for _ in range(MAX_PAGES):
        answer = call("GET", f"{notes}?per_page=100&page={page}&sort=asc")
        found = marked_id(answer, marker)
        if found is not None:
            return found
        following = answer.headers.get("X-Next-Page", "").strip()
        if not (following.isascii() and following.isdigit() and int(following) > page):
            return None
        page = int(following)
    return None
