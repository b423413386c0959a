"""The frozen settings of one run, built and validated from the user's raw words.

The CLI hands over strings exactly as given (flag, else environment variable, else
default); everything is checked here, before anything is sent.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from gate.defects import SEVERITIES, default_severities
from gate.errors import UsageError
from gate.metrics import DEFAULT_MAXIMUMS
from gate.policy import Policy, build_policy, parse_assignment, parse_maximum
from gate.secret import Secret

DEFAULT_REGION = "cn-north-4"
DEFAULT_TIMEOUT = 300.0
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_PROJECT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class RawOptions:
    """The options as given, unvalidated; ``None`` where the user said nothing."""

    job_id: str | None = None
    task_id: str | None = None
    endpoint: str | None = None
    region: str | None = None
    token: str | None = None
    token_file: str | None = None
    ak: str | None = None
    sk: str | None = None
    sk_file: str | None = None
    project_id: str | None = None
    iam_user: str | None = None
    iam_password: str | None = None
    iam_password_file: str | None = None
    iam_domain: str | None = None
    iam_endpoint: str | None = None
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
    ca_bundle: str | None = None
    insecure: bool = False
    check: bool = False
    verbose: int = 0
    quiet: bool = False
    sarif: str | None = None
    codequality: str | None = None
    junit_defects: str | None = None
    defects: bool = False
    defect_severity: str | None = None
    path_prefix_strip: str | None = None

    def __repr__(self) -> str:
        return "RawOptions(...)"  # it holds raw secrets: never print it


@dataclass(frozen=True)
class TokenCredentials:
    """An IAM token sent as ``X-Auth-Token``."""

    token: Secret

    def secrets(self) -> tuple[str, ...]:
        """The values to keep out of every output."""
        return (self.token.reveal(),)


@dataclass(frozen=True)
class AkSkCredentials:
    """An access key pair: every request is signed with SDK-HMAC-SHA256."""

    ak: str = field(repr=False)  # masked like the SK: it names the account
    sk: Secret
    project_id: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """The values to keep out of every output (the AK too: it names the account)."""
        return (self.ak, self.sk.reveal())


@dataclass(frozen=True)
class IamPasswordCredentials:
    """An IAM user's password, exchanged for a token by one login per run."""

    user: str
    password: Secret
    domain: str
    endpoint: str
    project: str

    def secrets(self) -> tuple[str, ...]:
        """The values to keep out of every output."""
        return (self.password.reveal(),)


Credentials = TokenCredentials | AkSkCredentials | IamPasswordCredentials


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
class DefectSettings:
    """The per-defect outputs asked for and what to fetch for them."""

    sarif: str | None = None
    codequality: str | None = None
    junit_defects: str | None = None
    wanted: bool = False
    severities: tuple[str, ...] = ("critical", "major")
    path_prefix: str | None = None

    def paths(self) -> dict[str, str]:
        """Format name (as in the flag) to path, for the per-defect files asked for."""
        pairs = {
            "sarif": self.sarif,
            "codequality": self.codequality,
            "junit-defects": self.junit_defects,
        }
        return {name: path for name, path in pairs.items() if path}

    def requested(self) -> bool:
        """True when defects are to be fetched: ``--defects`` or a per-defect file."""
        return self.wanted or bool(self.paths())


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
    ca_bundle: str | None = None
    insecure: bool = False
    check: bool = False
    defects: DefectSettings = field(default_factory=DefectSettings)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of the run, for masking and redaction."""
        return () if self.credentials is None else self.credentials.secrets()


def raw_secrets(raw: RawOptions) -> tuple[str, ...]:
    """Every non-empty secret as given, before validation: masked before anything prints."""
    values = [raw.token, raw.ak, raw.sk, raw.iam_password]
    for path in (raw.token_file, raw.sk_file, raw.iam_password_file):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            values.append(_strip_newline(Path(path).read_text(encoding="utf-8")) if path else None)
    return tuple(value for value in values if value)


def outputs_of(raw: RawOptions) -> OutputPaths:
    """The output paths, readable even when the rest of the options are not."""
    return OutputPaths(junit=raw.junit or None, summary=raw.summary or None, json=raw.json or None)


def build_settings(raw: RawOptions) -> Settings:
    """Validate ``raw`` into ``Settings``; ``UsageError`` names the first bad option."""
    offline = bool(raw.report_file) and not raw.check
    settings = Settings(
        policy=policy_of(raw),
        outputs=outputs_of(raw),
        job_id=None if offline else job_id_of(raw.job_id),
        task_id=task_id_of(raw.task_id),
        endpoint="" if offline else endpoint_of(raw.endpoint, raw.region),
        credentials=None if offline else credentials_of(raw, region_of(raw.region)),
        report_file=raw.report_file or None,
        timeout=timeout_of(raw.timeout),
        warn_on_error=on_error_of(raw.on_error),
        verbosity=-1 if raw.quiet else raw.verbose,
        ca_bundle=ca_bundle_of(raw.ca_bundle),
        insecure=raw.insecure,
        check=raw.check,
        defects=defect_settings_of(raw, policy_of(raw)),
    )
    refuse_insecure_secrets(settings)
    return settings


def ca_bundle_of(path: str | None) -> str | None:
    """A readable PEM file of extra CA certificates, added to the default trust store."""
    if path and not (Path(path).is_file() and os.access(path, os.R_OK)):
        raise UsageError(f"--ca-bundle {path!r} is not a readable file")
    return path or None


def refuse_insecure_secrets(settings: Settings) -> None:
    """``--insecure`` may not carry an AK/SK signature or a password to a host not on loopback."""
    creds = settings.credentials
    if not settings.insecure or creds is None or isinstance(creds, TokenCredentials):
        return
    hosts = [settings.endpoint] + (
        [creds.endpoint] if isinstance(creds, IamPasswordCredentials) else []
    )
    if not all(is_loopback(urlsplit(url).hostname or "") for url in hosts):
        raise UsageError(
            "--insecure is refused with AK/SK or IAM password credentials: an unverified "
            "host could collect them. Add your CA with --ca-bundle instead"
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
        return f"https://codearts-check.{region_of(region)}.myhuaweicloud.com"
    return _checked_endpoint(endpoint.strip().rstrip("/"), option="--endpoint")


def region_of(region: str | None) -> str:
    """A region name such as ``cn-north-4`` (the default)."""
    region = region or DEFAULT_REGION
    if not _REGION.fullmatch(region):
        raise UsageError(f"--region is not a region name: {region!r}")
    return region


def _checked_endpoint(url: str, option: str) -> str:
    parts = urlsplit(url)
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
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Each method and the options that configure it (names only: never values).
METHOD_OPTIONS = {
    "token": ("token", "token_file"),
    "AK/SK": ("ak", "sk", "sk_file"),
    "IAM password": ("iam_user", "iam_password", "iam_password_file", "iam_domain"),
}
OPTION_NAMES = {
    "token": "--token/CODEARTS_TOKEN",
    "token_file": "--token-file/CODEARTS_TOKEN_FILE",
    "ak": "--ak/CODEARTS_AK/HUAWEI_CLOUD_ACCESS_KEY_ID",
    "sk": "--sk/CODEARTS_SK/HUAWEI_CLOUD_SECRET_ACCESS_KEY",
    "sk_file": "--sk-file/CODEARTS_SK_FILE",
    "iam_user": "--iam-user/CODEARTS_IAM_USER",
    "iam_password": "--iam-password/CODEARTS_IAM_PASSWORD",
    "iam_password_file": "--iam-password-file/CODEARTS_IAM_PASSWORD_FILE",
    "iam_domain": "--iam-domain/CODEARTS_IAM_DOMAIN",
}


def credentials_of(raw: RawOptions, region: str) -> Credentials:
    """The one credential method configured; none or several is a usage error."""
    found = {m: [o for o in opts if getattr(raw, o)] for m, opts in METHOD_OPTIONS.items()}
    found = {method: options for method, options in found.items() if options}
    if not found:
        raise UsageError(
            "no credentials: set CODEARTS_TOKEN, or CODEARTS_AK and CODEARTS_SK, or "
            "CODEARTS_IAM_USER, CODEARTS_IAM_PASSWORD and CODEARTS_IAM_DOMAIN"
        )
    if len(found) > 1:
        listed = "; ".join(
            f"{m}: {', '.join(OPTION_NAMES[o] for o in opts)}" for m, opts in found.items()
        )
        raise UsageError(f"more than one credential method is configured ({listed}): keep one")
    builders = {"token": _token, "AK/SK": _aksk, "IAM password": _iam}
    [method] = found
    return builders[method](raw, region)


def _token(raw: RawOptions, _region: str) -> Credentials:
    return TokenCredentials(Secret(secret_of(raw, "token", "token_file")))


def _aksk(raw: RawOptions, _region: str) -> Credentials:
    sk = secret_of(raw, "sk", "sk_file")
    if not raw.ak:
        raise UsageError(f"AK/SK needs the access key id too: set {OPTION_NAMES['ak']}")
    if raw.project_id and not _PROJECT_ID.fullmatch(raw.project_id):
        raise UsageError("--project-id must be 1 to 64 of A-Z a-z 0-9 _ -")
    return AkSkCredentials(raw.ak.strip(), Secret(sk), raw.project_id or None)


def _iam(raw: RawOptions, region: str) -> Credentials:
    password = secret_of(raw, "iam_password", "iam_password_file")
    missing = [OPTION_NAMES[o] for o in ("iam_user", "iam_domain") if not getattr(raw, o)]
    if missing:
        raise UsageError(f"IAM password login needs {' and '.join(missing)}")
    assert raw.iam_user and raw.iam_domain
    endpoint = iam_endpoint_of(raw.iam_endpoint, region)
    return IamPasswordCredentials(raw.iam_user, Secret(password), raw.iam_domain, endpoint, region)


def secret_of(raw: RawOptions, value_name: str, file_name: str) -> str:
    """A secret given directly or in a file (Docker and Jenkins secrets are files)."""
    value, path = getattr(raw, value_name), getattr(raw, file_name)
    if value and path:
        raise UsageError(f"set {OPTION_NAMES[value_name]} or {OPTION_NAMES[file_name]}, not both")
    if not path:
        if not value:
            raise UsageError(f"{OPTION_NAMES[value_name]} is missing")
        return str(value)
    return read_secret_file(path, OPTION_NAMES[file_name])


def read_secret_file(path: str, option: str) -> str:
    """A secret file's content without its trailing newline; never echoed in errors."""
    try:
        value = _strip_newline(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or "not UTF-8 text"
        raise UsageError(f"cannot read {option} {path!r}: {reason}") from None
    if not value:
        raise UsageError(f"{option} {path!r} is empty")
    return value


def _strip_newline(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


def iam_endpoint_of(endpoint: str | None, region: str) -> str:
    """The IAM base URL: given, or ``https://iam.{region}.myhuaweicloud.com``."""
    if endpoint:
        return _checked_endpoint(endpoint.strip().rstrip("/"), option="--iam-endpoint")
    return f"https://iam.{region}.myhuaweicloud.com"


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


def defect_outputs_of(raw: RawOptions) -> DefectSettings:
    """The per-defect output paths, readable even when the rest of the options are not."""
    return DefectSettings(
        sarif=raw.sarif or None,
        codequality=raw.codequality or None,
        junit_defects=raw.junit_defects or None,
    )


def defect_settings_of(raw: RawOptions, policy: Policy) -> DefectSettings:
    """The per-defect outputs, the severities to fetch and the path prefix to strip."""
    metrics = [threshold.metric for threshold in policy.thresholds]
    return replace(
        defect_outputs_of(raw),
        wanted=raw.defects,
        severities=defect_severities_of(raw.defect_severity, metrics),
        path_prefix=(raw.path_prefix_strip or "").strip() or None,
    )


def defect_severities_of(text: str | None, metrics: list[str]) -> tuple[str, ...]:
    """``--defect-severity``: comma-separated names or ``all``; default: those with a threshold."""
    if not text or not text.strip():
        return default_severities(metrics)
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    if names == {"all"}:
        return SEVERITIES
    unknown = sorted(names - set(SEVERITIES))
    if unknown or not names:
        valid = ", ".join(SEVERITIES)
        raise UsageError(f"--defect-severity: unknown {unknown!r}; use {valid} or all")
    return tuple(s for s in SEVERITIES if s in names)
