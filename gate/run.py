"""One run, end to end: settings -> report -> verdict -> outputs -> exit code.

This is the one place that turns a ``GateError`` into an outcome; every path writes the
outputs that were asked for before the exit.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TextIO

from gate import __version__, github
from gate.core import Verdict, error_verdict, evaluate
from gate.errors import ExitCode, GateError, Interrupted, UsageError
from gate.formats import render
from gate.formats.console import verdict_line
from gate.outputs import preflight, preflight_paths, write_atomic
from gate.report import Report, decode_json, report_from_payload
from gate.settings import (
    OutputPaths,
    RawOptions,
    Settings,
    build_settings,
    defect_outputs_of,
    outputs_of,
    raw_secrets,
)
from gate.text import one_line, redact

log = logging.getLogger("gate")


def execute(raw: RawOptions, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Validate the options and run; a usage error still writes the outputs asked for."""
    out, err = out or sys.stdout, err or sys.stderr
    started = time.monotonic()
    github.begin(raw_secrets(raw), out)  # masks first: nothing may be printed before
    try:
        settings = build_settings(raw)
    except UsageError as error:
        verdict = replace(error_verdict(error, raw.job_id), duration=time.monotonic() - started)
        verdict = verdict.redacted(raw_secrets(raw))
        write_empty_defect_files(raw, verdict, err)
        return finish(verdict, outputs_of(raw), verbosity=-1 if raw.quiet else 0, out=out, err=err)
    configure_logging(settings, err)
    return run(settings, out, err)


def run(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Reach a verdict (or an error verdict), write the outputs, return the exit code."""
    if settings.insecure:
        print("codearts-gate: warning: --insecure: TLS certificates are NOT verified", file=err)
    if settings.check:
        from gate.doctor import check  # noqa: PLC0415 - only for --check

        with interrupts_as_errors():
            return check(settings, out)
    started = time.monotonic()
    secrets = list(settings.secrets())  # grows with secrets learnt on the way
    verdict = reach_verdict(settings, out, secrets)
    verdict = replace(
        verdict,
        job_id=settings.job_id,
        duration=time.monotonic() - started,
        warn_on_error=settings.warn_on_error,
    ).redacted(tuple(secrets))
    verdict = with_defects(settings, verdict, out, err, secrets)
    return finish(verdict, settings.outputs, settings.verbosity, out, err)


def with_defects(
    settings: Settings, verdict: Verdict, out: TextIO, err: TextIO, secrets: list[str]
) -> Verdict:
    """Fetch the defects and write the per-defect files, when asked; the outcome stands."""
    if not settings.defects.requested():
        return verdict
    from gate.defect_run import attach_defects  # noqa: PLC0415 - only when defects are asked for

    with interrupts_as_errors():
        return attach_defects(
            settings, verdict, out, err, secrets, on_secret=lambda s: protect(s, out, secrets)
        )


def write_empty_defect_files(raw: RawOptions, verdict: Verdict, err: TextIO) -> None:
    """On a usage error, the per-defect files asked for are still written, empty but valid."""
    config = defect_outputs_of(raw)
    if config.paths():
        from gate.defect_run import write_empty  # noqa: PLC0415 - only when asked for

        reason = verdict.error.message if verdict.error else None
        write_empty(config, reason and f"no verdict: {reason}", err)


def reach_verdict(settings: Settings, out: TextIO, secrets: list[str]) -> Verdict:
    """Check the outputs, get the report, judge it; any ``GateError`` becomes the verdict."""
    try:
        with interrupts_as_errors():
            preflight(settings.outputs)
            preflight_paths(settings.defects.paths())
            return evaluate(load_report(settings, out, secrets), settings.policy)
    except GateError as error:
        return error_verdict(error, settings.job_id)


def load_report(settings: Settings, out: TextIO, secrets: list[str]) -> Report:
    """The report from the saved file, or from the service (HTTP code imported only then)."""
    if settings.report_file:
        return report_from_payload(
            decode_json(read_report_file(settings.report_file)), allow_bare=True
        )
    from gate.api.refresh import fetch_report  # noqa: PLC0415 - requests is heavy; offline runs skip it

    with github.group(f"CodeArts Check: refreshing job {settings.job_id}", out):
        log.info("refreshing job %s at %s", settings.job_id, settings.endpoint)
        return fetch_report(settings, on_secret=lambda secret: protect(secret, out, secrets))


def protect(secret: str, out: TextIO, secrets: list[str]) -> None:
    """Hide a secret learnt during the run (an IAM token) like the configured ones."""
    secrets.append(secret)
    github.begin([secret], out)
    for handler in log.handlers:
        for redactor in handler.filters:
            if isinstance(redactor, RedactSecrets):
                redactor.secrets += (secret,)


def read_report_file(path: str) -> bytes:
    """The saved answer's bytes; ``-`` reads standard input."""
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read --report-file {path!r}: {error.strerror}") from None


def finish(verdict: Verdict, outputs: OutputPaths, verbosity: int, out: TextIO, err: TextIO) -> int:
    """Write every output asked for, print the result, return the exit code."""
    code = verdict.exit_code
    for name, path in outputs.requested().items():
        try:
            write_atomic(path, render(name, verdict))
        except OSError as error:
            print(
                f"codearts-gate: error: cannot write --{name} {path!r}: {error.strerror}", file=err
            )
            if code is ExitCode.PASSED:  # a pass whose report is lost must not look green
                code = ExitCode.USAGE
    print_result(verdict, verbosity, out, err)
    github.publish(verdict, outputs, out, exit_code=int(code))
    return int(code)


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
    elif verdict.error is None:
        print(verdict_line(verdict), file=out)


class RedactSecrets(logging.Filter):
    """Replace every secret value in a log record's final text with ``***``."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self.secrets), None
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
    """SIGTERM and SIGINT end the run as an error verdict, so the outputs are still written."""
    fired: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not fired:  # once: a second signal must not interrupt writing the outputs
            fired.append(signum)
            raise Interrupted(f"stopped by {signal.Signals(signum).name} before a verdict")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
