"""The change a CI pipeline tests: pull/merge request, its base and head, where links go.

Reads only the environment and GitHub's event file (bounded, never blocking, any JSON
shape). Knows GitHub Actions (``pull_request`` events), GitLab merge request pipelines
and Jenkins multibranch change requests. Imports nothing of the gate but its errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.errors import UsageError

EVENT_LIMIT = 25 * 1024 * 1024
"""Bytes of ``GITHUB_EVENT_PATH`` read at most (GitHub caps payloads at 25 MiB)."""

_REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/@{}^~+-]{0,254}")
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
_NUMBER = re.compile(r"[1-9][0-9]{0,11}")


@dataclass(frozen=True)
class ChangeRequest:
    """A pull request (GitHub), merge request (GitLab) or change request (Jenkins).

    ``target`` is the revision whose merge base with ``head`` is the change's base;
    ``head`` the change's own head commit (None: the checkout's ``HEAD``).
    """

    forge: str
    number: str
    target: str | None
    head: str | None


def is_revision(text: str) -> bool:
    """True for a revision safe to hand to git: never an option, never a range."""
    return bool(_REVISION.fullmatch(text)) and ".." not in text


def revision(text: str, source: str) -> str:
    """A revision safe to hand to git (never an option); ``UsageError`` otherwise."""
    if not is_revision(text):
        raise UsageError(
            f"{source} is not a git revision (a commit, a branch or a tag; 1 to 255 of "
            f"A-Z a-z 0-9 . _ / @ ^ ~ + -, not starting with - and without ..): {text[:80]!r}"
        )
    return text


def github_active(env: Mapping[str, str]) -> bool:
    """True in a GitHub Actions step."""
    return env.get("GITHUB_ACTIONS") == "true"


def event_payload(env: Mapping[str, str]) -> dict[str, Any] | None:
    """GitHub's event (``GITHUB_EVENT_PATH``) as an object; None when absent, unreadable,
    too large or not an object. Opening never blocks (a FIFO); nesting is bounded."""
    path = env.get("GITHUB_EVENT_PATH")
    if not (github_active(env) and path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with contextlib.suppress(OSError):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(EVENT_LIMIT + 1)
        if len(data) > EVENT_LIMIT:
            return None
        event = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def _field(value: object, *keys: str) -> object:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _sha(value: object) -> str | None:
    return value if isinstance(value, str) and _SHA.fullmatch(value) else None


def pull_request_of(env: Mapping[str, str], event: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``pull_request`` object of a pull request event (empty for any other event)."""
    name = env.get("GITHUB_EVENT_NAME", "")
    pull = event.get("pull_request") if event is not None else None
    return pull if name.startswith("pull_request") and isinstance(pull, dict) else {}


def change_request(
    env: Mapping[str, str], event: Mapping[str, Any] | None = None
) -> ChangeRequest | None:
    """The change request this pipeline tests, or None (a push, a schedule, no CI)."""
    if github_active(env):
        pull = pull_request_of(env, event if event is not None else event_payload(env))
        number = pull.get("number")
        if isinstance(number, int) and not isinstance(number, bool) and number > 0:
            base, head = _field(pull, "base", "sha"), _field(pull, "head", "sha")
            return ChangeRequest("github", str(number), _sha(base), _sha(head))
        return None
    iid = env.get("CI_MERGE_REQUEST_IID", "")
    if _NUMBER.fullmatch(iid):
        base = _sha(env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"))
        head = _sha(env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")) or _sha(env.get("CI_COMMIT_SHA"))
        return ChangeRequest("gitlab", iid, base, head)
    change = env.get("CHANGE_ID", "")
    if change and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", change):
        target = env.get("CHANGE_TARGET", "")
        base = f"origin/{target}" if target and is_revision(f"origin/{target}") else None
        return ChangeRequest("jenkins", change, base, _sha(env.get("GIT_COMMIT")))
    return None


def head_commit(env: Mapping[str, str], event: Mapping[str, Any] | None = None) -> str | None:
    """The head commit of the change under test: a pull request's head (``GITHUB_SHA`` is
    then the merge commit), else the commit the CI builds; None outside CI."""
    request = change_request(env, event)
    if request is not None and request.head:
        return request.head
    names = ("GITHUB_SHA",) if github_active(env) else ("CI_COMMIT_SHA", "GIT_COMMIT")
    return next((sha for name in names if (sha := _sha(env.get(name)))), None)


def change_base(env: Mapping[str, str], event: Mapping[str, Any] | None = None) -> str | None:
    """The revision the change is compared with (its merge base with the head is the
    base): ``pull_request.base.sha``, ``CI_MERGE_REQUEST_DIFF_BASE_SHA``,
    ``origin/$CHANGE_TARGET``; None outside a change request."""
    request = change_request(env, event)
    return request.target if request is not None else None


def blob_url(env: Mapping[str, str]) -> str | None:
    """Where a file of a commit is shown: ``{base}/{sha}/{path}#L{line}`` with this base
    (GitHub: ``SERVER/REPO/blob``; GitLab: ``PROJECT_URL/-/blob``); None elsewhere."""
    if github_active(env):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo = env.get("GITHUB_REPOSITORY", "")
        return f"{server}/{repo}/blob" if re.fullmatch(r"[\w.-]+/[\w.-]+", repo) else None
    project = env.get("CI_PROJECT_URL", "").rstrip("/")
    return f"{project}/-/blob" if project.startswith(("https://", "http://")) else None
