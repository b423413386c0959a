"""``--check``: walk the path to the service step by step and stop at the first problem.

Resolve the endpoint, connect, verify TLS, authenticate and call the API once; print what
works and the first thing that does not, with the fix. Exit codes are the gate's.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO
from urllib.parse import urlsplit

from gate.errors import DeadlineError, ExitCode, GateError, NetworkError
from gate.settings import AkSkCredentials, IamPasswordCredentials, Settings, TokenCredentials
from gate.text import one_line

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
    from gate.api.transport import (  # noqa: PLC0415 - requests only when checking
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
    from gate.api.transport import Deadline, within  # noqa: PLC0415 - requests only when checking

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
    from gate.api.transport import proxy_address  # noqa: PLC0415 - requests only when checking

    host, port = proxy_address(settings.endpoint)
    hint = "check HTTPS_PROXY: the proxy's host and port"
    resolve(host, port, budget, hint=hint)
    return "proxy at " + connect(host, port, budget, hint=hint)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The same trust as the client: system store, ``--ca-bundle``, and the bundle requests
    adds (``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when set, else its own)."""
    import certifi  # noqa: PLC0415 - requests' own bundle

    from gate.api.transport import trust_context  # noqa: PLC0415 - requests only when checking

    context = trust_context(settings.ca_bundle)
    env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    context.load_verify_locations(cafile=env_bundle or certifi.where())
    return context


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


def api_step(settings: Settings, budget: Budget, on_secret: Callable[[str], None]) -> str:
    """Authenticate and refresh the report once, inside what is left of ``--timeout``."""
    from gate.api.refresh import fetch_report  # noqa: PLC0415 - requests only when checking

    report = fetch_report(replace(settings, timeout=budget.remaining()), on_secret=on_secret)
    counts = report.readable_counts()
    shown = ", ".join(
        f"{name} {counts[name]}" for name in ("critical", "major", "new") if name in counts
    )
    return f"authenticated; report refreshed ({shown or 'no counts'})"


Step = Callable[[Settings, Budget], str]


def steps(settings: Settings, on_secret: Callable[[str], None]) -> list[tuple[str, Step]]:
    """The checks in order. Through a proxy, the gate connects to the proxy, not to the
    host, so the proxy is what is resolved and connected to, and TLS is verified by the
    API call through it (a direct handshake would blame TLS for a proxy that is down)."""
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
        ("api", lambda s, b: api_step(s, b, on_secret)),
    ]


def check(
    settings: Settings, out: TextIO, on_secret: Callable[[str], None] = lambda _secret: None
) -> int:
    """Run every step until one fails; print each (service text redacted and folded like
    a run's); return the gate's exit code for it. ``--timeout`` bounds the whole check."""
    print("codearts-gate --check", file=out)
    budget = Budget(settings.timeout)
    try:
        plan = steps(settings, on_secret)
    except GateError as err:  # the proxy variables themselves cannot work
        return fail("proxy", err, out)
    for name, step in plan:
        try:
            print(f"  ok    {name:<9} {one_line(step(settings, budget), 2000)}", file=out)
        except GateError as err:
            return fail(name, err, out)
    print("all checks passed: the gate can reach and read this job", file=out)
    return int(ExitCode.PASSED)


def fail(name: str, err: GateError, out: TextIO) -> int:
    """Print the step that failed, and why; its exit code."""
    print(f"  FAIL  {name:<9} {one_line(str(err), 2000)}", file=out)
    return int(err.exit_code)
