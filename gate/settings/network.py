"""Network settings: the endpoints (from the region, or given), TLS trust, the deadline."""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from gate.errors import UsageError
from gate.settings.files import is_readable_file
from gate.text import one_line

DEFAULT_REGION = "cn-north-4"


DEFAULT_TIMEOUT = 300.0


DEFAULT_WAIT_TIMEOUT = 1800.0  # --run/--wait: long enough for a real scan


_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def ca_bundle_of(path: str | None) -> str | None:
    """A readable PEM file of extra CA certificates, added to the default trust store."""
    if path and not is_readable_file(path):
        raise UsageError(f"--ca-bundle/CODEARTS_CA_BUNDLE {path!r} is not a readable file")
    return path or None


def endpoint_of(endpoint: str | None, region: str | None) -> str:
    """The base URL: given, or derived from the region; plain http only for loopback."""
    if not endpoint:
        return f"https://codearts-check.{region_of(region)}.myhuaweicloud.com"
    return _checked_endpoint(endpoint.strip().rstrip("/"), option="--endpoint")


def region_of(region: str | None) -> str:
    """A region name such as ``cn-north-4`` (the default)."""
    region = region or DEFAULT_REGION
    if not _REGION.fullmatch(region):
        raise UsageError(f"--region is not a region name: {region!r}")
    return region


def _checked_endpoint(url: str, option: str) -> str:
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number in range raises here
    except ValueError:
        raise UsageError(f"{option} is not a URL: {url!r}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{option} must be an https:// URL, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{option} must not carry a query, a fragment or user info")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"{option} {url!r} is plain http: credentials would travel in clear; "
            "use https:// (http is allowed for loopback only)"
        )
    return url


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        import ipaddress  # noqa: PLC0415 - only http:// and --insecure: offline runs skip it

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def iam_endpoint_of(endpoint: str | None, region: str) -> str:
    """The IAM base URL: given, or ``https://iam.{region}.myhuaweicloud.com``."""
    if endpoint:
        return _checked_endpoint(endpoint.strip().rstrip("/"), option="--iam-endpoint")
    return f"https://iam.{region}.myhuaweicloud.com"


def timeout_of(text: str | None) -> float:
    """The overall deadline in seconds: a number above 0, at most a day.

    Total: any text gives a number or a ``UsageError`` (NaN, infinity and a number of
    thousands of digits included)."""
    if text is None:
        return DEFAULT_TIMEOUT
    shown = one_line(repr(text), 60)
    try:
        value = float(text) if len(text.strip()) <= 100 else math.nan
    except (ValueError, OverflowError):
        raise UsageError(f"--timeout must be a number of seconds, got {shown}") from None
    if not 0 < value <= 86400:  # False for NaN too
        raise UsageError(f"--timeout must be above 0 and at most 86400, got {shown}")
    return value
