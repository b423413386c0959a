"""One run, end to end: settings -> report -> verdict -> outputs -> exit code.

This is the one place that turns a ``GateError`` into an outcome; every path writes the
outputs that were asked for before the exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

from gate import __version__, github, text
from gate.core import (
    ChangeView,
    ErrorInfo,
    Outcome,
    ScanInfo,
    TaskVerdict,
    Verdict,
    combine_tasks,
    error_verdict,
    evaluate,
    with_codearts_gate,
    without_baseline,
)
from gate.errors import BaselineError, GateError, Interrupted, ReportError, UsageError
from gate.formats import render
from gate.formats.console import verdict_line
from gate.outputs import preflight_paths, write_atomic
from gate.report import Report, decode_json, report_from_payload
from gate.secret import Secret
from gate.settings import (
    MIN_SECRET,
    DefectSettings,
    IamPasswordCredentials,
    OutputPaths,
    RawOptions,
    Settings,
    TaskRun,
    TokenCredentials,
    build_settings,
    defect_outputs_of,
    flag_of,
    outputs_of,
    project_in_url,
    raw_secrets,
    read_bytes_nowait,
)
from gate.settings.provenance import describe, file_origin, with_config_file
from gate.streams import safe
from gate.structs import replace
from gate.text import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:  # the task flow's modules load only when a task is gated
    from typing import TextIO

    from gate.baseline import Baseline
    from gate.gitdiff import ChangeDiff
    from gate.waiting import ScanLog

log = logging.getLogger("gate")


def execute(raw: RawOptions, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Validate the options and run; a usage error still writes the outputs asked for."""
    out, err = safe(out or sys.stdout), safe(err or sys.stderr)  # closed or broken: a sink
    started = time.monotonic()
    try:
        raw, config_error = with_config_file(raw), None
    except UsageError as error:
        config_error = error
    text.use_secrets(raw_secrets(raw))  # every printer redacts them from now on
    github.begin(raw_secrets(raw), out)  # masks first: nothing may be printed before
    if config_error is None and (raw.show_config or raw.verbose > 0):
        print("\n".join(describe(raw)), file=out if raw.show_config else err)
        if raw.show_config:
            return 0  # nothing is validated or sent: the settings are only shown
    try:
        if config_error is not None:
            raise config_error
        raw = with_repository_tasks(raw, out)
        settings = checked_settings(raw)
    except GateError as error:  # a usage error, or the task list could not be read
        return usage_exit(raw, error, time.monotonic() - started, out, err)
    configure_logging(settings, err)
    return run_tasks(settings, out, err) if settings.tasks else run(settings, out, err)


NEEDS_PROJECT = (
    "--tasks-for-repo lists the tasks of a CodeArts project: set --console-project-id "
    "(the CodeArts project id, or a console URL holding /project/ID/)"
)


def checked_settings(raw: RawOptions) -> Settings:
    """The run's settings; for ``--check --tasks-for-repo``, those of a task still to be
    found (the check lists the tasks as one of its steps)."""
    if not (raw.check and flag_of(raw.tasks_for_repo, "--tasks-for-repo")):
        return build_settings(raw)
    settings = build_settings(replace(raw, task_id="tasks-for-repo"))
    if not settings.console_project_id:
        raise UsageError(NEEDS_PROJECT)
    return replace(settings, task_id="", check_finds_tasks=True)


def usage_exit(raw: RawOptions, error: GateError, duration: float, out: TextIO, err: TextIO) -> int:
    """Exit 2 for a usage error (or the error's own code), the outputs asked for written
    all the same."""
    origin = file_origin(raw, error.message)
    if origin:
        error.message += origin
    verdict = replace(error_verdict(error, raw.job_id), duration=duration)
    verdict = verdict.redacted(raw_secrets(raw))
    write_empty_defect_files(raw, verdict, err)
    return finish(verdict, outputs_of(raw), verbosity=-1 if raw.quiet else 0, out=out, err=err)


def run(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Reach a verdict (or an error verdict), write the outputs, return the exit code."""
    secrets = begin_run(settings, out, err)
    if settings.check:
        from gate.doctor import check  # noqa: PLC0415 - only for --check

        with interrupts_as_errors():
            return check(settings, out, on_secret=lambda secret: protect(secret, out, secrets))
    started = time.monotonic()
    if settings.change.note and settings.verbosity >= 0:
        print(f"codearts-gate: {settings.change.note}", file=err)
    verdict = task_verdict(settings, (out, err), secrets)
    verdict = with_defects(settings, verdict, out, err, secrets)
    verdict = with_comment(settings, verdict, out, err, started)
    return finish(verdict, settings.outputs, settings.verbosity, out, err)


def begin_run(settings: Settings, out: TextIO, err: TextIO) -> list[str]:
    """Warn about ``--insecure`` and mask every secret (the forge's token too, with
    ``--comment``); the run's secrets, a list that grows with those learnt on the way."""
    if settings.insecure:
        print("codearts-gate: warning: --insecure: TLS certificates are NOT verified", file=err)
    unmasked = [s for s in settings.secrets() if s not in text.run_secrets()]
    github.begin(unmasked, out)  # read from a pipe only now: mask before anything prints
    text.use_secrets([*text.run_secrets(), *unmasked])
    secrets = list(text.run_secrets())
    if settings.change.comment:  # the forge's token: masked before anything prints
        for token in forge_tokens(os.environ):
            protect(token, out, secrets)
    return secrets


def task_verdict(settings: Settings, streams: tuple[TextIO, TextIO], secrets: list[str]) -> Verdict:
    """The verdict of one task (or job, or saved report), CodeArts' own gate counted."""
    out, err = streams
    started, known = time.monotonic(), len(secrets)
    verdict = reach_verdict(settings, out, secrets, started)
    settings_now = with_learnt_token(settings, secrets[known:])
    verdict = with_codearts(settings_now, verdict, started, streams=(out, err), secrets=secrets)
    return replace(
        verdict,
        job_id=verdict.job_id or settings.job_id,
        duration=time.monotonic() - started,
        warn_on_error=settings.warn_on_error,
    ).redacted(tuple(secrets))


MAX_CONCURRENT_TASKS = 4
GITHUB_SARIF_RUNS = 20
"""Runs GitHub code scanning takes in one SARIF file."""


def run_tasks(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Gate several tasks at once (at most four at a time), each its own flow, its own
    defects fetched into its part of each per-defect file; one combined verdict, every
    task's result in the outputs."""
    secrets = begin_run(settings, out, err)
    started = time.monotonic()
    try:  # the step's defect files are written at the end: check them (and that no
        # other output names one of them) before any task starts
        if settings.defects.paths():
            preflight_paths({**settings.outputs.requested(), **settings.defects.paths()})
    except GateError as error:
        verdict = replace(error_verdict(error), duration=time.monotonic() - started)
        write_empty(settings.defects, verdict, err)
        return finish(
            verdict.redacted(tuple(secrets)), settings.outputs, settings.verbosity, out, err
        )
    import tempfile  # noqa: PLC0415 - only a step of several tasks spools its parts

    with tempfile.TemporaryDirectory(prefix="codearts-gate-", ignore_cleanup_errors=True) as spool:
        runs = tuple(
            task_run(task, len(settings.tasks), Path(spool, str(i)))
            for i, task in enumerate(settings.tasks)
        )
        tasks = gate_tasks(runs, out, err, secrets)
        verdict = replace(
            combine_tasks(tasks, time.monotonic() - started), warn_on_error=settings.warn_on_error
        )
        verdict = with_task_defects(settings, runs, verdict, err)
    verdict = with_comment(settings, verdict, out, err, started)
    return finish(verdict.redacted(tuple(secrets)), settings.outputs, settings.verbosity, out, err)


def task_run(task: TaskRun, count: int, spool: Path) -> TaskRun:
    """The task with its defects mapped under its folder and written to its own part
    files (``spool`` and the format's name), combined into the step's files at the end."""
    defects = task.settings.defects

    def part(path: str | None, name: str) -> str | None:
        return str(spool.with_suffix(f".{name}")) if path else None

    mine = replace(
        defects,
        sarif=part(defects.sarif, "sarif"),
        codequality=part(defects.codequality, "codequality"),
        junit_defects=part(defects.junit_defects, "junit-defects"),
        task=task.name,
        tasks=count,
        folder=task.path,
    )
    return replace(task, settings=replace(task.settings, defects=mine))


def gate_tasks(
    runs: tuple[TaskRun, ...], out: TextIO, err: TextIO, secrets: list[str]
) -> tuple[TaskVerdict, ...]:
    """Each task's verdict (its defects fetched when asked for, in its own deadline);
    a task whose flow did not end is no verdict."""
    results: dict[int, TaskVerdict] = {}
    slots = threading.Semaphore(MAX_CONCURRENT_TASKS)

    def work(index: int, task: TaskRun) -> None:
        with slots:
            verdict = task_verdict(task.settings, (out, err), secrets)
            verdict = with_defects(task.settings, verdict, out, err, secrets)
            results[index] = TaskVerdict(task.name, task.settings.task_id, task.path, verdict)

    threads = [
        threading.Thread(target=work, args=(i, t), name=f"task-{t.name}", daemon=True)
        for i, t in enumerate(runs)
    ]
    stopped = wait_for_all(threads)
    return tuple(results.get(i) or unfinished(task, stopped) for i, task in enumerate(runs))


def with_task_defects(
    settings: Settings, runs: tuple[TaskRun, ...], verdict: Verdict, err: TextIO
) -> Verdict:
    """The step's per-defect files written from the tasks' parts, when asked for; the
    files that could not be written (the tasks' parts too) in the verdict's exit code."""
    if not settings.defects.paths():
        return verdict
    from gate.defect_run import combine_parts  # noqa: PLC0415 - only when defects are asked for

    if settings.defects.sarif and len(runs) > GITHUB_SARIF_RUNS and settings.verbosity >= 0:
        print(
            f"codearts-gate: warning: --sarif holds {len(runs)} runs, one per task: GitHub code "
            f"scanning takes at most {GITHUB_SARIF_RUNS} runs per file",
            file=err,
        )

    reasons = [
        f"no verdict: {t.verdict.error.message}" if t.verdict.error else None for t in verdict.tasks
    ]
    lost = combine_parts(
        settings.defects,
        [(run.settings.defects, why) for run, why in zip(runs, reasons, strict=True)],
        err,
    )
    parts_lost = [name for t in verdict.tasks for name in t.verdict.unwritten]
    unwritten = tuple(dict.fromkeys((*parts_lost, *(f"--{name}" for name in lost))))
    return replace(verdict, unwritten=unwritten)


def wait_for_all(threads: list[threading.Thread]) -> GateError | None:
    """Start the threads and wait for them; a signal ends the wait (the daemon threads
    end with the process) and is returned."""
    for thread in threads:
        thread.start()
    try:
        with interrupts_as_errors():
            for thread in threads:
                thread.join()
    except Interrupted as error:
        return error
    return None


def unfinished(task: TaskRun, stopped: GateError | None) -> TaskVerdict:
    """The verdict of a task whose flow did not end: stopped by a signal, or broken."""
    error = stopped or GateError(f"the gate's flow for task {task.name} ended without a verdict")
    verdict = error_verdict(error, task.settings.job_id)
    return TaskVerdict(task.name, task.settings.task_id, task.path, verdict)


FORGE_TOKENS = ("GITHUB_TOKEN", "CODEARTS_GITLAB_TOKEN")


def forge_tokens(env: Mapping[str, str]) -> list[str]:
    """The forge tokens ``--comment`` may send (placeholders too short to be one left out:
    redacting them would garble every message)."""
    return [token for name in FORGE_TOKENS if len(token := env.get(name, "")) >= MIN_SECRET]


def with_comment(
    settings: Settings, verdict: Verdict, out: TextIO, err: TextIO, started: float
) -> Verdict:
    """Write or update the pull/merge request comment when asked; the outcome stands."""
    if not settings.change.comment:
        return verdict
    from gate.comment import post_comment  # noqa: PLC0415 - only with --comment

    budget = settings.timeout - (time.monotonic() - started)
    with interrupts_as_errors():
        result = post_comment(settings, verdict, budget, on_secret=lambda _token: None)
    if result.status in ("failed", "skipped") and settings.verbosity >= 0:
        print(f"codearts-gate: warning: comment {result.status}: {result.detail}", file=err)
    return replace(verdict, comment=result)


def with_defects(
    settings: Settings, verdict: Verdict, out: TextIO, err: TextIO, secrets: list[str]
) -> Verdict:
    """Fetch the defects and write the per-defect files, when asked; the outcome stands,
    unless suppressions make the defect list the judged counts."""
    if not settings.defects.requested():
        return verdict
    if verdict.change is not None and verdict.defects:  # fetched already to judge the change
        return told_suppressions(settings, verdict, out, err, secrets)
    from gate.defect_run import attach_defects  # noqa: PLC0415 - only when defects are asked for

    ledger = None
    if settings.suppressions.entries:
        from gate.suppressions import Ledger  # noqa: PLC0415 - only with suppressions

        ledger = Ledger(settings.suppressions.entries, secrets=tuple(secrets))
    with interrupts_as_errors():
        verdict = attach_defects(
            settings,
            verdict,
            out,
            err,
            secrets,
            on_secret=lambda s: protect(s, out, secrets),
            ledger=ledger,
        )
    if ledger is None:
        return verdict
    from gate.suppression_run import settle  # noqa: PLC0415 - only with suppressions

    return settle(settings, verdict, ledger, err, lambda s: protect(s, out, secrets))


def told_suppressions(
    settings: Settings, verdict: Verdict, out: TextIO, err: TextIO, secrets: list[str]
) -> Verdict:
    """In change scope, the suppressions were applied with the change's defects: their
    warnings and the sync are what is left to do."""
    if verdict.suppression is None:
        return verdict
    from gate.suppression_run import tell  # noqa: PLC0415 - only with suppressions

    with interrupts_as_errors():
        return tell(settings, verdict, err, lambda s: protect(s, out, secrets))


def with_repository_tasks(raw: RawOptions, out: TextIO) -> RawOptions:
    """With ``--tasks-for-repo``, the task ids of the CodeArts project whose repository is
    the CI's (``GET /v2/{project_id}/tasks``); ``raw`` as it is otherwise."""
    if not flag_of(raw.tasks_for_repo, "--tasks-for-repo/CODEARTS_TASKS_FOR_REPO"):
        return raw
    if raw.task_id or raw.tasks:
        raise UsageError("--tasks-for-repo finds the tasks itself: drop --task-id and [[tasks]]")
    if raw.check:  # the check lists the tasks itself, as one of its steps
        return raw
    probe = build_settings(replace(raw, task_id="tasks-for-repo", run=None, wait=None, policy=None))
    if not probe.console_project_id:
        raise UsageError(NEEDS_PROJECT)
    from gate.api.tasklist import find_repository_tasks  # noqa: PLC0415 - requests is heavy

    learnt: list[str] = []
    found = find_repository_tasks(
        probe,
        probe.console_project_id,
        os.environ,
        on_secret=lambda secret: protect(secret, out, learnt),
    )
    log.warning("tasks of this repository: %s", ", ".join(t.task_id for t in found))
    sources = {**raw.sources, "task_id": "found by --tasks-for-repo"}
    return replace(raw, task_id=",".join(t.task_id for t in found), sources=sources)


def with_learnt_token(settings: Settings, learnt: list[str]) -> Settings:
    """With IAM password credentials, the settings sending the token the run's login
    returned (one login per run), once there is one."""
    if not learnt or not isinstance(settings.credentials, IamPasswordCredentials):
        return settings
    return replace(settings, credentials=TokenCredentials(Secret(learnt[-1])))


def with_codearts(
    settings: Settings,
    verdict: Verdict,
    started: float,
    *,
    streams: tuple[TextIO, TextIO],
    secrets: list[str],
) -> Verdict:
    """CodeArts' own gate read (in what is left of ``--timeout``) and counted as
    ``--policy`` says; with ``local``, a failure to read it costs one warning only. Not
    when no report was had (nothing sent, or the service failed): that stays no verdict."""
    if not settings.reads_codearts_gate or (verdict.error is not None and not verdict.checks):
        return verdict
    out, err = streams
    from gate.api.summary import read_codearts_gate  # noqa: PLC0415 - requests is heavy

    project = settings.console_project_id or project_in_url(verdict.report_url)
    try:
        with interrupts_as_errors():
            gate = read_codearts_gate(
                settings,
                settings.timeout - (time.monotonic() - started),
                project,
                latest_only=not settings.gates_latest_scan,
                on_secret=lambda secret: protect(secret, out, secrets),
            )
    except Interrupted as error:  # stopped: no verdict (a known failure stays one)
        failed = verdict.outcome is Outcome.FAILED
        return replace(
            verdict,
            outcome=Outcome.FAILED if failed else Outcome.ERROR,
            error=ErrorInfo.from_error(error),
        )
    if gate.problem and not gate.decides:
        message = one_line(f"CodeArts' own gate is unknown: {gate.problem}", 1000)
        print(f"codearts-gate: warning: {message}", file=err)
    return with_codearts_gate(verdict, gate)


def write_empty_defect_files(raw: RawOptions, verdict: Verdict, err: TextIO) -> None:
    """On a usage error, the per-defect files asked for are still written, empty but valid."""
    write_empty(defect_outputs_of(raw), verdict, err)


def write_empty(config: DefectSettings, verdict: Verdict, err: TextIO) -> None:
    """The per-defect files asked for, empty but valid, saying why the verdict has none."""
    if config.paths():
        from gate.defect_run import write_empty as write_empty_files  # noqa: PLC0415 - only when asked for

        reason = verdict.error.message if verdict.error else None
        write_empty_files(config, reason and f"no verdict: {reason}", err)


def reach_verdict(
    settings: Settings, out: TextIO, secrets: list[str], started: float | None = None
) -> Verdict:
    """Check the outputs (and the change's diff), get the report, judge it; any
    ``GateError`` becomes the verdict."""
    scan = scan_log(settings) if settings.task_flow else None
    try:
        with interrupts_as_errors():
            preflight_paths({**settings.outputs.requested(), **settings.defects.paths()})
            diff = read_change(settings)  # before anything is sent: a usage error sends nothing
            report = load_report(settings, out, secrets, scan)
            verdict = judge(settings, report, diff, out, secrets, scan=scan, started=started)
    except GateError as error:
        verdict = error_verdict(said_for(settings, error), settings.job_id)
    return with_identity(with_scan(verdict, scan), settings)


def read_change(settings: Settings) -> ChangeDiff | None:
    """The change's diff from git, when the thresholds judge the change."""
    change = settings.change
    if not change.judged or change.target is None:
        return None
    from gate.gitdiff import Git, change_diff  # noqa: PLC0415 - only for --scope change

    git = Git(Path.cwd(), min(GIT_SECONDS, settings.timeout), change.forge)
    diff = change_diff(git, change.target, change.head)
    log.info("change: %s..%s, %d lines", diff.base[:12], diff.head[:12], diff.lines.line_count())
    return diff


GIT_SECONDS = 120.0
"""The longest the gate's git calls may take, each (within --timeout)."""


def judge(
    settings: Settings,
    report: Report,
    diff: ChangeDiff | None,
    out: TextIO,
    secrets: list[str],
    *,
    scan: ScanLog | None,
    started: float | None,
) -> Verdict:
    """Judge the report, against the baseline when one is asked for; in change scope, with
    the counts of the change's defects. A baseline that cannot be had is no verdict (or,
    with ``--baseline-optional``, said and left out)."""
    elapsed = 0.0 if started is None else time.monotonic() - started
    budget = settings.timeout - elapsed
    baseline, missing = settled_baseline(settings, scan, out, secrets, budget)
    if diff is None:
        verdict = evaluate(report, settings.policy, baseline=baseline)
        note = settings.change.note
        verdict = replace(verdict, change=ChangeView(False, note=note)) if note else verdict
    else:
        from gate.defect_run import judge_change  # noqa: PLC0415 - only for --scope change

        verdict = judge_change(
            settings,
            report,
            diff,
            out,
            secrets,
            on_secret=lambda secret: protect(secret, out, secrets),
            budget=settings.timeout - (0.0 if started is None else time.monotonic() - started),
            baseline=baseline,
        )
    if missing is None:
        return verdict
    return without_baseline(verdict, missing, optional=settings.baseline_optional)


def settled_baseline(
    settings: Settings, scan: ScanLog | None, out: TextIO, secrets: list[str], budget: float
) -> tuple[Baseline | None, BaselineError | None]:
    """The baseline asked for, or why it cannot be had (neither without ``--baseline``)."""
    if settings.baseline is None:
        return None, None
    try:
        return load_baseline(settings, scan, out, secrets, budget), None
    except BaselineError as error:
        return None, error


def with_identity(verdict: Verdict, settings: Settings) -> Verdict:
    """The verdict naming the gated scan's branch and the commit under test."""
    scan = verdict.scan or ScanInfo(
        settings.task_id,
        "file" if settings.report_file else "job",
        job_id=verdict.job_id or settings.job_id,
    )
    change = settings.change
    identity = replace(
        scan, branch=settings.branch, commit=change.commit, files_url=change.blob_url
    )
    return replace(verdict, scan=identity)


def said_for(settings: Settings, error: GateError) -> GateError:
    """The error in the words of this run's setup: a refused token is "expired or wrong"."""
    if isinstance(settings.credentials, TokenCredentials):
        from gate.service_errors import token_refused  # noqa: PLC0415 - only on an error

        return token_refused(error)
    return error


def load_baseline(
    settings: Settings,
    scan: ScanLog | None,
    out: TextIO,
    secrets: list[str],
    budget: float | None = None,
) -> Baseline:
    """The baseline asked for: a previous run's ``--json`` file, or the service's (within
    ``budget``, what is left of ``--timeout``)."""
    spec = settings.baseline
    assert spec is not None
    if spec.kind == "file":
        try:
            data = read_bytes_nowait(spec.value)
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or "not a readable path"
            raise BaselineError(
                f"--baseline file:{one_line(spec.value, 200)} cannot be read: {reason}"
            ) from None
        from gate.baseline import baseline_of_json  # noqa: PLC0415 - only with --baseline

        return baseline_of_json(data, spec.value)
    from gate.api.history import service_baseline  # noqa: PLC0415 - requests is heavy

    log.info("reading the baseline (%s)", spec.describe())
    return service_baseline(
        settings, spec, scan, on_secret=lambda secret: protect(secret, out, secrets), budget=budget
    )


def scan_log(settings: Settings) -> ScanLog:
    """The record of the task's scan that this run gates."""
    from gate.waiting import ScanLog  # noqa: PLC0415 - only the task flow waits

    return ScanLog(settings.task_id, source_of(settings))


def source_of(settings: Settings) -> str:
    """How the gated scan is found: run, waited for, or the task's latest report."""
    return "run" if settings.run else "waited" if settings.wait else "latest"


def with_scan(verdict: Verdict, scan: ScanLog | None) -> Verdict:
    """The verdict naming the scan that was gated (its job id, how long it took)."""
    if scan is None:
        return verdict
    return replace(verdict, job_id=scan.job_id, scan=scan.info(time.monotonic()))


def load_report(
    settings: Settings, out: TextIO, secrets: list[str], scan: ScanLog | None = None
) -> Report:
    """The report from the saved file, or from the service (HTTP code imported only then)."""
    if scan is not None:
        return load_task_report(settings, out, secrets, scan)
    if settings.report_file:
        return report_of_file(settings.report_file)
    from gate.api.refresh import fetch_report  # noqa: PLC0415 - requests is heavy; offline runs skip it

    with github.group(f"CodeArts Check: refreshing job {settings.job_id}", out):
        log.info("refreshing job %s at %s", settings.job_id, settings.endpoint)
        return fetch_report(settings, on_secret=lambda secret: protect(secret, out, secrets))


def load_task_report(settings: Settings, out: TextIO, secrets: list[str], scan: ScanLog) -> Report:
    """Run the task or join its scan, wait with a heartbeat, and refresh the gated report."""
    from gate.api.scan import Tools, gate_task  # noqa: PLC0415 - requests is heavy
    from gate.heartbeat import Heartbeat  # noqa: PLC0415 - only while waiting for a scan

    err = log_stream()
    beat = Heartbeat(err, settings.task_id, secrets, live=err.isatty())
    tools = Tools(tick=beat.tick, on_secret=lambda secret: protect(secret, out, secrets))
    tools.on_estimate = beat.use_estimate
    if settings.verbosity >= 0:
        tools.heartbeat = beat
    title = f"CodeArts Check: {'running' if settings.run else 'gating'} task {settings.task_id}"
    with github.group(title, out):
        try:
            return gate_task(settings, scan, tools)
        finally:
            beat.close()


def log_stream() -> TextIO:
    """Where the log goes (stderr unless a caller gave another stream)."""
    for handler in log.handlers:
        if isinstance(handler, logging.StreamHandler):
            return safe(handler.stream)
    return safe(sys.stderr)


def protect(secret: str, out: TextIO, secrets: list[str]) -> None:
    """Hide a secret learnt during the run (an IAM token) like the configured ones."""
    secrets.append(secret)
    text.add_secret(secret)
    github.begin([secret], out)
    for handler in log.handlers:
        for redactor in handler.filters:
            if isinstance(redactor, RedactSecrets):
                redactor.secrets += (secret,)


def read_report_file(path: str) -> bytes:
    """The saved answer's bytes; ``-`` reads standard input."""
    try:
        return sys.stdin.buffer.read() if path == "-" else read_bytes_nowait(path)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or "not a readable path"
        raise UsageError(f"cannot read --report-file {path!r}: {reason}") from None


def report_of_file(path: str) -> Report:
    """The report in a saved answer. A file that holds no report (empty, not JSON, not the
    documented shape) is a usage error naming it: retrying would not help."""
    name = "--report-file - (standard input)" if path == "-" else f"--report-file {path!r}"
    data = read_report_file(path)
    if not data.strip():
        raise UsageError(f"{name} is empty: it holds no report")
    try:
        return report_from_payload(decode_json(data), allow_bare=True, source=name)
    except ReportError as error:
        raise UsageError(f"{name} holds no report: {error.message}") from None


def finish(verdict: Verdict, outputs: OutputPaths, verbosity: int, out: TextIO, err: TextIO) -> int:
    """Write every output asked for, print the result, return the exit code.

    When an output cannot be written, the others are written again so that every output,
    the console and the exit code tell the same story; the problem is told once."""
    told = verdict.error is not None and verdict.error.kind == "output"  # preflight said it
    written, unwritten = write_outputs(verdict, outputs.requested(), err, quiet=told)
    if unwritten:
        lost = (*verdict.unwritten, *(f"--{name}" for name in unwritten))  # defect files first
        verdict = replace(verdict, unwritten=lost)
        write_outputs(verdict, written, err, quiet=True)
    print_result(verdict, verbosity, out, err)
    github.publish(verdict, outputs, out, exit_code=int(verdict.exit_code))
    return int(verdict.exit_code)


def write_outputs(
    verdict: Verdict, paths: dict[str, str], err: TextIO, *, quiet: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """Write each output; the ones written and the ones that could not be."""
    written, unwritten = {}, {}
    for name, path in paths.items():
        try:
            write_atomic(path, render(name, verdict), kind=name)
            written[name] = path
        except (OSError, ValueError) as error:
            unwritten[name] = path
            reason = getattr(error, "strerror", None) or str(error)
            if not quiet:
                message = one_line(f"cannot write --{name} {path!r}: {reason}", 1000)
                print(f"codearts-gate: error: {message}", file=err)
    return written, unwritten


def print_result(verdict: Verdict, verbosity: int, out: TextIO, err: TextIO) -> None:
    """The table and verdict on stdout; the error, once, on stderr."""
    if verdict.error is not None:
        prefix = "warning" if verdict.warned else "error"
        print(f"codearts-gate: {prefix}: {one_line(verdict.error.message, 1000)}", file=err)
    if verdict.warned:
        print(
            "codearts-gate: warning: no verdict was reached; exiting 0 because of --on-error warn",
            file=err,
        )
    if verbosity >= 0:
        out.write(render("console", verdict))
    else:  # -q: the verdict line, whatever happened
        print(verdict_line(verdict), file=out)


class RedactSecrets(logging.Filter):
    """Replace every secret value in a log record's final text with ``***``."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = text.neutralize_commands(text.redact(record.getMessage(), self.secrets))
        record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings, err: TextIO) -> None:
    """``-v`` shows progress, ``-vv`` details; secrets are redacted from every line."""
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("codearts-gate: %(message)s"))
    handler.addFilter(RedactSecrets(settings.secrets()))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(log_level(settings.verbosity))
    log.debug("codearts-gate %s", __version__)


def log_level(verbosity: int) -> int:
    """``-q`` (-1): errors only; default: warnings; ``-v``: progress; ``-vv`` and more: debug."""
    if verbosity < 0:
        return logging.ERROR
    return (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]


@contextlib.contextmanager
def interrupts_as_errors() -> Iterator[None]:
    """SIGTERM and SIGINT end the run as an error verdict, so the outputs are still written;
    it exits 143 or 130 (``ExitCode.TERMINATED``, ``INTERRUPTED``), as shells do."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals land in the main thread only: a task's own thread has no handler
        return
    fired: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not fired:  # once: a second signal must not interrupt writing the outputs
            fired.append(signum)
            name = signal.Signals(signum).name
            raise Interrupted(f"stopped by {name} before a verdict", signum=signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
