"""The defects behind the counts, fetched after the verdict and streamed into the files.

Called by the edge (``gate.run``) once the counts are judged. Whatever happens here, the
verdict on the counts stands: a failure to fetch leaves the per-defect files empty but
valid, and the summary, the annotations and stderr say the defects are missing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from gate import github
from gate.core import Outcome, Verdict
from gate.defects import DefectDigest, DefectReader, DigestBuilder, FetchInfo
from gate.errors import GateError
from gate.formats import DefectWriter, defect_writer
from gate.outputs import open_atomic, write_atomic
from gate.paths import PathMapper
from gate.settings import DefectSettings, Settings
from gate.text import one_line, redact


def skip_reason(settings: Settings, verdict: Verdict) -> str | None:
    """Why the defects cannot be fetched in this run, or None."""
    if verdict.outcome is Outcome.ERROR:
        return "no verdict on the counts, so the defects were not fetched"
    if settings.report_file:
        return "the report was judged from --report-file: no service to fetch defects from"
    if not settings.task_id:
        return "no task id: set --task-id (CODEARTS_TASK_ID) to fetch the defects"
    return None


def attach_defects(
    settings: Settings,
    verdict: Verdict,
    out: TextIO,
    err: TextIO,
    secrets: list[str],
    *,
    on_secret: Callable[[str], None],
) -> Verdict:
    """The verdict with its defect digest; the per-defect files written either way."""
    digest, failure = fetched_digest(settings, verdict, out, secrets, on_secret)
    lost = write_empty(settings.defects, digest.error, err) if digest.error else []
    if not (isinstance(failure, OSError) and lost):  # else write_empty told of it, once
        warn_if_short(digest, settings.verbosity, err)
    unwritten = (*verdict.unwritten, *(f"--{name}" for name in lost))  # in the exit code
    return replace(verdict, defects=digest.redacted(tuple(secrets)), unwritten=unwritten)


def fetched_digest(
    settings: Settings,
    verdict: Verdict,
    out: TextIO,
    secrets: list[str],
    on_secret: Callable[[str], None],
) -> tuple[DefectDigest, BaseException | None]:
    """The digest of the defects, their files written; or one saying why they are missing,
    and the error that stopped the fetch."""
    reason = skip_reason(settings, verdict)
    failure: BaseException | None = None
    if reason is None:
        title = f"CodeArts Check: fetching the defects of task {settings.task_id}"
        try:
            with github.group(title, out):
                budget = settings.timeout - verdict.duration  # --timeout bounds the whole run
                reported = reported_count(verdict, settings.defects.severities)
                return fetch_and_write(settings, secrets, on_secret, budget, reported), None
        except (GateError, OSError) as error:
            reason = redact(f"the defects could not be fetched: {describe(error)}", secrets)
            failure = error
        except Exception as error:  # a bug here must not cost the outputs of the verdict
            reason = f"the defects could not be read: internal error ({type(error).__name__})"
            failure = error
    return DefectDigest(settings.defects.severities, error=reason), failure


def describe(error: BaseException) -> str:
    """A one-line account of what went wrong."""
    if isinstance(error, GateError):
        return f"{error.kind}: {one_line(str(error), 1000)}"
    return f"cannot write a defect file: {getattr(error, 'strerror', None) or error}"


def reported_count(verdict: Verdict, severities: tuple[str, ...]) -> int | None:
    """What the judged report counts of ``severities`` (None when one is unreadable)."""
    counts = [verdict.counts.get(severity) for severity in severities]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def fetch_and_write(
    settings: Settings,
    secrets: list[str],
    on_secret: Callable[[str], None],
    budget: float,
    reported: int | None = None,
) -> DefectDigest:
    """Page through the defects once, each handed to every writer and the digest."""
    from gate.api.defects import fetch_defects  # noqa: PLC0415 - requests only when needed

    config = settings.defects
    reader = DefectReader(PathMapper(Path.cwd(), config.path_prefix), secrets)
    builder = DigestBuilder(config.severities)
    with ExitStack() as stack:
        writers = {
            name: defect_writer(name, stack.enter_context(open_atomic(path, kind=name)))
            for name, path in config.paths().items()
        }

        adders = [builder.add, *(writer.add for writer in writers.values())]

        def consume(row: object) -> None:
            defect = reader.read(row)  # type: ignore[arg-type]
            for add in adders:
                add(defect)

        def learn(secret: str) -> None:  # an IAM token: masked, and redacted from defects
            on_secret(secret)
            reader.learn(secret)

        result = fetch_defects(settings, config.severities, consume, on_secret=learn, budget=budget)
        digest = builder.digest(
            result.total,
            stopped=result.stop_reason,
            capped=result.capped,
            expected=result.expected,
            reported=reported,
            notes=result.notes,
        )
        info = FetchInfo(result.fetched, result.total, incomplete=incompleteness(digest))
        for writer in writers.values():
            writer.finish(info)
    omitted = getattr(writers.get("sarif"), "omitted", 0)
    unplaced = getattr(writers.get("codequality"), "omitted", 0)
    return replace(digest, sarif_omitted=omitted, codequality_omitted=unplaced)


def incompleteness(digest: DefectDigest) -> str | None:
    """Why the defects fetched are not all the service counted, or doubtful; None if not."""
    parts = []
    if digest.incomplete:
        why = f" ({digest.stopped})" if digest.stopped else ""
        parts.append(f"only {digest.shortfall()} were fetched{why}")
    if digest.notes:
        parts.append(digest.doubts())
    return "; ".join(parts) or None


def empty_text(name: str, reason: str | None) -> str:
    """The empty-but-valid document of a per-defect format, saying why when known."""
    buffer = io.StringIO()
    writer: DefectWriter = defect_writer(name, buffer)
    writer.finish(FetchInfo(error=reason))
    return buffer.getvalue()


def write_empty(config: DefectSettings, reason: str | None, err: TextIO) -> list[str]:
    """Write every per-defect file asked for, empty but valid; the names of those that
    could not be written (each told of on ``err``)."""
    lost = []
    for name, path in config.paths().items():
        try:
            write_atomic(path, empty_text(name, reason), kind=name)
        except OSError as error:
            lost.append(name)
            message = one_line(f"cannot write --{name} {path!r}: {error.strerror}", 1000)
            print(f"codearts-gate: error: {message}", file=err)
    return lost


def warn_if_short(digest: DefectDigest, verbosity: int, err: TextIO) -> None:
    """Say on stderr when defects are missing, or fewer came than the service counted."""
    if verbosity < 0:
        return
    if digest.error:
        print(f"codearts-gate: warning: {one_line(digest.error, 1000)}", file=err)
    elif message := incompleteness(digest):
        print(f"codearts-gate: warning: {one_line(message, 1000)}", file=err)
