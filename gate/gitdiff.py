"""The change's diff, from ``git`` in the checkout: merge base, head, changed lines.

Every call is ``git -c safe.directory=ROOT --no-pager ...`` with ``LC_ALL=C``: a
checkout owned by another user (a Docker action's mounted workspace) is trusted for the
gate's own calls only, never by changing the user's git configuration. Missing history,
no git, no checkout: ``UsageError`` naming the fix; never a pass, never a guess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from gate.errors import DeadlineError, UsageError
from gate.filter.diff import ChangedLines, parse_diff
from gate.structs import record

DIFF_OPTIONS = (
    "--unified=0",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "-M",
    "--ignore-submodules=all",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--relative",
)
"""Fixed whatever the user's configuration says (``diff.noprefix``, external tools).
``--relative``: paths relative to the working directory, as the defects' are mapped (a
gate run in a subfolder of the repository sees that folder's changes)."""

FETCH_HINTS = {
    "github": "fetch the whole history: actions/checkout with `fetch-depth: 0`",
    "gitlab": "fetch the whole history: set the variable `GIT_DEPTH: 0` in the job",
    "jenkins": "fetch the target branch too: the checkout must not be shallow "
    "(CloneOption shallow: false) and must fetch origin/$CHANGE_TARGET",
}
DEFAULT_HINT = "fetch the whole history (`git fetch --unshallow`) and the base revision"


@record
class ChangeDiff:
    """What the change touches: its base and head commits and the changed lines."""

    base: str
    head: str
    lines: ChangedLines


@record(frozen=False)
class Git:
    """Runs git in ``root`` within ``seconds``; ``forge`` picks the hint for missing history."""

    root: Path
    seconds: float
    forge: str = ""

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """One git command; ``UsageError`` when it fails and ``check`` is set."""
        program = shutil.which("git")
        if program is None:
            raise UsageError(
                "--scope change reads the change from git, and `git` is not on PATH",
                hint="install git in the image or runner (the gate's image carries it)",
            )
        command = [program, "-c", f"safe.directory={self.root}", "--no-pager", *args]
        try:
            done = subprocess.run(
                command,
                cwd=self.root,
                env=git_environment(os.environ),
                capture_output=True,
                timeout=self.seconds,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DeadlineError(f"git {args[0]} did not end within --timeout") from None
        except OSError as error:
            raise UsageError(f"cannot run git: {error.strerror}") from None
        if check and done.returncode != 0:
            raise UsageError(f"git {args[0]} failed: {stderr_of(done)}")
        return done

    def missing_history(self, what: str) -> UsageError:
        """The error of a checkout without the history the change needs."""
        shallow = self.run("rev-parse", "--is-shallow-repository", check=False)
        why = " (this is a shallow clone)" if shallow.stdout.strip() == b"true" else ""
        return UsageError(
            f"--scope change needs {what}, which the checkout does not have{why}",
            hint=FETCH_HINTS.get(self.forge, DEFAULT_HINT),
        )

    def commit(self, rev: str, what: str) -> str:
        """The full id of the commit ``rev`` names; ``UsageError`` when it is missing."""
        done = self.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False
        )
        if done.returncode != 0:
            raise self.missing_history(f"{what} {rev}")
        return done.stdout.decode("ascii", "replace").strip()


def git_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the gate's git calls: C locale (stable messages), no prompts."""
    return {**env, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


def stderr_of(done: subprocess.CompletedProcess[bytes]) -> str:
    """git's own complaint, one line, bounded."""
    text = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return (text[-1] if text else f"exit {done.returncode}")[:300]


def checkout_root(git: Git) -> None:
    """``UsageError`` unless ``git.root`` is inside a git work tree."""
    done = git.run("rev-parse", "--is-inside-work-tree", check=False)
    if done.returncode != 0 or done.stdout.strip() != b"true":
        raise UsageError(
            f"--scope change reads the change from git, and {str(git.root)!r} is not a git "
            f"checkout ({stderr_of(done)})",
            hint="run the gate in the repository's checkout, or use --scope all",
        )


def change_diff(git: Git, target: str, head: str | None) -> ChangeDiff:
    """The lines ``head`` (the checkout's ``HEAD`` when None) adds or modifies since its
    merge base with ``target``."""
    checkout_root(git)
    head_id = git.commit(head or "HEAD", "the change's head commit")
    target_id = git.commit(target, "the base revision")
    merge = git.run("merge-base", "--end-of-options", target_id, head_id, check=False)
    if merge.returncode != 0:
        raise git.missing_history(f"the merge base of {target} and {head_id[:12]}")
    base = merge.stdout.decode("ascii", "replace").split()[0]
    diff = git.run("diff", *DIFF_OPTIONS, base, head_id, "--")
    return ChangeDiff(base, head_id, parse_diff(diff.stdout))
