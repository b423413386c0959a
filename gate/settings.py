"""The frozen settings of one run, built and validated from the user's raw words.

The CLI hands over strings exactly as given (flag, else environment variable, else
default); everything is checked here, before anything is sent.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gate.errors import UsageError
from gate.metrics import DEFAULT_MAXIMUMS
from gate.policy import Policy, build_policy, parse_assignment, parse_maximum
from gate.secret import Secret

DEFAULT_REGION = "cn-north-4"
DEFAULT_TIMEOUT = 300.0
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class RawOptions:
    """The options as given, unvalidated; ``None`` where the user said nothing."""

    job_id: str | None = None
    task_id: str | None = None
    endpoint: str | None = None
    region: str | None = None
    token: str | None = None
    max_critical: str | None = None
    max_major: str | None = None
    max_new: str | None = None
    max: tuple[str, ...] = ()
    report_file: str | None = None
    junit: str | None = None
    summary: str | None = None
    json: str | None = None
    timeout: str | None = None
    on_error: str | None = None
    verbose: int = 0
    quiet: bool = False

    def __repr__(self) -> str:
        return "RawOptions(...)"  # it holds raw secrets: never print it


@dataclass(frozen=True)
class TokenCredentials:
    """An IAM token sent as ``X-Auth-Token``."""

    token: Secret


Credentials = TokenCredentials


@dataclass(frozen=True)
class OutputPaths:
    """The files asked for; ``None`` where a format was not asked for."""

    junit: str | None = None
    summary: str | None = None
    json: str | None = None

    def requested(self) -> dict[str, str]:
        """Format name to path, for the formats asked for."""
        pairs = {"junit": self.junit, "summary": self.summary, "json": self.json}
        return {name: path for name, path in pairs.items() if path}


@dataclass(frozen=True)
class Settings:
    """Everything one run needs, validated."""

    policy: Policy
    outputs: OutputPaths = field(default_factory=OutputPaths)
    job_id: str | None = None
    task_id: str = ""
    endpoint: str = ""
    credentials: Credentials | None = None
    report_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    warn_on_error: bool = False
    verbosity: int = 0

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of the run, for masking and redaction."""
        if self.credentials is None:
            return ()
        return (self.credentials.token.reveal(),)


def outputs_of(raw: RawOptions) -> OutputPaths:
    """The output paths, readable even when the rest of the options are not."""
    return OutputPaths(junit=raw.junit or None, summary=raw.summary or None, json=raw.json or None)


def build_settings(raw: RawOptions) -> Settings:
    """Validate ``raw`` into ``Settings``; ``UsageError`` names the first bad option."""
    offline = bool(raw.report_file)
    return Settings(
        policy=policy_of(raw),
        outputs=outputs_of(raw),
        job_id=None if offline else job_id_of(raw.job_id),
        task_id=task_id_of(raw.task_id),
        endpoint="" if offline else endpoint_of(raw.endpoint, raw.region),
        credentials=None if offline else credentials_of(raw),
        report_file=raw.report_file or None,
        timeout=timeout_of(raw.timeout),
        warn_on_error=on_error_of(raw.on_error),
        verbosity=-1 if raw.quiet else raw.verbose,
    )


def policy_of(raw: RawOptions) -> Policy:
    """Defaults, then the named options, then ``--max NAME=N`` (later wins)."""
    pairs: list[tuple[str, int | None]] = list(DEFAULT_MAXIMUMS.items())
    named = {"critical": raw.max_critical, "major": raw.max_major, "new": raw.max_new}
    for metric, text in named.items():
        if text is not None:
            pairs.append((metric, parse_maximum(text, source=f"--max-{metric}")))
    pairs += [parse_assignment(item, source="--max") for item in raw.max]
    return build_policy(pairs)


def job_id_of(text: str | None) -> str:
    """A job id: required when calling the service; a safe, bounded identifier."""
    if not text:
        raise UsageError("no job id: set --job-id or CODEARTS_JOB_ID (or judge a --report-file)")
    if not _JOB_ID.fullmatch(text):
        raise UsageError(f"--job-id must be 1 to 64 of A-Z a-z 0-9 _ -, got {text!r}")
    return text


def task_id_of(text: str | None) -> str:
    """An optional task id: 1 to 32 safe characters, or empty."""
    if text and not _TASK_ID.fullmatch(text):
        raise UsageError(f"--task-id must be 1 to 32 of A-Z a-z 0-9 _ -, got {text!r}")
    return text or ""


def endpoint_of(endpoint: str | None, region: str | None) -> str:
    """The base URL: given, or derived from the region; plain http only for loopback."""
    if not endpoint:
        region = region or DEFAULT_REGION
        if not _REGION.fullmatch(region):
            raise UsageError(f"--region is not a region name: {region!r}")
        return f"https://codearts-check.{region}.myhuaweicloud.com"
    return _checked_endpoint(endpoint.strip().rstrip("/"))


def _checked_endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"--endpoint must be an https:// URL, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError("--endpoint must not carry a query, a fragment or user info")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"--endpoint {url!r} is plain http: credentials would travel in clear; "
            "use https:// (http is allowed for loopback only)"
        )
    return url


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def credentials_of(raw: RawOptions) -> Credentials:
    """The one credential method configured."""
    if raw.token:
        return TokenCredentials(Secret(raw.token))
    raise UsageError("no credentials: set CODEARTS_TOKEN (preferred over --token)")


def timeout_of(text: str | None) -> float:
    """The overall deadline in seconds: a number above 0, at most a day."""
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--timeout must be a number of seconds, got {text!r}") from None
    if not 0 < value <= 86400:
        raise UsageError(f"--timeout must be above 0 and at most 86400, got {text!r}")
    return value


def on_error_of(text: str | None) -> bool:
    """``--on-error``: ``fail`` (default) or ``warn``; True for warn."""
    choice = (text or "fail").strip().lower()
    if choice not in ("fail", "warn"):
        raise UsageError(f"--on-error must be 'fail' or 'warn', got {text!r}")
    return choice == "warn"
