"""The branch a ``--run`` scan checks: given, or the one the CI builds (never a fork's)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from gate.errors import UsageError
from gate.text import one_line

_BRANCH = re.compile(r"[^\x00-\x1f\x7f]{1,255}")


CI_BRANCH_VARIABLES = ("CI_COMMIT_REF_NAME", "CHANGE_BRANCH", "BRANCH_NAME")
"""GitLab's branch (the source branch in a merge request pipeline), then Jenkins' (a
pull request's source branch, then the multibranch job's). GitHub's are in gate.github."""


def branch_of(text: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(branch, where it came from): ``--branch``, else the branch the CI builds; "" is none."""
    source: str | None = "--branch/CODEARTS_BRANCH"
    if text is None:
        from gate import github  # noqa: PLC0415 - github imports settings: import when used

        found = github.branch_under_build(env) or next(
            ((env[name], name) for name in CI_BRANCH_VARIABLES if env.get(name)), None
        )
        text, source = found if found else ("", None)
        if source and from_fork(env, github.pull_request_from_fork(env)):
            raise UsageError(
                f"the branch under build ({source}) is a pull request's branch in a fork, "
                "which the CodeArts task cannot check out (a branch of the same name in the "
                "task's repository would be scanned and gated instead): set --branch/"
                "CODEARTS_BRANCH to the branch to scan, or --branch '' for the task's own"
            )
    if not text:
        return None, None
    if not _BRANCH.fullmatch(text):
        why = "over 255 characters" if len(text) > 255 else "a control character"
        shown = one_line(text, 80)  # secrets redacted before the cut
        raise UsageError(f"the branch from {source} is not a branch name ({why}): '{shown}'")
    return text, source


def from_fork(env: Mapping[str, str], github_fork: bool) -> bool:
    """True when the CI builds a change request from a fork: GitHub's (read from the
    event), GitLab's (source project not the target) or Jenkins' (``CHANGE_FORK``)."""
    gitlab_source = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID")
    gitlab_fork = bool(gitlab_source) and gitlab_source != env.get("CI_MERGE_REQUEST_PROJECT_ID")
    return github_fork or gitlab_fork or bool(env.get("CHANGE_FORK"))
