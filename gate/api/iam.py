"""IAM password login: one ``POST /v3/auth/tokens`` per run, the token from its header."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator

from gate.api.http import Session
from gate.api.transport import (
    Answer,
    Deadline,
    build_session,
    error_of,
    log_proxy,
    send,
    with_retries,
)
from gate.errors import CredentialsError, GateError, ReportError, ServiceError
from gate.report import decode_json
from gate.settings import IamPasswordCredentials, Settings
from gate.text import one_line

log = logging.getLogger(__name__)


@contextlib.contextmanager
def signed_in(
    settings: Settings,
    deadline: Deadline,
    session: Session | None,
    sleep: Callable[[float], None],
    on_secret: Callable[[str], None],
) -> Iterator[Session]:
    """The run's session (``session``, else one built here), logged in to IAM first when
    the credentials are an IAM password."""
    log_proxy(settings.endpoint)
    with session or build_session(settings) as http:
        authenticate(http, settings, deadline, sleep, on_secret)
        yield http


def authenticate(
    http: Session,
    settings: Settings,
    deadline: Deadline,
    sleep: Callable[[float], None],
    on_secret: Callable[[str], None],
) -> None:
    """With IAM password credentials, log in once and send the token on every later call.

    ``on_secret`` is told of the token, so that the caller can mask it.
    """
    creds = settings.credentials
    if isinstance(creds, IamPasswordCredentials):
        token = with_retries(lambda: login(http, creds, deadline), deadline, sleep)
        on_secret(token)
        http.headers["X-Auth-Token"] = token


def login_body(creds: IamPasswordCredentials) -> bytes:
    """The documented password-login body, scoped to the region's project. Never logged."""
    user = {
        "name": creds.user,
        "password": creds.password.reveal(),
        "domain": {"name": creds.domain},
    }
    identity = {"methods": ["password"], "password": {"user": user}}
    body = {"auth": {"identity": identity, "scope": {"project": {"name": creds.project}}}}
    return json.dumps(body).encode("utf-8")


def login(http: Session, creds: IamPasswordCredentials, deadline: Deadline) -> str:
    """One IAM password login: the token is the ``X-Subject-Token`` header of a 201."""
    deadline.check()
    log.info("logging in to IAM at %s as %s", creds.endpoint, creds.user)
    answer = send(
        http,
        f"{creds.endpoint}/v3/auth/tokens",
        deadline,
        method="POST",
        data=login_body(creds),
        headers={"Content-Type": "application/json;charset=utf8"},
    )
    if answer.status == 201 and answer.subject_token:
        return answer.subject_token
    raise login_error(answer)


def login_error(answer: Answer) -> GateError:
    """What a failed login means, saying which of user / password / domain / MFA to check."""
    if answer.status < 300:
        return ServiceError(f"IAM answered HTTP {answer.status} without a token")
    if answer.status not in (400, 401, 403):
        return error_of(answer)
    text = iam_message(answer.body)
    lowered = text.lower()
    hint = next((h for words, h in IAM_HINTS if any(w in lowered for w in words)), IAM_DEFAULT_HINT)
    shown = f": {one_line(text)}" if text else ""
    return CredentialsError(f"IAM login refused (HTTP {answer.status}){shown}", hint=hint)


IAM_HINTS = (
    (
        ("mfa", "totp", "verification code", "login protection"),
        "the IAM user has login protection (MFA): use an AK/SK pair, or a CI user without MFA",
    ),
    (("locked", "frozen", "disabled"), "the IAM user is locked or disabled: ask an administrator"),
    (("domain", "account"), "check --iam-domain: the account name, not the IAM user name"),
    (("username", "password", "user name"), "check --iam-user and --iam-password"),
)
IAM_DEFAULT_HINT = "check --iam-user, --iam-password and --iam-domain"


def iam_message(body: bytes) -> str:
    """The message of an IAM error body, in either of its two shapes."""
    try:
        payload = decode_json(body)
    except ReportError:
        return ""
    if not isinstance(payload, dict):
        return ""
    error = payload.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    message = payload.get("error_msg")
    return message if isinstance(message, str) else ""
