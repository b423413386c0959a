"""HTTP transport: the one session builder, bounded reads, retries, all inside a deadline.

Every call of the gate goes through ``send`` (one request, answer read whole and bounded)
and, where it is safe to repeat, ``with_retries`` (exponential backoff with jitter,
honouring ``Retry-After``). Redirects are refused: following one would carry the
credentials to another origin.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from gate import __version__
from gate.api import http as client
from gate.api.http import Session, environment_proxy
from gate.errors import (
    DeadlineError,
    GateError,
    NetworkError,
    TransientNetworkError,
    TransientServiceError,
    UsageError,
)
from gate.report import decode_json, envelope_error, is_error_envelope
from gate.service_errors import ServiceAnswer, classify
from gate.settings import AkSkCredentials, Settings, TokenCredentials
from gate.signing import SdkHmacAuth
from gate.structs import field, record
from gate.text import one_line, preview

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    from typing import Any, TypeVar

    T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE = 0.5  # seconds before the first retry; doubled each time, jittered
BACKOFF_CAP = 30.0
CONNECT_TIMEOUT = 10.0
MAX_BODY = 10 * 1024 * 1024
DEADLINE_GRACE = 0.5  # seconds the worker gets past the deadline to report its own error
CHUNK = 64 * 1024
USER_AGENT = f"codearts-gate/{__version__} (python)"


@record(frozen=False)
class Deadline:
    """The overall bound of a run: every wait and every timeout stays inside it."""

    seconds: float
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.ends_at = self.clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left, never below zero."""
        return max(0.0, self.ends_at - self.clock())

    def check(self) -> None:
        """Raise ``DeadlineError`` once the time is up."""
        if self.remaining() <= 0:
            raise DeadlineError(f"no report within --timeout {self.seconds:g} s")


@record
class Answer:
    """A response read whole (bounded): status, headers that matter, body."""

    status: int
    body: bytes
    content_type: str | None
    request_id: str | None
    retry_after: float | None
    location: str | None
    subject_token: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Every header of the answer (case-insensitive): pagination, rate limits."""


def trust_context(ca_bundle: str | None, env: Mapping[str, str] = os.environ) -> ssl.SSLContext:
    """What the gate trusts: the system's store (``SSL_CERT_FILE``/``SSL_CERT_DIR``
    honoured), the bundle ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` names (else
    certifi's, as requests trusted), and ``ca_bundle``: trust only grows."""
    import ssl  # noqa: PLC0415 - only for https://

    context = ssl.create_default_context()
    bundle = _environment_bundle(env)
    where = {"capath": bundle} if Path(bundle).is_dir() else {"cafile": bundle}
    _add_trust(context, f"the CA bundle {bundle!r}", **where)
    if ca_bundle:
        _add_trust(context, f"--ca-bundle {ca_bundle!r}", cafile=ca_bundle)
    return context


def _environment_bundle(env: Mapping[str, str]) -> str:
    """The CA bundle the environment names, else certifi's (as requests chose it)."""
    named = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE")
    if named:
        return named
    import certifi  # noqa: PLC0415 - only for https://

    return str(certifi.where())


def _add_trust(context: ssl.SSLContext, named: str, **where: str) -> None:
    """Add the certificates of a file (``cafile``) or a folder of hashed ones (``capath``)
    to ``context``; a ``UsageError`` naming the source when none can be read."""
    import ssl  # noqa: PLC0415 - loaded by the caller already

    try:
        context.load_verify_locations(**where)
    except (OSError, ssl.SSLError, ValueError):
        raise UsageError(f"{named} holds no readable PEM certificate") from None


CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
PROXY_VARIABLES = tuple(
    name for base in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY") for name in (base, base.lower())
)


def check_environment(url: str, env: Mapping[str, str] = os.environ) -> None:
    """``UsageError`` for a CA bundle or proxy variable that cannot work, naming the
    variable (a proxy URL is not shown: it may hold a password). Nothing is sent."""
    for name in CA_VARIABLES:
        value = env.get(name)
        if value and not _exists(value):
            raise UsageError(f"{name} names {value!r}, which does not exist or cannot be read")
    for name in PROXY_VARIABLES:
        value = env.get(name)
        if value and not _usable_proxy(value):
            raise UsageError(
                f"{name} is not a proxy URL the gate can use (expected "
                "http://[user:password@]host:port; the value is not shown)"
            )
    redacted_proxy(url)


def _exists(path: str) -> bool:
    """A readable regular file or folder (a FIFO would block the TLS setup for ever)."""
    try:
        target = Path(path)
        return (target.is_file() or target.is_dir()) and os.access(path, os.R_OK)
    except (OSError, ValueError):
        return False


def _usable_proxy(value: str) -> bool:
    """An ``http://`` proxy URL with a host and, if any, a port in range (the client
    tunnels through http:// proxies only: neither TLS to the proxy nor SOCKS)."""
    try:
        parts = urlsplit(value if "://" in value else f"http://{value}")
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return False
    return bool(parts.hostname) and parts.scheme.lower() == "http"


def proxy_address(url: str) -> tuple[str, int]:
    """Host and port of the proxy the environment selects for ``url``."""
    proxy = selected_proxy(url) or ""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def build_session(settings: Settings) -> Session:
    """The one place a session is built: identity, credentials, trust (no redirects followed)."""
    check_environment(settings.endpoint)
    ca_bundle = settings.ca_bundle
    session = Session(trust=lambda: trust_context(ca_bundle), verify=not settings.insecure)
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    creds = settings.credentials
    if isinstance(creds, TokenCredentials):
        session.headers["X-Auth-Token"] = creds.token.reveal()
    elif isinstance(creds, AkSkCredentials):
        session.auth = SdkHmacAuth(creds.ak, creds.sk.reveal(), creds.project_id)
    return session


def build_forge_session(settings: Settings, headers: Mapping[str, str]) -> Session:
    """A session for a forge's REST API (GitHub, GitLab): the same trust and identity as
    the service's, its own credentials in ``headers``, none of CodeArts'."""
    ca_bundle = settings.ca_bundle
    session = Session(trust=lambda: trust_context(ca_bundle))
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json", **headers})
    return session


def within(deadline: Deadline, call: Callable[[], T]) -> T:
    """Run ``call`` in a daemon thread; ``DeadlineError`` if it outlives the deadline."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as err:  # handed to the caller's thread below
            outcome["error"] = err

    worker = threading.Thread(target=target, name="codearts-gate-http", daemon=True)
    worker.start()
    worker.join(deadline.remaining() + DEADLINE_GRACE)
    if worker.is_alive():
        raise DeadlineError(f"no report within --timeout {deadline.seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def with_retries(call: Callable[[], T], deadline: Deadline, sleep: Callable[[float], None]) -> T:
    """Run ``call``, retrying transient errors while attempts and time remain."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return call()
        except (TransientServiceError, TransientNetworkError) as err:
            delay = backoff(attempt, getattr(err, "retry_after", None))
            if attempt == MAX_ATTEMPTS or delay >= deadline.remaining():
                raise _gave_up(err, attempt) from err
            log.info("attempt %d failed (%s); retrying in %.1f s", attempt, err, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _gave_up(err: GateError, attempts: int) -> GateError:
    err.message = f"{err.message} (gave up after {attempts} attempt{'s' * (attempts > 1)})"
    return err


JITTER = random.Random()
"""The retries' own random numbers: the global ``random`` state stays the caller's (a
library must not draw from it; Hypothesis, for one, flags a test whose global random
state moves while it draws, as a retry thread of an earlier test did)."""


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before the next attempt: ``Retry-After`` if given, else jittered."""
    if retry_after is not None:
        return min(retry_after, BACKOFF_CAP * 4)
    ceiling: float = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
    return ceiling / 2 + JITTER.uniform(0, ceiling / 2)


def send(http: Session, url: str, deadline: Deadline, **kwargs: Any) -> Answer:
    """Send a PUT (or ``method``) and read the whole answer; transport failures -> ``GateError``.

    The whole exchange runs under ``within``: a socket's read timeout restarts with every
    byte, so a service trickling its headers or body one byte at a time would otherwise
    hold the gate far past ``--timeout``, whichever call (refresh, IAM login, statistic,
    log) it answers.
    """
    left = deadline.remaining()  # read once: a second reading may be 0, which sockets refuse
    if left <= 0:
        raise DeadlineError(f"no report within --timeout {deadline.seconds:g} s")
    timeout = (min(CONNECT_TIMEOUT, left), left)
    return within(deadline, lambda: exchange(http, url, deadline, timeout, kwargs))


def exchange(
    http: Session,
    url: str,
    deadline: Deadline,
    timeout: tuple[float, float],
    kwargs: dict[str, Any],
) -> Answer:
    """One request and its whole answer, on the calling thread (``send`` bounds it)."""
    method = kwargs.pop("method", "PUT")
    limit = kwargs.pop("max_body", MAX_BODY)
    try:
        with http.request(method, url, timeout=timeout, **kwargs) as r:
            return Answer(
                status=r.status_code,
                body=read_bounded(r, deadline, limit),
                content_type=r.headers.get("Content-Type"),
                request_id=r.headers.get("X-Request-Id"),
                retry_after=parse_retry_after(r.headers.get("Retry-After")),
                location=r.headers.get("Location"),
                subject_token=r.headers.get("X-Subject-Token"),
                url=url,
                headers=r.headers,
            )
    except client.HttpError as err:
        raise transport_error(err, url, deadline) from None


def read_bounded(response: client.Response, deadline: Deadline, limit: int = MAX_BODY) -> bytes:
    """The body, in chunks, refusing more than ``limit`` bytes and stopping at the deadline."""
    body = bytearray()
    for chunk in response.iter_content(min(CHUNK, limit + 1)):
        body += chunk
        if len(body) > limit:
            raise NetworkError(f"the answer is larger than {size_text(limit)}")
        deadline.check()
    return bytes(body)


def size_text(size: int) -> str:
    """``10 MiB``, ``512 KiB``: a byte count as people read it."""
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} bytes"


# What http.client says when a proxy answers CONNECT with 407. A bare "407" is not
# enough: the text also holds host ports, and port 34073 is not a proxy refusal.
TUNNEL_AUTH_REQUIRED = re.compile(r"Tunnel connection failed: 407\b")


def transport_error(err: client.HttpError, url: str, deadline: Deadline) -> GateError:
    """A ``GateError`` for a transport failure, naming the host and not the credentials."""
    host = urlsplit(url).netloc
    if deadline.remaining() <= 0:
        return DeadlineError(f"no report from {host} within --timeout {deadline.seconds:g} s")
    if isinstance(err, client.ProxyFailure):
        # err's text is only searched, never shown: it can hold the proxy's password
        return proxy_error(url, auth_required=TUNNEL_AUTH_REQUIRED.search(str(err)) is not None)
    if isinstance(err, client.TlsError):
        return tls_error(err, host)
    if isinstance(err, (client.ConnectTimeout, client.ReadTimeout)):
        return TransientNetworkError(f"{host} did not answer in time")
    if isinstance(err, (client.ConnectError, client.ProtocolFailure)):
        return connection_error(err, url)
    return NetworkError(f"the call to {host} failed ({type(err).__name__})")


def connection_error(err: client.HttpError, url: str) -> GateError:
    """A failed connection, telling a name that does not resolve from a refused connection,
    with what to check (as ``--check`` does)."""
    import socket  # noqa: PLC0415 - loaded by the client already

    parts = urlsplit(url)
    host, netloc = parts.hostname or "", parts.netloc
    if _caused_by(err, socket.gaierror):
        return TransientNetworkError(
            f"cannot resolve {host} (DNS)",
            hint="check --endpoint/--region for typos, the runner's DNS, or set HTTPS_PROXY "
            "if this network needs a proxy; codearts-gate --check tells more",
        )
    if _caused_by(err, ConnectionRefusedError):
        return TransientNetworkError(
            f"{netloc} refused the connection",
            hint="nothing listens there: check the port in --endpoint, or a firewall; "
            "codearts-gate --check tells more",
        )
    return TransientNetworkError(f"connection to {netloc} failed ({type(err).__name__})")


def _caused_by(err: BaseException, *kinds: type[BaseException]) -> bool:
    """True when ``err`` or anything in its chain of causes (``__cause__``,
    ``__context__``, and the ``reason``/``args`` some errors keep them in) is one of
    ``kinds``."""
    return any(isinstance(item, kinds) for item in _causes(err))


def _causes(err: BaseException) -> Iterator[BaseException]:
    """``err`` and everything in its chain of causes, each once."""
    seen: set[int] = set()
    todo: list[object] = [err]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


NOT_TLS_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"}
)
"""What OpenSSL says when the server's first bytes are no TLS record (plain HTTP)."""


def speaks_no_tls(err: BaseException) -> bool:
    """True when the TLS handshake failed because the server answered without TLS."""
    return any(getattr(item, "reason", None) in NOT_TLS_REASONS for item in _causes(err))


def tls_error(err: BaseException, host: str) -> NetworkError:
    """A failed TLS handshake: a server that speaks no TLS, or a certificate not trusted."""
    if speaks_no_tls(err):
        return not_tls_error(host)
    return NetworkError(
        f"TLS verification of {host} failed",
        hint="if a corporate proxy or CA signs this host, add its CA with --ca-bundle PATH",
    )


def not_tls_error(host: str) -> NetworkError:
    """An ``https://`` endpoint whose server does not speak TLS (plain HTTP, most likely)."""
    return NetworkError(
        f"{host} does not speak TLS: the https:// endpoint answered in plain HTTP (or "
        "another protocol), not with a TLS handshake",
        hint="check the port and the scheme of --endpoint (an http port given as https://?)",
    )


def proxy_error(url: str, *, auth_required: bool) -> GateError:
    """A proxy failure, naming the proxy without its credentials."""
    proxy = redacted_proxy(url) or "the proxy"
    if auth_required:
        return NetworkError(
            f"{proxy} asked for authentication (HTTP 407)",
            hint="put the proxy's user and password in HTTPS_PROXY (http://user:password@host:port)",
        )
    host = urlsplit(url).netloc
    return NetworkError(
        f"cannot reach {host} through {proxy}", hint="check HTTPS_PROXY and NO_PROXY"
    )


def selected_proxy(url: str) -> str | None:
    """The proxy URL the environment picks for ``url`` (``NO_PROXY`` honoured), if any."""
    return environment_proxy(url)


def redacted_proxy(url: str) -> str | None:
    """The proxy the environment picks for ``url``, with any user and password replaced."""
    proxy = selected_proxy(url)
    if not proxy:
        return None
    try:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        port = parts.port
    except ValueError:
        raise UsageError("the proxy URL in HTTPS_PROXY/HTTP_PROXY cannot be parsed") from None
    netloc = parts.hostname or ""
    netloc += f":{port}" if port else ""
    credentials = "***@" if parts.username or parts.password else ""
    return f"proxy {parts.scheme}://{credentials}{netloc}"


def log_proxy(url: str) -> None:
    """At ``-v``, say which proxy (if any) the call goes through."""
    log.info("connecting through %s", redacted_proxy(url) or "no proxy")


RETRY_AFTER_CAP = 366 * 86400.0
"""The longest ``Retry-After`` read as it is (a year): anything longer, a number of
thousands of digits or a date past the year 9999 included, means the same to a run that
lasts at most a day, and stays a finite number."""


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds: a number or an HTTP date; ``None`` if absent or unreadable.

    Total: any header text gives a number in [0, ``RETRY_AFTER_CAP``] or ``None``, never an
    exception (it is read on every answer, a 200 included, while a scan may be running).
    """
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():  # not "²", which isdigit() admits
        return min(float(text), RETRY_AFTER_CAP) if len(text) <= 9 else RETRY_AFTER_CAP
    if len(text) > 64 or not text.isascii():  # an HTTP date is 29 ASCII characters
        return None
    try:
        seconds = email.utils.parsedate_to_datetime(text).timestamp() - now()
    except (TypeError, ValueError, OverflowError, OSError, IndexError):
        return None  # a date past 9999 or of a year of many digits, a bad zone...
    return min(max(0.0, seconds), RETRY_AFTER_CAP)


def error_of(answer: Answer) -> GateError:
    """The error an HTTP error status stands for, with the body's code when it has one."""
    try:
        payload = decode_json(answer.body, answer.content_type)
    except GateError:
        payload = None
    if isinstance(payload, dict) and is_error_envelope(payload):
        err = envelope_error(payload, answer.status, answer.request_id)
        if isinstance(err, TransientServiceError):
            err.retry_after = answer.retry_after
        return err
    if answer.status == 407:
        return proxy_error(answer.url, auth_required=True)
    err = classify(
        ServiceAnswer(answer.status, request_id=answer.request_id, retry_after=answer.retry_after)
    )
    if answer.body and payload is None:  # say what came instead, e.g. a proxy's HTML page
        err.message += (
            f" with a {one_line(answer.content_type or 'untyped', 60)} body: {preview(answer.body)}"
        )
    return err


def refuse_failure(answer: Answer) -> None:
    """Raise what a redirect or an HTTP error status stands for; return on 1xx/2xx."""
    if 300 <= answer.status < 400:
        where = one_line(answer.location or "(no Location)", 200)
        raise NetworkError(
            f"the service redirected (HTTP {answer.status}) to {where}; not followed, "
            "so the credentials stay with the configured host",
            hint="set --endpoint to the final https:// URL",
        )
    if answer.status >= 400:
        raise error_of(answer)


def json_of(answer: Answer, *, allow_empty: bool = False) -> object:
    """The decoded body of a successful answer; the error it stands for otherwise.

    Every endpoint can answer an error with HTTP 200, so an object carrying an error
    envelope raises too. ``allow_empty`` reads an empty body as ``None`` (the stop call).
    """
    refuse_failure(answer)
    if allow_empty and not answer.body.strip():
        return None
    payload = decode_json(answer.body, answer.content_type)
    if isinstance(payload, dict) and is_error_envelope(payload):
        raise envelope_error(payload, answer.status, answer.request_id)
    return payload
