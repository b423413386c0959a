"""What the service's error answers mean: which exit code, whether to retry, what to fix.

Pure: takes the status, the error code and message already read from a response.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from gate.errors import CredentialsError, GateError, ServiceError, TransientServiceError
from gate.structs import record
from gate.text import one_line

CREDENTIAL_CODES = frozenset(
    {"CC.00000003", "CC.00050007", "CC.00050010", "APIGW.0301", "APIGW.0302", "APIGW.0303"}
)
TRANSIENT_CODES = frozenset({"CC.00050012", "CC.00000000", "APIGW.0308"})
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
CREDENTIAL_STATUSES = frozenset({401, 403})
CLOCK_CODES = frozenset({"APIGW.0303"})
"""A signature the machine's clock made expire: neither the caller nor a permission."""
IDENTITY_CODES = frozenset({"CC.00000003", "CC.00050007", "APIGW.0301"})
"""The answers that refuse who calls (a token or a signature), not what it may do."""
REPORT_PERMISSION = "the IAM action codeartscheck:task:getReport"
RUN_PERMISSION = "the permission to run the check task"
PROGRESS_PERMISSION = "the permission to read the task's progress"
STOP_PERMISSION = "the permission to stop the task's scan"
LOG_PERMISSION = "the permission to read the task's check log"
DEFECTS_PERMISSION = "the permission to read the task's defects"
HISTORY_PERMISSION = "the permission to read the task's scan history (checkrecord)"
SUMMARY_PERMISSION = "the permission to read the task's summary (defects-summary)"
TASKS_PERMISSION = "the permission to list the CodeArts project's tasks"
"""What each call needs: only the refresh's IAM action is documented; for the others
Huawei names none, so the words say what the permission allows."""
EXPIRED_OR_WRONG_HINT = (
    "the token is expired or wrong: IAM tokens last 24 hours, so fetch a new one (or sign "
    "with an AK/SK pair, which does not expire)"
)

HINTS = {
    "CC.00000003": "the token expired: fetch a new one (IAM tokens last 24 hours)",
    "CC.00050007": "IAM authentication failed: check the token or the AK/SK pair",
    "CC.00050010": "no permission: grant the IAM action codeartscheck:task:getReport",
    "CC.00050000": "check --job-id and --task-id",
    "CC.00050013": "the project does not exist: check the job id and the region",
    "CC.00050015": "the scan is still running: run the gate after it ends",
    "APIGW.0301": "the token or AK/SK signature was refused: check the credentials "
    "(five bad signatures in a row lock an access key for five minutes)",
    "APIGW.0303": "the signature expired: the machine's clock is more than 15 minutes off, "
    "sync it (NTP)",
    "APIGW.0308": "the service throttled the call: retry later",
    "APIGW.0101": "the API was not found: check --endpoint and --region",
}
STATUS_HINTS = {
    400: "check --job-id and --task-id",
    401: "check the credentials",
    403: "check the permission codeartscheck:task:getReport",
    404: "check --endpoint, --region and --job-id",
}


@record
class ServiceAnswer:
    """The parts of an error answer that matter, all optional but the status."""

    status: int
    error_code: str | None = None
    error_msg: str | None = None
    request_id: str | None = None
    retry_after: float | None = None
    source: str | None = None  # where the answer was read, when not from the service


def describe(answer: ServiceAnswer) -> str:
    """One line naming the HTTP status, the error code and message, and the request id
    (or, for an answer read from a file, the file instead of the status)."""
    parts = [] if answer.source else [f"HTTP {answer.status}"]
    if answer.error_code:
        parts.append(one_line(answer.error_code, 40))
    text = ", ".join(parts)
    if answer.error_msg:
        text += f"{': ' if text else ''}{one_line(answer.error_msg)}"
    if answer.request_id:
        text += f" (request id {one_line(answer.request_id, 80)})"
    if answer.source:
        return f"{answer.source} holds an error answer, not a report: {text}"
    return f"the service answered {text}"


def classify(answer: ServiceAnswer) -> GateError:
    """The error to raise for an answer: credentials (3), transient (retried) or other (4)."""
    code, message = answer.error_code, describe(answer)
    hint = HINTS.get(code or "") or STATUS_HINTS.get(answer.status)
    if code in CREDENTIAL_CODES or answer.status in CREDENTIAL_STATUSES:
        known = code in CREDENTIAL_CODES  # a 401 with a known code means what the code says
        identity = code in IDENTITY_CODES or (answer.status == 401 and not known)
        permission = not identity and code not in CLOCK_CODES
        return CredentialsError(message, hint=hint, identity=identity, permission=permission)
    if code in TRANSIENT_CODES or answer.status in TRANSIENT_STATUSES:
        return TransientServiceError(message, hint=hint, retry_after=answer.retry_after)
    return ServiceError(message, hint=hint)


def token_refused(err: GateError) -> GateError:
    """``err``, saying that the token is expired or wrong when the service refused the
    caller of a run that sent a token (``--token``/``CODEARTS_TOKEN``)."""
    if isinstance(err, CredentialsError) and err.identity:
        err.message += ": the token was refused (expired or wrong)"
        err.hint = EXPIRED_OR_WRONG_HINT
    return err


@contextlib.contextmanager
def needing(permission: str) -> Iterator[None]:
    """A refused permission inside says which one the call needs (the general hint names
    ``codeartscheck:task:getReport``, the refresh's IAM action, which may not be it)."""
    try:
        yield
    except CredentialsError as err:
        if err.permission:
            err.hint = f"grant the IAM user {permission}"
        raise
