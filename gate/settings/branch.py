"""The branch a ``--run`` scan checks: given, or the one the CI builds (never a fork's)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from gate.ci import CI_BRANCH_VARIABLES, ci_branch, from_fork
from gate.errors import UsageError
from gate.text import one_line

_BRANCH = re.compile(r"[^\x00-\x1f\x7f]{1,255}")
__all__ = ["CI_BRANCH_VARIABLES", "branch_of", "from_fork"]


def branch_of(text: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(branch, where it came from): ``--branch``, else the branch the CI builds; "" is none."""
    source: str | None = "--branch/CODEARTS_BRANCH"
    if text is None:
        found = ci_branch(env)
        text, source = found if found else ("", None)
        if source and from_fork(env):
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
