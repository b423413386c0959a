"""The frozen settings of one run, built and validated from the user's raw words.

Everything is checked here, before anything is sent."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from gate.errors import UsageError
from gate.policy import Policy
from gate.settings.branch import branch_of
from gate.settings.change import ChangeSettings, change_settings_of
from gate.settings.credentials import (
    Credentials,
    IamPasswordCredentials,
    TokenCredentials,
    credentials_of,
)
from gate.settings.defect_options import DefectSettings, defect_settings_of
from gate.settings.history_options import SuppressionSettings, baseline_options
from gate.settings.network import (
    DEFAULT_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    ca_bundle_of,
    endpoint_of,
    is_loopback,
    region_of,
    timeout_of,
)
from gate.settings.raw import RawOptions
from gate.settings.thresholds import policy_of
from gate.structs import field, record, replace
from gate.text import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gate.baseline import BaselineSpec
    from gate.settings.config_file import TaskTable

_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@record
class OutputPaths:
    """The files asked for; ``None`` where a format was not asked for."""

    junit: str | None = None
    summary: str | None = None
    json: str | None = None

    def requested(self) -> dict[str, str]:
        """Format name to path, for the formats asked for."""
        pairs = {"junit": self.junit, "summary": self.summary, "json": self.json}
        return {name: path for name, path in pairs.items() if path}


@record
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
    check_finds_tasks: bool = False
    """``--check --tasks-for-repo``: the check lists the project's tasks itself (a step it
    prints) and checks the first task found; ``task_id`` is empty until then."""
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
    verdict_policy: str = "local"
    """``--policy``: ``local``, ``codearts`` (CodeArts' own gate decides) or ``both``."""
    tasks: tuple[TaskRun, ...] = ()
    """Several tasks in one step (``--task-id a,b`` or ``[[tasks]]``), each with its own
    settings; empty for one task."""
    change: ChangeSettings = field(default_factory=ChangeSettings)
    baseline: BaselineSpec | None = None
    baseline_optional: bool = False
    suppressions: SuppressionSettings = field(default_factory=SuppressionSettings)

    @property
    def reads_codearts_gate(self) -> bool:
        """True when CodeArts' own gate is read: a task, and the service is talked to."""
        return bool(self.task_id) and not self.report_file and not self.check

    @property
    def gates_latest_scan(self) -> bool:
        """True when the gated scan is the task's latest (what ``is_access`` describes):
        ``--run`` or ``--task-id`` alone; not a ``--job-id``."""
        return self.job_id is None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of the run, for masking and redaction."""
        return () if self.credentials is None else self.credentials.secrets()


def outputs_of(raw: RawOptions) -> OutputPaths:
    """The output paths, readable even when the rest of the options are not."""
    return OutputPaths(junit=raw.junit or None, summary=raw.summary or None, json=raw.json or None)


@record
class TaskRun:
    """One task of several gated in one step: its name (the id by default), its folder
    in the repository (``path``), and its own settings."""

    name: str
    path: str | None
    settings: Settings


MAX_TASKS = 50


_TASK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def build_settings(raw: RawOptions) -> Settings:
    """Validate ``raw`` into ``Settings``; ``UsageError`` names the first bad option."""
    tables = task_tables_of(raw)
    if tables is not None:
        return several_tasks(raw, tables)
    return one_task(raw)


def task_tables_of(raw: RawOptions) -> list[TaskTable] | None:
    """The tasks of a step of several: ``--task-id a,b,c`` or the file's ``[[tasks]]``
    (a task id from a flag or variable beats the file's tables); None for one task."""
    if raw.tasks and raw.rank("task_id") <= 1:
        if raw.task_id:
            raise UsageError("the config file sets both task-id and [[tasks]]: keep one")
        return list(raw.tasks)
    if raw.task_id and "," in raw.task_id:
        from gate.settings.config_file import TaskTable  # noqa: PLC0415 - only for several tasks

        ids = [part.strip() for part in raw.task_id.split(",")]
        if not all(ids) or len(ids) > MAX_TASKS:
            raise UsageError(f"--task-id: 1 to {MAX_TASKS} comma-separated task ids, none empty")
        return [TaskTable(task_id, None, None, (), 0) for task_id in ids]
    return None


def several_tasks(raw: RawOptions, tables: list[TaskTable]) -> Settings:
    """One step gating several tasks: each task's settings (its own thresholds over the
    file's, under flags and variables), and the step's own for everything else."""
    refuse_with_several_tasks(raw)
    runs = []
    for table in tables:
        name = table.name or table.id
        if not _TASK_NAME.fullmatch(name):
            raise UsageError(
                f"task name {one_line(repr(name), 80)}: 1 to 64 of A-Z a-z 0-9 _ . - "
                "(it names the task's JUnit suite)"
            )
        runs.append(TaskRun(name, table.path, one_task(task_raw(raw, table))))
    for what, values in (
        ("id", [r.settings.task_id for r in runs]),
        ("name", [r.name for r in runs]),
    ):
        if len(set(values)) != len(values):
            raise UsageError(f"two tasks have the same {what}: each task once, please")
    first = runs[0].settings
    return replace(first, tasks=tuple(runs))


def task_raw(raw: RawOptions, table: TaskTable) -> RawOptions:
    """The raw options of one task: its id, and its own thresholds where no flag or
    variable set them (they stand at the config file's level)."""
    sources = dict(raw.sources)
    overrides: dict[str, Any] = {}
    for name, value in table.overrides:
        if raw.rank(name) <= 1:
            overrides[name] = value
            sources[name] = f"[[tasks]] {table.id}"
    return replace(
        raw,
        task_id=table.id,
        tasks=(),
        sources=sources,
        from_env=raw.from_env | frozenset(overrides),
        **overrides,
    )


def refuse_with_several_tasks(raw: RawOptions) -> None:
    """What a step of several tasks cannot do (yet): a job id, a saved report, ``--check``
    (each names one task's report, or diagnoses one setup)."""
    given = [
        name
        for name, value in (
            ("--job-id", raw.job_id),
            ("--report-file", raw.report_file),
            ("--check", raw.check),
        )
        if value
    ]
    if given:
        raise UsageError(
            f"{', '.join(given)} cannot be used with several tasks in one step; gate one "
            "task per step for them"
        )


def one_task(raw: RawOptions) -> Settings:
    """The settings of one task (or none: a job id, a saved report)."""
    raw = flags_beat_variables(raw)
    report_file = raw.report_file
    offline = bool(report_file) and not raw.check
    policy = policy_of(raw)  # parsed once: the defect severities follow its thresholds
    settings = Settings(
        policy=policy,
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
        defects=defect_settings_of(raw, policy),
        verdict_policy=verdict_policy_of(raw.policy),
        change=change_settings_of(
            raw,
            os.environ,
            offline=offline,
            comment=flag_of(raw.comment, "--comment/CODEARTS_COMMENT"),
        ),
        **baseline_options(
            raw,
            offline,
            flag_of(raw.baseline_optional, "--baseline-optional/CODEARTS_BASELINE_OPTIONAL"),
        ),
    )
    if settings.suppressions.entries:  # the judged counts come from the defect list
        settings = replace(settings, defects=replace(settings.defects, wanted=True))
    refuse_insecure_secrets(settings)
    checked = settings.check and bool(settings.task_id)  # --check tries the summary instead
    if settings.verdict_policy != "local" and not (settings.reads_codearts_gate or checked):
        raise UsageError(
            f"--policy {settings.verdict_policy} judges by CodeArts' own gate of a task: set "
            "--task-id, and talk to the service (not --report-file)"
        )
    return settings


def verdict_policy_of(text: str | None) -> str:
    """``--policy``: ``local`` (default), ``codearts`` or ``both``."""
    choice = (text or "local").strip().lower()
    if choice not in ("local", "codearts", "both"):
        raise UsageError(
            f"--policy must be local, codearts or both, got {one_line(repr(text), 60)}"
        )
    return choice


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
    """``raw`` without every mode that a conflicting mode from a stronger source overrides:
    a flag beats a variable, a variable the config file, for every pair of modes
    (``MODE_CONFLICTS``). Two conflicting modes of one strength both stay
    (``task_options`` refuses the pairs it cannot serve)."""
    beaten: dict[str, Any] = {
        name: None
        for name in MODES
        if any(
            frozenset((name, rival)) in MODE_CONFLICTS and raw.rank(rival) > raw.rank(name) > 0
            for rival in MODES
        )
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


def on_error_of(text: str | None) -> bool:
    """``--on-error``: ``fail`` (default) or ``warn``; True for warn."""
    choice = (text or "fail").strip().lower()
    if choice not in ("fail", "warn"):
        raise UsageError(f"--on-error must be 'fail' or 'warn', got {text!r}")
    return choice == "warn"
