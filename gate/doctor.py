"""``--check``: walk the path to the service step by step and stop at the first problem.

Resolve the endpoint, connect, verify TLS, authenticate and call the API once; print what
works and the first thing that does not, with the fix. Exit codes are the gate's.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable
from typing import TextIO
from urllib.parse import urlsplit

from gate.errors import ExitCode, GateError, NetworkError
from gate.settings import AkSkCredentials, IamPasswordCredentials, Settings, TokenCredentials

METHOD_NAMES = {
    TokenCredentials: "token",
    AkSkCredentials: "AK/SK signing",
    IamPasswordCredentials: "IAM password login",
}
CONNECT_TIMEOUT = 10.0


def endpoint_step(settings: Settings) -> str:
    """The endpoint and credential method in use."""
    method = METHOD_NAMES.get(type(settings.credentials), "none")
    return f"{settings.endpoint} with {method}"


def proxy_step(settings: Settings) -> str:
    """Which proxy the environment selects, credentials redacted."""
    from gate.api.transport import redacted_proxy  # noqa: PLC0415 - requests only when checking

    return redacted_proxy(settings.endpoint) or "none (direct connection)"


def _address(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.endpoint)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def resolve_step(settings: Settings) -> str:
    """The endpoint's host name resolves."""
    host, port = _address(settings)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise NetworkError(
            f"cannot resolve {host}", hint="check --endpoint/--region, DNS, or set HTTPS_PROXY"
        ) from None
    return f"{host} -> {', '.join(sorted({str(i[4][0]) for i in infos}))}"


def connect_step(settings: Settings) -> str:
    """A TCP connection opens."""
    host, port = _address(settings)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return f"{host}:{port} accepts connections"
    except OSError as err:
        raise NetworkError(
            f"cannot connect to {host}:{port} ({err.strerror or type(err).__name__})",
            hint="a firewall may block it: check HTTPS_PROXY / NO_PROXY",
        ) from None


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The same trust as the client: system store, ``--ca-bundle``, and the bundle requests
    adds (``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when set, else its own)."""
    import certifi  # noqa: PLC0415 - requests' own bundle

    from gate.api.transport import trust_context  # noqa: PLC0415 - requests only when checking

    context = trust_context(settings.ca_bundle)
    env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    context.load_verify_locations(cafile=env_bundle or certifi.where())
    return context


def tls_step(settings: Settings) -> str:
    """The certificate verifies against the trust store."""
    host, port = _address(settings)
    if urlsplit(settings.endpoint).scheme != "https":
        return "plain http (loopback only): nothing to verify"
    if settings.insecure:
        return "NOT verified (--insecure)"
    try:
        with (
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as raw,
            tls_context(settings).wrap_socket(raw, server_hostname=host) as tls,
        ):
            return f"certificate of {host} verified ({tls.version()})"
    except ssl.SSLError as err:
        raise NetworkError(
            f"TLS verification of {host} failed ({err.reason or 'handshake failed'})",
            hint="if a corporate proxy or CA signs this host, add its CA with --ca-bundle PATH",
        ) from None
    except OSError as err:
        raise NetworkError(f"TLS handshake with {host} failed ({type(err).__name__})") from None


def api_step(settings: Settings) -> str:
    """Authenticate and refresh the report once."""
    from gate.api.refresh import fetch_report  # noqa: PLC0415 - requests only when checking

    report = fetch_report(settings)
    counts = report.readable_counts()
    shown = ", ".join(
        f"{name} {counts[name]}" for name in ("critical", "major", "new") if name in counts
    )
    return f"authenticated; report refreshed ({shown or 'no counts'})"


Step = Callable[[Settings], str]


def steps(settings: Settings) -> list[tuple[str, Step]]:
    """The checks in order; the direct-connection ones only when no proxy stands between."""
    direct = proxy_step(settings).startswith("none")
    network = [("resolve", resolve_step), ("connect", connect_step)] if direct else []
    return [
        ("endpoint", endpoint_step),
        ("proxy", proxy_step),
        *network,
        ("tls", tls_step),
        ("api", api_step),
    ]


def check(settings: Settings, out: TextIO) -> int:
    """Run every step until one fails; print each; return the gate's exit code for it."""
    print("codearts-gate --check", file=out)
    for name, step in steps(settings):
        try:
            print(f"  ok    {name:<9} {step(settings)}", file=out)
        except GateError as err:
            print(f"  FAIL  {name:<9} {err}", file=out)
            return int(err.exit_code)
    print("all checks passed: the gate can reach and read this job", file=out)
    return int(ExitCode.PASSED)
