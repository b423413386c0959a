"""``--check``: walk the path to the service step by step and stop at the first problem.

Resolve the endpoint, connect, verify TLS; then make, once each, every read-only call the
chosen flow makes (the task list of --tasks-for-repo, refresh, progress,
defects-statistic, log-detail, checkrecord, defects-summary, review-data, the forge's
comment list), naming the permission a refusal lacks (review-data, docs-only, is said to
be unconfirmed when refused, never a failure). Print what works and what does not, with
the fix. Exit codes are the gate's; ``--timeout`` bounds it all.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, TextIO, TypeVar
from urllib.parse import urlsplit

from gate.errors import (
    CommentError,
    CredentialsError,
    DeadlineError,
    ExitCode,
    GateError,
    NetworkError,
    UsageError,
)
from gate.service_errors import (
    DEFECTS_PERMISSION,
    HISTORY_PERMISSION,
    LOG_PERMISSION,
    PROGRESS_PERMISSION,
    REPORT_PERMISSION,
    SUMMARY_PERMISSION,
    TASKS_PERMISSION,
    token_refused,
)
from gate.settings import AkSkCredentials, IamPasswordCredentials, Settings, TokenCredentials
from gate.structs import record, replace
from gate.text import one_line

if TYPE_CHECKING:  # the HTTP stack loads only when the check reaches the service
    from gate.api.http import Session
    from gate.api.transport import Deadline
    from gate.forges import CommentTarget
    from gate.report import Report

T = TypeVar("T")

METHOD_NAMES = {
    TokenCredentials: "token",
    AkSkCredentials: "AK/SK signing",
    IamPasswordCredentials: "IAM password login",
}
CONNECT_TIMEOUT = 10.0


class Budget:
    """What is left of ``--timeout``: every step of the check stays inside it."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.ends_at = seconds, time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; ``DeadlineError`` once none are."""
        left = self.ends_at - time.monotonic()
        if left <= 0:
            raise DeadlineError(f"--check did not finish within --timeout {self.seconds:g} s")
        return left

    def connect_timeout(self) -> float:
        """The timeout of one connection: 10 s at most, never past the deadline."""
        return min(CONNECT_TIMEOUT, self.remaining())


def endpoint_step(settings: Settings) -> str:
    """The endpoint and credential method in use."""
    method = METHOD_NAMES.get(type(settings.credentials), "none")
    return f"{settings.endpoint} with {method}"


def proxy_step(settings: Settings) -> str:
    """Which proxy the environment selects, credentials redacted; CA bundle and proxy
    variables that cannot work are a usage error here, as in a run."""
    from gate.api.transport import (  # noqa: PLC0415 - HTTP only when checking
        check_environment,
        redacted_proxy,
    )

    check_environment(settings.endpoint)
    return redacted_proxy(settings.endpoint) or "none (direct connection)"


def _address(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.endpoint)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def resolve_step(settings: Settings, budget: Budget) -> str:
    """The endpoint's host name resolves."""
    host, port = _address(settings)
    return resolve(host, port, budget, hint="check --endpoint/--region, DNS, or set HTTPS_PROXY")


def resolve(host: str, port: int, budget: Budget, hint: str) -> str:
    """``host -> addresses``; a name that does not resolve is a ``NetworkError``."""
    from gate.api.transport import Deadline, within  # noqa: PLC0415 - HTTP only when checking

    lookup = lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # noqa: E731
    try:
        infos = within(Deadline(budget.remaining()), lookup)
    except OSError:
        raise NetworkError(f"cannot resolve {host}", hint=hint) from None
    return f"{host} -> {', '.join(sorted({str(i[4][0]) for i in infos}))}"


def connect_step(settings: Settings, budget: Budget) -> str:
    """A TCP connection opens."""
    host, port = _address(settings)
    return connect(host, port, budget, hint="a firewall may block it: check HTTPS_PROXY / NO_PROXY")


def connect(host: str, port: int, budget: Budget, hint: str) -> str:
    """``host:port accepts connections``, or a ``NetworkError`` saying why not."""
    try:
        with socket.create_connection((host, port), timeout=budget.connect_timeout()):
            return f"{host}:{port} accepts connections"
    except OSError as err:
        raise NetworkError(
            f"cannot connect to {host}:{port} ({err.strerror or type(err).__name__})", hint=hint
        ) from None


def proxy_connect_step(settings: Settings, budget: Budget) -> str:
    """The proxy the environment selects accepts connections (it is what the gate talks to)."""
    from gate.api.transport import proxy_address  # noqa: PLC0415 - HTTP only when checking

    host, port = proxy_address(settings.endpoint)
    hint = "check HTTPS_PROXY: the proxy's host and port"
    resolve(host, port, budget, hint=hint)
    return "proxy at " + connect(host, port, budget, hint=hint)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The same trust as the client: system store, the bundle ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` names (else certifi's), and ``--ca-bundle``."""
    from gate.api.transport import trust_context  # noqa: PLC0415 - the HTTP stack only when checking

    return trust_context(settings.ca_bundle)


def tls_step(settings: Settings, budget: Budget) -> str:
    """The certificate verifies against the trust store."""
    host, port = _address(settings)
    if urlsplit(settings.endpoint).scheme != "https":
        return "plain http (loopback only): nothing to verify"
    if settings.insecure:
        return "NOT verified (--insecure)"
    try:
        with (
            socket.create_connection((host, port), timeout=budget.connect_timeout()) as raw,
            tls_context(settings).wrap_socket(raw, server_hostname=host) as tls,
        ):
            return f"certificate of {host} verified ({tls.version()})"
    except ssl.SSLError as err:
        from gate.api.transport import not_tls_error, speaks_no_tls  # noqa: PLC0415

        if speaks_no_tls(err):
            raise not_tls_error(f"{host}:{port}") from None
        raise NetworkError(
            f"TLS verification of {host} failed ({err.reason or 'handshake failed'})",
            hint="if a corporate proxy or CA signs this host, add its CA with --ca-bundle PATH",
        ) from None
    except TimeoutError:
        raise NetworkError(
            f"{host}:{port} did not complete a TLS handshake in time",
            hint="is it an https:// port? check --endpoint",
        ) from None
    except OSError as err:
        raise NetworkError(f"TLS handshake with {host} failed ({type(err).__name__})") from None


@record(frozen=False)
class Service:
    """One signed-in session for the calls to the service, opened (and, with an IAM
    password, logged in) on first use and closed when the check ends."""

    settings: Settings
    on_secret: Callable[[str], None]
    stack: ExitStack
    http: Session | None = None

    def call(self, budget: Budget, step: Callable[[Session, Deadline], T]) -> T:
        """``step`` with the session, inside what is left of ``--timeout``."""
        from gate.api.iam import signed_in  # noqa: PLC0415 - HTTP only when checking
        from gate.api.transport import Deadline, within  # noqa: PLC0415

        deadline = Deadline(budget.remaining())

        def run() -> T:
            if self.http is None:
                context = signed_in(self.settings, deadline, None, time.sleep, self.on_secret)
                self.http = self.stack.enter_context(context)
            return step(self.http, deadline)

        try:
            return within(deadline, run)
        except DeadlineError:
            budget.remaining()  # says "--check did not finish within --timeout" when so
            raise


def api_step(settings: Settings, budget: Budget, service: Service) -> str:
    """Authenticate and refresh the report once, as a run does."""
    from gate.api.refresh import path_job_id, refresh  # noqa: PLC0415 - HTTP only now

    def once(http: Session, deadline: Deadline) -> Report:
        return refresh(http, settings, path_job_id(settings), deadline, time.sleep)

    report = service.call(budget, once)
    counts = report.readable_counts()
    shown = ", ".join(
        f"{name} {counts[name]}" for name in ("critical", "major", "new") if name in counts
    )
    return f"authenticated; report refreshed ({shown or 'no counts'})"


def progress_step(settings: Settings, budget: Budget, service: Service) -> str:
    """``--run``/``--wait`` poll the task's progress: read it once."""
    from gate.api.tasks import task_progress  # noqa: PLC0415 - HTTP only now

    progress = service.call(budget, lambda http, deadline: task_progress(http, settings, deadline))
    return f"task {settings.task_id}: {progress.describe()}"


def defects_step(settings: Settings, budget: Budget, service: Service) -> str:
    """The defect outputs start with ``defects-statistic``: read it once."""
    from gate.api.defects import expected_count, task_url  # noqa: PLC0415 - HTTP only now
    from gate.api.transport import json_of, send, with_retries  # noqa: PLC0415

    def once(http: Session, deadline: Deadline) -> object:
        url = task_url(settings.endpoint, settings.task_id, "defects-statistic")
        get = lambda: json_of(send(http, url, deadline, method="GET"))  # noqa: E731
        return with_retries(get, deadline, time.sleep)

    severities = settings.defects.severities
    count = expected_count(service.call(budget, once), severities)
    shown = "unreadable" if count is None else str(count)
    return f"defects-statistic read: {shown} pending of {', '.join(severities)}"


def log_step(settings: Settings, budget: Budget, service: Service) -> str:
    """A failed scan's check log comes from ``log-detail``: read the latest run's once."""
    from gate.api.tasks import log_tail  # noqa: PLC0415 - HTTP only now

    lines = service.call(
        budget, lambda http, deadline: log_tail(http, settings, None, deadline, time.sleep)
    )
    return f"check log of the latest scan read ({len(lines)} lines kept)"


def history_step(settings: Settings, budget: Budget, service: Service) -> str:
    """The wait and ``--baseline previous`` read the task's scan history: read it once."""
    from datetime import datetime, timezone  # noqa: PLC0415

    from gate.api.history import task_history  # noqa: PLC0415 - HTTP only now

    project = settings.console_project_id or ""
    history = service.call(
        budget,
        lambda http, deadline: task_history(
            http, settings, project, deadline, time.sleep, now=datetime.now(timezone.utc)
        ),
    )
    finished = len(history.finished())
    return f"scan history read (checkrecord): {len(history.records)} scans, {finished} finished"


def summary_step(settings: Settings, budget: Budget, service: Service) -> str:
    """CodeArts' own gate is the task summary's ``is_access``: read it once."""
    from gate.api.summary import access_state, get, summary_url  # noqa: PLC0415

    payload = service.call(
        budget,
        lambda http, deadline: with_retries_of(
            lambda: get(http, summary_url(settings), deadline), deadline
        ),
    )
    state, problem = access_state(payload)
    return f"task summary read (defects-summary): CodeArts' own gate {state}" + (
        f" ({problem})" if problem else ""
    )


def with_retries_of(call: Callable[[], T], deadline: Deadline) -> T:
    """``call`` retried as every read of the gate is."""
    from gate.api.transport import with_retries  # noqa: PLC0415 - HTTP only now

    return with_retries(call, deadline, time.sleep)


class Unconfirmed(GateError):
    """A docs-only endpoint refused or answered in an unknown shape: said, not failed."""


def review_step(settings: Settings, budget: Budget, service: Service) -> str:
    """CodeArts' gate thresholds come from ``review-data``, a docs-only endpoint: try it
    once; a refusal or an unknown shape is ``Unconfirmed``, never a failure."""
    from gate.api.summary import get, review_url, thresholds_of  # noqa: PLC0415

    params = {"project_id": settings.console_project_id or "", "domain_id": ""}
    params["is_check_project"] = "1"
    try:
        payload = service.call(
            budget, lambda http, deadline: get(http, review_url(settings), deadline, params)
        )
    except DeadlineError:
        raise
    except GateError as err:
        raise Unconfirmed(f"review-data refused: {err.message}") from None
    thresholds = thresholds_of(payload)
    if thresholds is None:
        raise Unconfirmed("review-data answered in a shape the gate does not know")
    return f"CodeArts' gate thresholds read (review-data): {len(thresholds)} switched on"


@record
class ServiceStep:
    """A read-only call a run with these settings makes, and the permission it needs."""

    name: str
    call: Callable[[Settings, Budget, Service], str]
    needs: str


def service_steps(settings: Settings) -> list[ServiceStep]:
    """The read-only calls the chosen flow makes: the refresh always; the progress for
    ``--run``/``--wait``; defects-statistic for defect outputs; with the CodeArts project
    known, log-detail, and checkrecord for the wait or ``--baseline previous``; for a
    task, CodeArts' own gate (defects-summary, and review-data with the project); with
    ``--comment`` on a pull or merge request, the forge's comment list. The run, stop
    and comment writes are not tried: they are not read-only."""
    task, project = bool(settings.task_id), bool(settings.console_project_id)
    previous = settings.baseline is not None and settings.baseline.kind == "previous"
    in_project = project and task
    wanted = [
        (True, ServiceStep("api", api_step, REPORT_PERMISSION)),
        (settings.wait, ServiceStep("progress", progress_step, PROGRESS_PERMISSION)),
        (settings.defects.requested() and task, ServiceStep("defects", defects_step,
                                                            DEFECTS_PERMISSION)),
        (in_project, ServiceStep("log", log_step, LOG_PERMISSION)),
        (in_project and (settings.wait or previous), ServiceStep("history", history_step,
                                                                 HISTORY_PERMISSION)),
        (task, ServiceStep("gate", summary_step, SUMMARY_PERMISSION)),
        (in_project, ServiceStep("review", review_step, SUMMARY_PERMISSION)),
        (comments_checked(settings), ServiceStep("comment", comment_step, "")),
    ]  # fmt: skip
    return [step for on, step in wanted if on]  # --run waits too: settings.wait


Step = Callable[[Settings, Budget], str]


def steps(settings: Settings) -> list[tuple[str, Step]]:
    """The checks of the way to the service, in order. Through a proxy, the gate connects
    to the proxy, not to the host, so the proxy is what is resolved and connected to, and
    TLS is verified by the API call through it (a direct handshake would blame TLS for a
    proxy that is down)."""
    direct = proxy_step(settings).startswith("none")
    network: list[tuple[str, Step]] = (
        [("resolve", resolve_step), ("connect", connect_step), ("tls", tls_step)]
        if direct
        else [("proxy-tcp", proxy_connect_step)]
    )
    return [
        ("endpoint", lambda s, _b: endpoint_step(s)),
        ("proxy", lambda s, _b: proxy_step(s)),
        *network,
    ]


def check(
    settings: Settings, out: TextIO, on_secret: Callable[[str], None] = lambda _secret: None
) -> int:
    """Run the steps to the service until one fails, then every read-only call the run
    would make (each one, so that every missing permission shows at once); print each
    (service text redacted and folded like a run's); return the gate's exit code for the
    first failure. ``--timeout`` bounds the whole check."""
    print("codearts-gate --check", file=out)
    budget = Budget(settings.timeout)
    try:
        plan = steps(settings)
    except GateError as err:  # the proxy variables themselves cannot work
        return fail("proxy", err, out)
    for name, step in plan:
        try:
            print(f"  ok    {name:<9} {one_line(step(settings, budget), 2000)}", file=out)
        except GateError as err:
            return fail(name, err, out)
    return check_service(settings, budget, on_secret, out)


def check_service(
    settings: Settings, budget: Budget, on_secret: Callable[[str], None], out: TextIO
) -> int:
    """Each read-only call of the flow; a refused permission names what is missing, and
    the others are still tried (a call that could not get through stops the check)."""
    codes: list[int] = []
    with ExitStack() as stack:
        service = Service(settings, on_secret, stack)
        if settings.check_finds_tasks:
            try:
                settings, shown = tasks_step(settings, budget, service)
                print(f"  ok    {'tasks':<9} {one_line(shown, 2000)}", file=out)
            except GateError as err:
                return fail("tasks", said(settings, err, TASKS_PERMISSION), out)
        for step in service_steps(settings):
            try:
                shown = one_line(step.call(settings, budget, service), 2000)
                print(f"  ok    {step.name:<9} {shown}", file=out)
            except Unconfirmed as err:
                note = f"unconfirmed endpoint (docs-only, not in the SDK): {err.message}"
                print(f"  warn  {step.name:<9} {one_line(note, 2000)}", file=out)
            except GateError as err:
                codes.append(fail(step.name, said(settings, err, step.needs), out))
                if not (isinstance(err, CredentialsError) and err.permission):
                    break  # the later calls would fail the same way, or time is up
    if codes:
        return codes[0]
    print("all checks passed: the gate can reach and read this job", file=out)
    return int(ExitCode.PASSED)


def tasks_step(settings: Settings, budget: Budget, service: Service) -> tuple[Settings, str]:
    """``--tasks-for-repo`` lists the project's tasks: list them once, and go on with the
    settings of the first task of this repository."""
    from gate.api.tasklist import (  # noqa: PLC0415 - HTTP only now
        list_tasks,
        repository_of,
        repository_tasks,
    )

    url, source = repository_of(os.environ)
    project = settings.console_project_id or ""
    listed = service.call(
        budget, lambda http, deadline: list_tasks(http, settings, project, deadline, time.sleep)
    )
    found = repository_tasks(listed, project, url, source)
    ids = ", ".join(task.task_id for task in found)
    chosen = replace(settings, task_id=found[0].task_id, check_finds_tasks=False)
    return chosen, f"{len(found)} of {len(listed)} tasks check this repository: {ids}" + (
        f"; the next steps check {found[0].task_id}" if len(found) > 1 else ""
    )


def comments_checked(settings: Settings) -> bool:
    """True when the run would write a comment: ``--comment`` on a GitHub pull request
    or a GitLab merge request."""
    request = settings.change.request
    return settings.change.comment and request is not None and request.forge != "jenkins"


def comment_step(settings: Settings, budget: Budget, _service: Service) -> str:
    """``--comment`` first lists the change request's comments with the forge's token:
    list one (the write is not tried: the check changes nothing)."""
    from gate.api.transport import Deadline, build_forge_session, within  # noqa: PLC0415
    from gate.comment import target_of  # noqa: PLC0415 - only with --comment
    from gate.forges import ForgeCall  # noqa: PLC0415

    request = settings.change.request
    assert request is not None
    try:
        target, headers, hint = target_of(request, settings, os.environ)
    except CommentError as err:
        raise UsageError(err.message) from None
    url = first_comment_url(request.forge, target)
    deadline = Deadline(budget.remaining())
    with build_forge_session(settings, headers) as http:
        call = ForgeCall(http, deadline, time.sleep, token_hint=hint)
        try:
            within(deadline, lambda: call("GET", url))
        except CommentError as err:
            raise forge_refusal(err, request.forge) from None
        except DeadlineError:
            budget.remaining()  # says "--check did not finish within --timeout" when so
            raise
    where = "pull request" if request.forge == "github" else "merge request"
    return (
        f"comments of {where} {request.number} listed with the token (the write is not "
        f"tried: it needs {WRITE_PERMISSION[request.forge]})"
    )


WRITE_PERMISSION = {
    "github": "`permissions: pull-requests: write`",
    "gitlab": "a token with the api scope in CODEARTS_GITLAB_TOKEN (CI_JOB_TOKEN cannot "
    "write notes)",
}


def first_comment_url(forge: str, target: CommentTarget) -> str:
    """The first comment of the change request: GitHub's issue comments or GitLab's
    merge request notes, one per page."""
    from urllib.parse import quote  # noqa: PLC0415

    number = quote(target.number, safe="")
    if forge == "github":
        repo = quote(target.where, safe="/")
        return f"{target.api}/repos/{repo}/issues/{number}/comments?per_page=1"
    project = quote(target.where, safe="")
    return f"{target.api}/projects/{project}/merge_requests/{number}/notes?per_page=1"


class ForgeRefused(CredentialsError):
    """The forge refused its token (401/403): exit 3, in the forge's words, not CodeArts'."""


def forge_refusal(err: CommentError, forge: str) -> GateError:
    """A refused token (401/403) is a credentials failure naming the permission missing;
    any other failure stays the forge's error."""
    if "(HTTP 401)" in err.message or "(HTTP 403)" in err.message:
        missing = f"; missing: {WRITE_PERMISSION[forge]}"
        return ForgeRefused(f"the forge refused the token: {err.message}{missing}")
    return err


def said(settings: Settings, err: GateError, needs: str) -> GateError:
    """The error naming what to fix: a refused token is expired or wrong; a refused
    permission names the permission (or IAM action) the step needs."""
    if isinstance(err, ForgeRefused):
        return err  # the forge's token: its own words say what is missing
    if isinstance(err, CredentialsError) and err.permission:
        err.message += f"; missing: {needs}"
        err.hint = f"grant the IAM user {needs}"
    if isinstance(settings.credentials, TokenCredentials):
        return token_refused(err)
    return err


def fail(name: str, err: GateError, out: TextIO) -> int:
    """Print the step that failed, and why; its exit code."""
    print(f"  FAIL  {name:<9} {one_line(str(err), 2000)}", file=out)
    return int(err.exit_code)
