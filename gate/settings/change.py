"""``--scope``, ``--base`` and ``--comment``: the change a pipeline tests, from the CI."""

from __future__ import annotations

from collections.abc import Mapping

from gate import ci
from gate.ci import ChangeRequest
from gate.errors import UsageError
from gate.settings.raw import RawOptions
from gate.structs import record


@record
class ChangeSettings:
    """``--scope``, ``--base``, ``--comment`` and what the CI says of the change.

    ``target`` is the revision whose merge base with ``head`` is the change's base
    (``--base``, else the CI's); ``head`` the change's head commit (None: ``HEAD``).
    """

    scope: str = "all"
    target: str | None = None
    head: str | None = None
    forge: str = ""
    request: ChangeRequest | None = None
    commit: str | None = None
    blob_url: str | None = None
    comment: bool = False

    @property
    def judged(self) -> bool:
        """True when the thresholds judge the change's lines."""
        return self.scope == "change" and self.target is not None

    @property
    def note(self) -> str | None:
        """Why change scope was asked for and the whole branch is judged, if so."""
        if self.scope != "change" or self.judged:
            return None
        return (
            "--scope change: not a pull or merge request and no --base, so the whole "
            "branch is judged (as --scope all)"
        )


def forge_of(env: Mapping[str, str], request: ChangeRequest | None) -> str:
    """The CI the gate runs in (``github``, ``gitlab``, ``jenkins`` or ``""``)."""
    if request is not None:
        return request.forge
    if ci.active(env):
        return "github"
    return "gitlab" if env.get("GITLAB_CI") else "jenkins" if env.get("JENKINS_URL") else ""


def scope_of(text: str | None) -> str:
    """``--scope``: ``all`` (default) or ``change``."""
    scope = (text or "all").strip().lower()
    if scope not in ("all", "change"):
        raise UsageError(f"--scope must be 'change' or 'all', got {text!r}")
    return scope


def change_settings_of(
    raw: RawOptions, env: Mapping[str, str], *, offline: bool, comment: bool
) -> ChangeSettings:
    """``--scope``, ``--base`` and ``--comment``, with the change the CI builds."""
    scope = scope_of(raw.scope)
    base = ci.revision(raw.base.strip(), "--base/CODEARTS_BASE") if raw.base else None
    event = ci.event_payload(env)
    request = ci.change_request(env, event)
    if scope == "change" and (offline or not raw.task_id):
        raise UsageError(
            "--scope change counts the defects on the change's lines, read from the task's "
            "defect list: set --task-id (CODEARTS_TASK_ID)"
            + (" and drop --report-file" if offline else "")
        )
    target = base or (request.target if request else None)
    if scope == "change" and request is not None and target is None:
        raise UsageError(
            f"--scope change: the {request.forge} change request does not say its base: "
            "set --base (CODEARTS_BASE) to the target branch, e.g. origin/main"
        )
    return ChangeSettings(
        scope=scope,
        target=target,
        head=request.head if request else None,
        forge=forge_of(env, request),
        request=request,
        commit=ci.head_commit(env, event),
        blob_url=ci.blob_url(env),
        comment=comment,
    )
