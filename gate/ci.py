"""The CI environment: which branch is under build, whether it comes from a fork, and the
runner's event file, read as the hostile input it may be; and the change a pipeline
tests (pull or merge request, its base and head, where links to its files go).

Low in the house (it imports only ``gate.errors`` and ``gate.text``), so that the settings
and the GitHub printers both read the CI from below. ``GITHUB_EVENT_PATH`` is read bounded
in size (``MAX_EVENT_BYTES``) and nesting, never waiting on a FIFO; an event that cannot be
read is never taken as evidence that a pull request is not from a fork.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Mapping

from gate.errors import UsageError
from gate.structs import record
from gate.text import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CI_BRANCH_VARIABLES = ("CI_COMMIT_REF_NAME", "CHANGE_BRANCH", "BRANCH_NAME")
"""GitLab's branch (the source branch in a merge request pipeline), then Jenkins' (a
pull request's source branch, then the multibranch job's). GitHub's come first, from
``branch_under_build``."""

MAX_EVENT_BYTES = 25 * 1024 * 1024
"""The largest event file read: GitHub's payloads are far smaller; a larger file is not
the runner's (and would cost memory)."""


SET_BRANCH = "set --branch/CODEARTS_BRANCH to the branch to scan (or '' for the task's own)"


class EventError(UsageError):
    """``GITHUB_EVENT_PATH`` cannot be read as the runner's event (missing, not a regular
    file, too large, too deep, not a JSON object)."""


def active(env: Mapping[str, str]) -> bool:
    """True when running as a GitHub Actions step."""
    return env.get("GITHUB_ACTIONS") == "true"


def read_event(env: Mapping[str, str]) -> Mapping[str, object]:
    """The event that triggered the workflow (``GITHUB_EVENT_PATH``), as a JSON object.

    Bounded: at most ``MAX_EVENT_BYTES`` are read, a FIFO or device is refused without
    waiting for a writer, and nesting too deep for the decoder is an error, not a crash.
    ``EventError`` says why the event cannot be had."""
    path = env.get("GITHUB_EVENT_PATH") or ""
    if not path:
        raise EventError("GITHUB_EVENT_PATH is not set")
    shown = one_line(repr(path), 200)
    try:
        data = read_regular_file(path, MAX_EVENT_BYTES)
    except OSError as err:
        raise EventError(f"GITHUB_EVENT_PATH {shown} cannot be read: {err.strerror}") from None
    except ValueError as err:
        raise EventError(f"GITHUB_EVENT_PATH {shown} {err}") from None
    try:
        event = json.loads(data)
    except RecursionError:
        raise EventError(f"GITHUB_EVENT_PATH {shown} is nested too deeply") from None
    except ValueError:  # not JSON, not UTF-8, a number past int()'s digit limit
        raise EventError(f"GITHUB_EVENT_PATH {shown} does not hold JSON") from None
    if not isinstance(event, dict):
        raise EventError(f"GITHUB_EVENT_PATH {shown} does not hold a JSON object")
    return event


def read_regular_file(path: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. Opening never blocks (a FIFO
    without a writer would wait for ever); ``ValueError`` for anything else or larger."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("is not a regular file")
        with contextlib.suppress(OSError):
            os.set_blocking(fd, True)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"is larger than {limit // (1024 * 1024)} MiB")
    return data


def branch_under_build(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(branch, variable) on GitHub: a pull request's head branch, else the pushed branch
    or tag."""
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        if active(env) and env.get(name):
            return env[name], name
    return None


def ci_branch(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(branch, variable) of the branch the CI builds: GitHub's, GitLab's or Jenkins'."""
    return branch_under_build(env) or next(
        ((env[name], name) for name in CI_BRANCH_VARIABLES if env.get(name)), None
    )


def pull_request_from_fork(env: Mapping[str, str]) -> bool:
    """True when the GitHub pull request under build comes from another repository (a
    fork, or one deleted since): its head branch is not in the repository a CodeArts task
    checks out. False when no pull request is under build.

    ``EventError`` when a pull request is under build (``GITHUB_HEAD_REF``) but its event
    cannot be read: a missing event says nothing about where the branch lives."""
    if not (active(env) and env.get("GITHUB_HEAD_REF")):
        return False
    try:
        event = read_event(env)
    except EventError as err:
        err.message = (
            f"cannot tell whether the pull request's branch comes from a fork: {err.message}"
        )
        err.hint = SET_BRANCH
        raise
    pull = event.get("pull_request")
    if not isinstance(pull, dict):
        raise EventError(
            "cannot tell whether the pull request's branch comes from a fork: the event "
            "holds no pull_request",
            hint=SET_BRANCH,
        )
    return _repo_name(pull, "head") != _repo_name(pull, "base")


def _repo_name(pull: Mapping[str, object], side: str) -> object:
    part = pull.get(side)
    repo = part.get("repo") if isinstance(part, dict) else None
    return repo.get("full_name") if isinstance(repo, dict) else None


def from_fork(env: Mapping[str, str]) -> bool:
    """True when the CI builds a change request from a fork: GitHub's (read from the
    event), GitLab's (source project not the target) or Jenkins' (``CHANGE_FORK``)."""
    gitlab_source = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID")
    gitlab_fork = bool(gitlab_source) and gitlab_source != env.get("CI_MERGE_REQUEST_PROJECT_ID")
    return gitlab_fork or bool(env.get("CHANGE_FORK")) or pull_request_from_fork(env)


_REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/@{}^~+-]{0,254}")
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
_NUMBER = re.compile(r"[1-9][0-9]{0,11}")


@record
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


def event_payload(env: Mapping[str, str]) -> dict[str, Any] | None:
    """GitHub's event (``GITHUB_EVENT_PATH``) as an object, read by ``read_event``
    (bounded, never blocking); None outside GitHub Actions or when it cannot be read."""
    if not (active(env) and env.get("GITHUB_EVENT_PATH")):
        return None
    try:
        return dict(read_event(env))
    except EventError:
        return None


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
    if active(env):
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
    names = ("GITHUB_SHA",) if active(env) else ("CI_COMMIT_SHA", "GIT_COMMIT")
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
    if active(env):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo = env.get("GITHUB_REPOSITORY", "")
        return f"{server}/{repo}/blob" if re.fullmatch(r"[\w.-]+/[\w.-]+", repo) else None
    project = env.get("CI_PROJECT_URL", "").rstrip("/")
    return f"{project}/-/blob" if project.startswith(("https://", "http://")) else None
