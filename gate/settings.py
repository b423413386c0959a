"""The frozen settings of one run, built and validated from the user's raw words.

The CLI hands over strings exactly as given (flag, else environment variable, else
default); everything is checked here, before anything is sent.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gate import ci
from gate.ci import ChangeRequest, ci_branch, from_fork
from gate.defects import SEVERITIES, default_severities
from gate.errors import UsageError
from gate.metrics import DEFAULT_MAXIMUMS
from gate.policy import Policy, build_policy, parse_assignment, parse_maximum
from gate.secret import Secret
from gate.text import one_line

if TYPE_CHECKING:  # baselines and suppressions load only for the runs that have them
    from gate.baseline import BaselineSpec
    from gate.suppressions import Suppression

DEFAULT_REGION = "cn-north-4"
DEFAULT_TIMEOUT = 300.0
DEFAULT_WAIT_TIMEOUT = 1800.0  # --run/--wait: long enough for a real scan
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
    from_env: frozenset[str] = frozenset()
    """The options above whose value came from an environment variable: a flag beats them."""
    run: str | None = None
    wait: str | None = None
    branch: str | None = None  # None: the CI's branch; "": send none
    cancel_on_timeout: str | None = None
    console_project_id: str | None = None
    sarif: str | None = None
    codequality: str | None = None
    junit_defects: str | None = None
    defects: bool = False
    defect_severity: str | None = None
    path_prefix_strip: str | None = None
    scope: str | None = None
    base: str | None = None
    comment: str | None = None
    baseline: str | None = None
    max_increase: tuple[str, ...] = ()
    baseline_optional: str | None = None
    suppressions: str | None = None
    sync_suppressions: str | None = None

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
    chosen: bool = False
    """True when ``--defect-severity`` was given (else: those with a maximum)."""

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


SYNC_MODES = {"dry-run": "dry-run", "true": "dry-run", "apply": "apply"}


@dataclass(frozen=True)
class SuppressionSettings:
    """``--suppressions``: the entries read, where from, and ``--sync-suppressions``."""

    entries: tuple[Suppression, ...] = ()
    source: str | None = None
    sync: str | None = None
    """None (never by default), ``dry-run`` (say what would change) or ``apply``."""


@dataclass(frozen=True)
class ChangeSettings:
    """``--scope``, ``--base``, ``--comment`` and what the CI says of the change.

    ``target`` is the revision whose merge base with ``head`` is the change's base
    (``--base``, else the CI's); ``head`` the change's head commit (None: ``HEAD``).
    """

    scope: str = "all"
    target: str | None = None
    head: str | None = None
    forge: str = ""
    request: ChangeRequest | None = None
    commit: str | None = None
    blob_url: str | None = None
    comment: bool = False

    @property
    def judged(self) -> bool:
        """True when the thresholds judge the change's lines."""
        return self.scope == "change" and self.target is not None

    @property
    def note(self) -> str | None:
        """Why change scope was asked for and the whole branch is judged, if so."""
        if self.scope != "change" or self.judged:
            return None
        return (
            "--scope change: not a pull or merge request and no --base, so the whole "
            "branch is judged (as --scope all)"
        )


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
    run: bool = False
    wait: bool = False
    branch: str | None = None
    branch_source: str | None = None
    cancel_on_timeout: bool = False
    console_project_id: str | None = None

    @property
    def task_flow(self) -> bool:
        """True when the gate talks to the task (run, wait, or its latest report)."""
        alone = self.job_id is None and not self.report_file
        return bool(self.task_id) and (self.run or self.wait or alone)

    defects: DefectSettings = field(default_factory=DefectSettings)
    change: ChangeSettings = field(default_factory=ChangeSettings)
    baseline: BaselineSpec | None = None
    baseline_optional: bool = False
    suppressions: SuppressionSettings = field(default_factory=SuppressionSettings)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of the run, for masking and redaction."""
        return () if self.credentials is None else self.credentials.secrets()


def raw_secrets(raw: RawOptions) -> tuple[str, ...]:
    """Every non-empty secret as given, before validation: masked before anything prints.

    The values of the ``*_FILE`` options count too: a secret pasted where its path was
    expected must not be printed either (paths shorter than ``MIN_SECRET`` excepted: masking
    them would garble every message, and no valid secret is that short)."""
    values = [raw.token, raw.ak, raw.sk, raw.iam_password]
    paths = [p for p in (raw.token_file, raw.sk_file, raw.iam_password_file) if p]
    values += [p for p in paths if len(p) >= MIN_SECRET]
    for path in paths:
        with contextlib.suppress(OSError, UnicodeDecodeError, ValueError):
            if Path(path).is_file():  # a pipe (``<(pass show sk)``) can be read only once
                values.append(_strip_newline(read_text_nowait(path)))
    return tuple(value for value in values if value)


def read_text_nowait(path: str) -> str:
    """A file's UTF-8 text; a FIFO nobody writes to reads as empty instead of hanging."""
    return read_bytes_nowait(path).decode("utf-8")


def read_bytes_nowait(path: str) -> bytes:
    """A file's bytes; opening never blocks (a FIFO without a writer is at its end at once).

    Reading still waits for a writer that is there, so ``--report-file <(...)`` works."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with contextlib.suppress(OSError):
        os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def outputs_of(raw: RawOptions) -> OutputPaths:
    """The output paths, readable even when the rest of the options are not."""
    return OutputPaths(junit=raw.junit or None, summary=raw.summary or None, json=raw.json or None)


def build_settings(raw: RawOptions) -> Settings:
    """Validate ``raw`` into ``Settings``; ``UsageError`` names the first bad option."""
    raw = flags_beat_variables(raw)
    report_file = raw.report_file
    offline = bool(report_file) and not raw.check
    settings = Settings(
        policy=policy_of(raw),
        outputs=outputs_of(raw),
        job_id=None if offline else job_id_for(raw),
        task_id=task_id_of(raw.task_id),
        endpoint="" if offline else endpoint_of(raw.endpoint, raw.region),
        credentials=None if offline else credentials_of(raw, region_of(raw.region)),
        report_file=report_file or None,
        timeout=timeout_of(raw.timeout) if raw.timeout or not waits(raw) else DEFAULT_WAIT_TIMEOUT,
        warn_on_error=on_error_of(raw.on_error),
        verbosity=-1 if raw.quiet else raw.verbose,
        ca_bundle=ca_bundle_of(raw.ca_bundle),
        insecure=raw.insecure,
        check=raw.check,
        **task_options(raw, offline),
        defects=defect_settings_of(raw, policy_of(raw)),
        change=change_settings_of(raw, os.environ, offline=offline),
        **baseline_options(raw, offline),
    )
    if settings.suppressions.entries:  # the judged counts come from the defect list
        settings = replace(settings, defects=replace(settings.defects, wanted=True))
    refuse_insecure_secrets(settings)
    return settings


def baseline_options(raw: RawOptions, offline: bool) -> dict[str, Any]:
    """``--baseline``, ``--baseline-optional``, ``--max-increase``, the suppressions."""
    spec = None
    if raw.baseline:
        from gate.baseline import spec_of  # noqa: PLC0415 - only when a baseline is asked for

        spec = spec_of(raw.baseline)
    if raw.max_increase and spec is None:
        raise UsageError("--max-increase compares with a baseline: set --baseline too")
    if spec is not None and spec.kind != "file" and offline:
        raise UsageError(f"--baseline {spec.kind} asks the service: use file:PATH offline")
    if spec is not None and spec.kind == "previous" and not raw.task_id:
        raise UsageError("--baseline previous reads the task's history: set --task-id")
    if spec is not None and spec.kind == "job":
        job_id_of(spec.value)
    optional = flag_of(raw.baseline_optional, "--baseline-optional/CODEARTS_BASELINE_OPTIONAL")
    return {
        "baseline": spec,
        "baseline_optional": optional,
        "suppressions": suppression_settings_of(raw, offline),
    }


MODES = ("run", "wait", "job_id", "task_id", "report_file", "check")
"""The options that say how the scan is found (``--check`` is a flag only)."""
MODE_CONFLICTS = frozenset(
    frozenset(pair)
    for pair in (
        ("run", "wait"),  # --wait alone starts nothing; --run waits anyway
        ("run", "job_id"),  # --run gates the scan it starts
        ("run", "report_file"),
        ("wait", "report_file"),
        ("job_id", "report_file"),
        ("task_id", "report_file"),  # --task-id asks the service; a file is offline
        ("check", "report_file"),  # --check calls the service
    )
)
"""The mode pairs that cannot both hold. The others combine: ``--task-id`` with ``--run``,
``--wait`` or ``--job-id`` (the job's report, the task for its defects), ``--wait`` with
``--job-id``, ``--check`` with any mode that calls the service."""


def flags_beat_variables(raw: RawOptions) -> RawOptions:
    """``raw`` without every mode variable that a mode given as a flag conflicts with:
    a flag beats a variable, for every pair of modes (``MODE_CONFLICTS``). Two flags that
    conflict, or two variables, both stay (``task_options`` refuses the pairs it cannot
    serve)."""
    flagged = {name for name in MODES if getattr(raw, name) and name not in raw.from_env}
    beaten: dict[str, Any] = {
        name: None
        for name in MODES
        if name in raw.from_env
        and any(frozenset((name, flag)) in MODE_CONFLICTS for flag in flagged)
    }
    return replace(raw, **beaten) if beaten else raw


def flag_of(text: str | None, name: str) -> bool:
    """A yes/no option: ``--run`` gives "true"; a variable may say true/false, 1/0, yes/no."""
    word = (text or "false").strip().lower()
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off", ""):
        return False
    raise UsageError(f"{name} must be true or false, got {text!r}")


def waits(raw: RawOptions) -> bool:
    """True for ``--run`` or ``--wait`` (validated later, in ``task_options``)."""
    return any(_lenient_flag(text) for text in (raw.run, raw.wait))


def _lenient_flag(text: str | None) -> bool:
    try:
        return flag_of(text, "flag")
    except UsageError:
        return False


def task_options(raw: RawOptions, offline: bool) -> dict[str, Any]:
    """``--run``, ``--wait``, ``--branch``, ``--cancel-on-timeout``, ``--console-project-id``."""
    run, wait = flag_of(raw.run, "--run/CODEARTS_RUN"), flag_of(raw.wait, "--wait/CODEARTS_WAIT")
    cancel = flag_of(raw.cancel_on_timeout, "--cancel-on-timeout/CODEARTS_CANCEL_ON_TIMEOUT")
    if (run or wait) and offline:
        raise UsageError("--run and --wait talk to the service: drop --report-file")
    if (run or wait) and not raw.task_id:
        raise UsageError("--run and --wait need the task: set --task-id or CODEARTS_TASK_ID")
    if run and raw.job_id:
        raise UsageError(
            "--run gates the scan it starts (its exec_id is the job id): drop --job-id"
        )
    branch, source = branch_of(raw.branch, os.environ) if run else (None, None)
    return {
        "run": run,
        "wait": wait or run,
        "branch": branch,
        "branch_source": source,
        "cancel_on_timeout": cancel,
        "console_project_id": console_project_of(raw.console_project_id),
    }


def job_id_for(raw: RawOptions) -> str | None:
    """The job id; with a task and no job id (``--run``, ``--wait``, ``--task-id`` alone),
    None: the run's exec_id, or the task's latest version-level report, stands in."""
    if raw.task_id and not raw.job_id:
        return None
    if waits(raw) and not raw.task_id and raw.job_id:
        raise UsageError(
            "--run and --wait need the check task's id: set --task-id (or CODEARTS_TASK_ID) "
            "to the task, not --job-id (a job id names one scan: to gate that scan, drop "
            "--run/--wait)"
        )
    if waits(raw) and not raw.task_id:
        raise UsageError("--run and --wait need the task: set --task-id or CODEARTS_TASK_ID")
    return job_id_of(raw.job_id, check=raw.check)


_BRANCH = re.compile(r"[^\x00-\x1f\x7f]{1,255}")


def branch_of(text: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(branch, where it came from): ``--branch``, else the branch the CI builds; "" is none."""
    source: str | None = "--branch/CODEARTS_BRANCH"
    if text is None:
        found = ci_branch(env)
        text, source = found if found else ("", None)
        if source and from_fork(env):
            raise UsageError(
                f"the branch under build ({source}) is a pull request's branch in a fork, "
                "which the CodeArts task cannot check out (a branch of the same name in the "
                "task's repository would be scanned and gated instead): set --branch/"
                "CODEARTS_BRANCH to the branch to scan, or --branch '' for the task's own"
            )
    if not text:
        return None, None
    if not _BRANCH.fullmatch(text):
        why = "over 255 characters" if len(text) > 255 else "a control character"
        shown = one_line(text, 80)  # secrets redacted before the cut
        raise UsageError(f"the branch from {source} is not a branch name ({why}): '{shown}'")
    return text, source


_CONSOLE_PROJECT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PROJECT_IN_URL = re.compile(r"/project/([A-Za-z0-9_-]{1,64})(?:[/?#]|$)")


def console_project_of(text: str | None) -> str | None:
    """The CodeArts project id (not the IAM one): given, or the segment after ``/project/``
    in a console URL such as a report's ``REPORT_URL``."""
    if not text:
        return None
    text = text.strip()
    project = (project_in_url(text) or "") if "/" in text else text
    if not _CONSOLE_PROJECT.fullmatch(project):
        raise UsageError(
            "--console-project-id must be the CodeArts project id (1 to 64 of A-Z a-z 0-9 _ -) "
            "or a console URL holding /project/ID/"
        )
    return project


def project_in_url(url: str | None) -> str | None:
    """The CodeArts project id after ``/project/`` in a console URL, if any."""
    found = _PROJECT_IN_URL.search(url or "")
    return found.group(1) if found else None


def ca_bundle_of(path: str | None) -> str | None:
    """A readable PEM file of extra CA certificates, added to the default trust store."""
    if path and not is_readable_file(path):
        raise UsageError(f"--ca-bundle/CODEARTS_CA_BUNDLE {path!r} is not a readable file")
    return path or None


def is_readable_file(path: str) -> bool:
    """True for a regular file this process can read; False for anything else, including
    paths the system refuses to look at (too long, in a folder it cannot enter)."""
    try:
        return Path(path).is_file() and os.access(path, os.R_OK)
    except (OSError, ValueError):
        return False


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
    """Defaults, then variables, then flags (a flag beats a variable); at each level the
    named options first, then ``--max NAME=N``, which wins over ``--max-NAME``."""
    pairs: list[tuple[str, int | None]] = list(DEFAULT_MAXIMUMS.items())
    named = {"critical": raw.max_critical, "major": raw.max_major, "new": raw.max_new}
    for from_env in (True, False):
        for metric, text in named.items():
            if text is not None and (f"max_{metric}" in raw.from_env) == from_env:
                pairs.append((metric, parse_maximum(text, source=f"--max-{metric}")))
        if ("max" in raw.from_env) == from_env:
            pairs += [parse_assignment(item, source="--max") for item in raw.max]
    increases = [parse_assignment(item, source="--max-increase") for item in raw.max_increase]
    return build_policy(pairs, increases)


def job_id_of(text: str | None, *, check: bool = False) -> str:
    """A job id: required when calling the service; a safe, bounded identifier."""
    if not text and check:
        raise UsageError(
            "--check calls the service, so it needs a job id: set --job-id or CODEARTS_JOB_ID "
            "(a --report-file is not used by --check)"
        )
    if not text:
        raise UsageError(
            "no job id and no task: nothing to gate. Run the check task and gate its scan "
            "with codearts-gate --task-id ID --run (or CODEARTS_TASK_ID and "
            "CODEARTS_RUN=true), gate a known scan with --job-id ID, or judge a saved answer "
            "with --report-file PATH; codearts-gate --help lists every option"
        )
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
    flagged = {m: opts for m, opts in found.items() if set(opts) - raw.from_env}
    if flagged:  # a flag beats a variable: methods set only by variables step aside
        found = flagged
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
    token, source = secret_of(raw, "token", "token_file")
    check_format(token, source, TOKEN_FORMAT)
    return TokenCredentials(Secret(token))


def _aksk(raw: RawOptions, _region: str) -> Credentials:
    sk, sk_source = secret_of(raw, "sk", "sk_file")
    if not raw.ak:
        raise UsageError(f"AK/SK needs the access key id too: set {OPTION_NAMES['ak']}")
    check_format(raw.ak, OPTION_NAMES["ak"], AK_FORMAT)
    check_format(sk, sk_source, SK_FORMAT)
    if raw.project_id and not _PROJECT_ID.fullmatch(raw.project_id):
        raise UsageError("--project-id must be 1 to 64 of A-Z a-z 0-9 _ -")
    return AkSkCredentials(raw.ak, Secret(sk), raw.project_id or None)


def _iam(raw: RawOptions, region: str) -> Credentials:
    password, source = secret_of(raw, "iam_password", "iam_password_file")
    missing = [OPTION_NAMES[o] for o in ("iam_user", "iam_domain") if not getattr(raw, o)]
    if missing:
        raise UsageError(f"IAM password login needs {' and '.join(missing)}")
    assert raw.iam_user and raw.iam_domain
    check_format(password, source, PASSWORD_FORMAT)
    for option in ("iam_user", "iam_domain"):
        check_format(getattr(raw, option), OPTION_NAMES[option], NAME_FORMAT)
    endpoint = iam_endpoint_of(raw.iam_endpoint, region)
    return IamPasswordCredentials(raw.iam_user, Secret(password), raw.iam_domain, endpoint, region)


@dataclass(frozen=True)
class SecretFormat:
    """What a credential may look like: checked before anything is sent."""

    what: str
    shortest: int
    longest: int
    ascii_only: bool = True  # printable ASCII without spaces (it travels in a header)
    alphanumeric: bool = False


MIN_SECRET = 6
"""No secret is shorter (a placeholder such as ``x`` would otherwise garble every message
once redacted)."""
TOKEN_FORMAT = SecretFormat("an IAM token", 10, 100_000)
AK_FORMAT = SecretFormat("an access key id (AK)", 16, 64, alphanumeric=True)
SK_FORMAT = SecretFormat("a secret access key (SK)", 20, 128)
PASSWORD_FORMAT = SecretFormat("an IAM password", MIN_SECRET, 128, ascii_only=False)
NAME_FORMAT = SecretFormat("an IAM user or account name", 1, 128, ascii_only=False)


def check_format(value: str, option: str, rule: SecretFormat) -> None:
    """``UsageError`` naming ``option`` (never the value) when ``value`` cannot be ``rule``."""
    problem = format_problem(value, rule)
    if problem:
        raise UsageError(f"{option} is not {rule.what}: {problem} (the value is not shown)")


def format_problem(value: str, rule: SecretFormat) -> str | None:
    """Why ``value`` cannot be a credential of ``rule``'s kind, in words without the value."""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        return "it holds a control character (a line break, a tab, an escape?)"
    if rule.ascii_only and any(c.isspace() for c in value):
        return "it holds whitespace (copied with a space or a line break?)"
    if rule.ascii_only and not value.isascii():
        return "it holds a non-ASCII character (a typographic quote or dash?)"
    if rule.alphanumeric and not value.isalnum():
        return "it holds characters other than letters and digits"
    if not rule.shortest <= len(value) <= rule.longest:
        return f"it is {len(value)} characters long, not {rule.shortest} to {rule.longest}"
    return None


def secret_of(raw: RawOptions, value_name: str, file_name: str) -> tuple[str, str]:
    """A secret given directly or in a file (Docker and Jenkins secrets are files), and
    the name of where it came from. A flag beats a variable; two flags are an error."""
    value, path = getattr(raw, value_name), getattr(raw, file_name)
    if value and path:
        from_env = {value_name, file_name} & raw.from_env
        if len(from_env) != 1:
            raise UsageError(
                f"set {OPTION_NAMES[value_name]} or {OPTION_NAMES[file_name]}, not both"
            )
        value, path = (None, path) if value_name in from_env else (value, None)
    if not path:
        if not value:
            raise UsageError(f"{OPTION_NAMES[value_name]} is missing")
        return str(value), OPTION_NAMES[value_name]
    option = OPTION_NAMES[file_name]
    return read_secret_file(path, option), f"the content of {option}"


def read_secret_file(path: str, option: str) -> str:
    """A secret file's content without its trailing newline. The path is not echoed in
    errors: a secret pasted where the path belongs would be printed."""
    try:
        value = _strip_newline(read_text_nowait(path))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        reason = getattr(err, "strerror", None) or "not UTF-8 text"
        raise UsageError(
            f"cannot read the file {option} names: {reason} (the path is not shown, in "
            "case it is a secret given by mistake)"
        ) from None
    if not value:
        raise UsageError(f"the file {option} names is empty")
    return value


def _strip_newline(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


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
        chosen=bool((raw.defect_severity or "").strip()),
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


def forge_of(env: Mapping[str, str], request: ChangeRequest | None) -> str:
    """The CI the gate runs in (``github``, ``gitlab``, ``jenkins`` or ``""``)."""
    if request is not None:
        return request.forge
    if ci.active(env):
        return "github"
    return "gitlab" if env.get("GITLAB_CI") else "jenkins" if env.get("JENKINS_URL") else ""


def scope_of(text: str | None) -> str:
    """``--scope``: ``all`` (default) or ``change``."""
    scope = (text or "all").strip().lower()
    if scope not in ("all", "change"):
        raise UsageError(f"--scope must be 'change' or 'all', got {text!r}")
    return scope


def change_settings_of(raw: RawOptions, env: Mapping[str, str], *, offline: bool) -> ChangeSettings:
    """``--scope``, ``--base`` and ``--comment``, with the change the CI builds."""
    scope = scope_of(raw.scope)
    comment = flag_of(raw.comment, "--comment/CODEARTS_COMMENT")
    base = ci.revision(raw.base.strip(), "--base/CODEARTS_BASE") if raw.base else None
    event = ci.event_payload(env)
    request = ci.change_request(env, event)
    if scope == "change" and (offline or not raw.task_id):
        raise UsageError(
            "--scope change counts the defects on the change's lines, read from the task's "
            "defect list: set --task-id (CODEARTS_TASK_ID)"
            + (" and drop --report-file" if offline else "")
        )
    target = base or (request.target if request else None)
    if scope == "change" and request is not None and target is None:
        raise UsageError(
            f"--scope change: the {request.forge} change request does not say its base: "
            "set --base (CODEARTS_BASE) to the target branch, e.g. origin/main"
        )
    return ChangeSettings(
        scope=scope,
        target=target,
        head=request.head if request else None,
        forge=forge_of(env, request),
        request=request,
        commit=ci.head_commit(env, event),
        blob_url=ci.blob_url(env),
        comment=comment,
    )


def suppression_settings_of(raw: RawOptions, offline: bool) -> SuppressionSettings:
    """The suppressions file read and checked; ``--sync-suppressions``' mode."""
    sync_text = (raw.sync_suppressions or "").strip().lower()
    if sync_text in ("", "false", "0", "no", "off"):
        sync = None
    elif sync_text in SYNC_MODES:
        sync = SYNC_MODES[sync_text]
    else:
        shown = one_line(repr(raw.sync_suppressions), 60)
        raise UsageError(f"--sync-suppressions takes no value (a dry run) or 'apply', got {shown}")
    if not raw.suppressions:
        if sync:
            raise UsageError("--sync-suppressions needs suppressions: set --suppressions")
        return SuppressionSettings()
    if offline or not raw.task_id:
        raise UsageError(
            "--suppressions judges the defect list: it needs --task-id and the service"
        )
    entries = read_suppressions(raw.suppressions)
    return SuppressionSettings(entries, raw.suppressions, sync)


def read_suppressions(path: str) -> tuple[Suppression, ...]:
    """The ``[[suppress]]`` entries of a TOML file; a usage error naming what is wrong."""
    if sys.version_info >= (3, 11):  # imported here: only a run with suppressions reads TOML
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # noqa: PLC0415
    name = f"--suppressions {one_line(repr(path), 200)}"
    try:
        data = tomllib.loads(read_text_nowait(path))
    except (OSError, ValueError) as err:  # TOMLDecodeError and UnicodeDecodeError included
        reason = getattr(err, "strerror", None) or one_line(str(err), 200)
        raise UsageError(f"cannot read {name}: {reason}") from None
    from gate.suppressions import suppressions_from_toml  # noqa: PLC0415 - only with a file

    return suppressions_from_toml(data, name)
