"""``--comment``: the verdict as one comment on the pull or merge request, updated in place.

Found again by a hidden marker (``<!-- codearts-gate:TASK_ID -->``) and edited on every
run; never a second one. Whatever happens here (no token, a fork's read-only token, 404,
422, rate limits, network faults), the verdict and the exit code stand: the result is a
``CommentResult`` that the JSON shows and one warning line tells.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from gate.api.transport import Deadline, build_forge_session, within
from gate.ci import ChangeRequest
from gate.core import CommentResult, Verdict
from gate.errors import CommentError, DeadlineError, ExitCode, GateError
from gate.forges import CommentTarget, ForgeCall
from gate.formats.markdown import document, layout_of
from gate.settings import Settings, is_loopback
from gate.text import one_line, redact, run_secrets

GITHUB_LIMIT = 65_536
"""Characters GitHub takes in a comment (GitLab takes a million: one limit for both)."""
COMMENT_FLOOR = 10.0
"""Seconds the comment gets at least (never more than --timeout itself), so that a run
that ran out of --timeout can still say why it has no verdict."""
COLLAPSED = (100, 50, 20, 10, 5, 0)
"""Defects kept per failing check, tried in turn until the comment fits."""
TOKEN_VARIABLES = {"github": "GITHUB_TOKEN", "gitlab": "CODEARTS_GITLAB_TOKEN"}
CUT_NOTE = "\n\n*The comment was cut to fit the forge's size limit.*\n"


def skip_reason(settings: Settings, verdict: Verdict) -> str | None:
    """Why no comment is written in this run, or None."""
    request = settings.change.request
    if request is None:
        return "not a pull or merge request: --comment does nothing here"
    if verdict.error is not None and verdict.error.exit_code is ExitCode.USAGE:
        return "a usage error sends nothing"
    if request.forge == "jenkins":
        return "Jenkins change requests: the gate comments on GitHub and GitLab only"
    return None


def api_url(text: str, variable: str) -> str:
    """A forge API's base URL: https, or http on loopback only (the token goes there)."""
    parts = urlsplit(text.strip())
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and is_loopback(parts.hostname or "")
    )
    if not (secure and parts.hostname) or parts.query or parts.username:
        raise CommentError(f"{variable} is not an https:// URL: {one_line(text, 100)!r}")
    return text.strip().rstrip("/")


def target_of(
    request: ChangeRequest, settings: Settings, env: Mapping[str, str]
) -> tuple[CommentTarget, dict[str, str], str]:
    """Where the comment goes, the headers that carry the token, and what a refusal means."""
    marker = f"<!-- codearts-gate:{settings.task_id or 'report'} -->"
    if request.forge == "github":
        from gate.forges.github import PERMISSION_HINT  # noqa: PLC0415

        token = env.get("GITHUB_TOKEN", "")
        if not token:
            raise CommentError(
                "no GITHUB_TOKEN: pass it (the action's github-token input does) with "
                "`permissions: pull-requests: write`"
            )
        api = api_url(env.get("GITHUB_API_URL") or "https://api.github.com", "GITHUB_API_URL")
        repo = env.get("GITHUB_REPOSITORY", "")
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        return CommentTarget(api, repo, request.number, marker), headers, PERMISSION_HINT
    from gate.forges.gitlab import PERMISSION_HINT as GITLAB_HINT  # noqa: PLC0415

    token = env.get("CODEARTS_GITLAB_TOKEN", "")
    if not token:
        raise CommentError(
            "no CODEARTS_GITLAB_TOKEN: set a project or personal access token with the api "
            "scope (CI_JOB_TOKEN cannot write merge request notes)"
        )
    api = api_url(env.get("CI_API_V4_URL", ""), "CI_API_V4_URL")
    project = env.get("CI_PROJECT_ID", "")
    if not project:
        raise CommentError("CI_PROJECT_ID is not set: not a GitLab merge request pipeline")
    target = CommentTarget(api, project, request.number, marker)
    return target, {"PRIVATE-TOKEN": token}, GITLAB_HINT


def comment_body(verdict: Verdict, marker: str, limit: int = GITHUB_LIMIT) -> str:
    """The marker and the summary's document, lists shortened until it fits ``limit``
    (UTF-8 bytes: within the forge's character limit whatever the text)."""
    body = ""
    for collapsed in COLLAPSED:
        body = f"{marker}\n{document(verdict, layout_of(verdict, collapsed))}"
        if len(body.encode("utf-8")) <= limit:
            return body
    room = limit - len(CUT_NOTE.encode("utf-8"))
    head = body.encode("utf-8")[:room].decode("utf-8", "ignore")
    return head[: head.rfind("\n")] + CUT_NOTE


def post_comment(
    settings: Settings,
    verdict: Verdict,
    budget: float,
    *,
    on_secret: Callable[[str], None],
    env: Mapping[str, str] = os.environ,
    sleep: Callable[[float], None] = time.sleep,
) -> CommentResult:
    """Write or update the comment; what became of it (never raises a ``GateError``)."""
    reason = skip_reason(settings, verdict)
    if reason is not None:
        return CommentResult("skipped", reason)
    assert settings.change.request is not None
    try:
        target, headers, hint = target_of(settings.change.request, settings, env)
    except CommentError as error:
        return CommentResult("skipped", redact(error.message, run_secrets()))
    token = env.get(TOKEN_VARIABLES[settings.change.request.forge], "")
    on_secret(token)  # masked and redacted like the run's own secrets
    body = comment_body(verdict, target.marker)
    deadline = Deadline(max(budget, min(COMMENT_FLOOR, settings.timeout)))
    upsert = upsert_of(settings.change.request.forge)
    try:
        with build_forge_session(settings, headers) as http:
            call = ForgeCall(http, deadline, sleep, token_hint=hint)
            result: CommentResult = within(deadline, lambda: upsert(call, target, body))
            return result
    except DeadlineError:
        return CommentResult(
            "failed", f"no answer within the {deadline.seconds:.3g} s left (--timeout)"
        )
    except GateError as error:
        return CommentResult("failed", one_line(redact(error.message, (token,)), 500))
    except Exception as error:  # a bug here must not cost the verdict or the outputs
        return CommentResult("failed", f"internal error ({type(error).__name__})")


Upsert = Callable[[ForgeCall, CommentTarget, str], CommentResult]


def upsert_of(forge: str) -> Upsert:
    """The ``upsert`` of ``gate.forges.github`` or ``gate.forges.gitlab``."""
    if forge == "github":
        from gate.forges import github  # noqa: PLC0415

        return github.upsert
    from gate.forges import gitlab  # noqa: PLC0415

    return gitlab.upsert
