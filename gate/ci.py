"""The CI environment: which branch is under build, whether it comes from a fork, and the
runner's event file, read as the hostile input it may be.

Low in the house (it imports only ``gate.errors`` and ``gate.text``), so that the settings
and the GitHub printers both read the CI from below. ``GITHUB_EVENT_PATH`` is read bounded
in size (``MAX_EVENT_BYTES``) and nesting, never waiting on a FIFO; an event that cannot be
read is never taken as evidence that a pull request is not from a fork.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping

from gate.errors import UsageError
from gate.text import one_line

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
