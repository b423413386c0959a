"""The defects behind the counts, fetched after the verdict and streamed into the files.

Called by the edge (``gate.run``) once the counts are judged. Whatever happens here, the
verdict on the counts stands: a failure to fetch leaves the per-defect files empty but
valid, and the summary, the annotations and stderr say the defects are missing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gate import github
from gate.baseline import Baseline
from gate.core import (
    ChangeCounts,
    ChangeView,
    Outcome,
    Verdict,
    evaluate,
    with_change_suppressions,
)
from gate.defects import SEVERITIES, Defect, DefectDigest, DefectReader, DigestBuilder, FetchInfo
from gate.errors import GateError, OutputError
from gate.filter.diff import ChangedLines
from gate.formats import combine_defect_parts, defect_writer
from gate.gitdiff import ChangeDiff
from gate.outputs import open_atomic, write_atomic
from gate.paths import PathMapper
from gate.report import Report
from gate.settings import DefectSettings, Settings
from gate.structs import replace
from gate.suppressions import Ledger, counts_without_suppressed
from gate.text import one_line, redact

if TYPE_CHECKING:  # a protocol: gate.formats defines it for the type checker only
    from gate.formats import DefectWriter


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
    ledger: Ledger | None = None,
) -> Verdict:
    """The verdict with its defect digest; the per-defect files written either way.
    ``ledger`` marks each defect a ``[[suppress]]`` entry names."""
    digest, failure = fetched_digest(settings, verdict, out, secrets, on_secret, ledger=ledger)
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
    *,
    ledger: Ledger | None = None,
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
                extra = new_severities(settings, verdict)
                digests = fetch_digests(
                    settings,
                    secrets,
                    on_secret,
                    budget,
                    extra=extra,
                    counts=verdict.counts,
                    ledger=ledger,
                )
                return digests[0], None
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


def reported_count(counts: Mapping[str, int], severities: tuple[str, ...]) -> int | None:
    """What the judged report counts of ``severities`` (None when one is unreadable)."""
    values = [counts.get(severity) for severity in severities]
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def judged_severities(settings: Settings) -> tuple[str, ...]:
    """The severities whose defects a change-scope threshold counts (``new``: all)."""
    metrics = {threshold.metric for threshold in settings.policy.thresholds}
    return SEVERITIES if "new" in metrics else tuple(s for s in SEVERITIES if s in metrics)


def change_sink(
    changed: ChangedLines | None,
    severities: tuple[str, ...],
    suppressed: dict[str, int] | None = None,
) -> tuple[DigestBuilder | None, Callable[[Defect], None] | None]:
    """The digest of the defects on the change's lines, and the sink that feeds it; the
    suppressed ones among them also counted per severity in ``suppressed``."""
    if changed is None:
        return None, None
    builder = DigestBuilder(severities, keep=CHANGE_KEPT)
    contains = changed.contains

    def add(defect: Defect) -> None:
        if contains(defect.path, defect.line):
            builder.add(defect)
            if suppressed is not None and defect.suppressed is not None:
                suppressed[defect.severity] = suppressed.get(defect.severity, 0) + 1

    return builder, add


def fetch_digests(
    settings: Settings,
    secrets: list[str],
    on_secret: Callable[[str], None],
    budget: float,
    *,
    changed: ChangedLines | None = None,
    extra: tuple[str, ...] = (),
    counts: Mapping[str, int] | None = None,
    ledger: Ledger | None = None,
    change_suppressed: dict[str, int] | None = None,
) -> tuple[DefectDigest, DefectDigest | None]:
    """Page through the defects once, each handed to the digest, the writers (those of
    the severities asked for) and, with ``changed``, the digest of the defects on the
    change's lines. ``extra`` severities are fetched for the digest only; ``counts``, the
    report's, are compared with what was fetched (completeness); ``ledger`` marks each
    defect a ``[[suppress]]`` entry names (the marked ones on the change's lines are
    counted per severity into ``change_suppressed``)."""
    from gate.api.defects import fetch_defects  # noqa: PLC0415 - requests only when needed

    config = settings.defects
    reader = DefectReader(PathMapper(Path.cwd(), config.path_prefix, config.folder), secrets)
    judged = judged_severities(settings) if changed is not None else ()
    fetched = tuple(s for s in SEVERITIES if s in {*config.severities, *judged, *extra})
    builder = DigestBuilder(fetched)
    wanted = frozenset(config.severities)
    in_change, on_change = change_sink(changed, judged, change_suppressed)
    with ExitStack() as stack:
        writers = {
            name: defect_writer(
                name, stack.enter_context(open_atomic(path, kind=name)), config.task, config.tasks
            )
            for name, path in config.paths().items()
        }
        adders = [writer.add for writer in writers.values()]

        mark = ledger.mark if ledger is not None else lambda d: d

        def consume(row: object) -> None:
            defect = mark(reader.read(row))  # type: ignore[arg-type]
            builder.add(defect)
            if on_change is not None:
                on_change(defect)
            if defect.severity in wanted:  # the files hold the severities asked for
                for add in adders:
                    add(defect)

        def learn(secret: str) -> None:  # an IAM token: masked, and redacted from defects
            on_secret(secret)
            reader.learn(secret)

        result = fetch_defects(settings, fetched, consume, on_secret=learn, budget=budget)
        short = result.capped or (result.total is not None and result.fetched < result.total)
        in_files = sum(builder.by_severity[s] for s in wanted)
        # the service's total counts every severity fetched, the files those asked for
        files_total = result.total if fetched == config.severities else None
        files_total = in_files if files_total is None and not short else files_total
        digest = builder.digest(
            result.total,
            stopped=result.stop_reason,
            capped=short,
            expected=result.expected,
            reported=None if counts is None else reported_count(counts, fetched),
            notes=result.notes,
        )
        info = FetchInfo(in_files, files_total, incomplete=incompleteness(digest))
        for writer in writers.values():
            writer.finish(info)
    omitted = getattr(writers.get("sarif"), "omitted", 0)
    unplaced = getattr(writers.get("codequality"), "omitted", 0)
    digest = replace(digest, sarif_omitted=omitted, codequality_omitted=unplaced)
    if in_change is None:
        return digest, None
    mine = in_change.digest(None if short else in_change.fetched, 0, result.stop_reason, short)
    return digest, mine


def new_severities(settings: Settings, verdict: Verdict) -> tuple[str, ...]:
    """Every severity when ``new`` fails and ``--defect-severity`` was not chosen: the
    list under ``new`` then holds the defects of every severity it counts."""
    failing = {check.metric for check in verdict.failed_checks}
    return SEVERITIES if "new" in failing and not settings.defects.chosen else ()


CHANGE_KEPT = 100
"""Defects of the change kept per severity for the summary and the comment."""


def judge_change(
    settings: Settings,
    report: Report,
    diff: ChangeDiff,
    out: TextIO,
    secrets: list[str],
    *,
    on_secret: Callable[[str], None],
    budget: float,
    baseline: Baseline | None = None,
) -> Verdict:
    """``--scope change``: fetch the defects (their files written), count the pending ones
    on the change's lines and judge with those counts (``baseline`` for the other counts).
    A fetch that fails is no verdict."""
    title = f"CodeArts Check: fetching the defects of task {settings.task_id} (this change)"
    ledger = suppression_ledger(settings, secrets)
    suppressed: dict[str, int] = {}
    try:
        with github.group(title, out):
            digest, mine = fetch_digests(
                settings,
                secrets,
                on_secret,
                budget,
                changed=diff.lines,
                counts=report.readable_counts(),
                ledger=ledger,
                change_suppressed=suppressed,
            )
    except OSError as error:
        raise OutputError(describe(error)) from None
    assert mine is not None
    counts = ChangeCounts(
        counts_without_suppressed(mine.by_severity, suppressed),
        complete=not mine.capped,
        shortfall=f"the defect fetch ended early ({mine.stopped or 'paging ended'})",
    )
    verdict = evaluate(report, settings.policy, counts, baseline=baseline)
    view = ChangeView(
        True, diff.base, diff.head, len(diff.lines.paths), diff.lines.line_count(), mine
    )
    verdict = replace(verdict, defects=digest, change=view)
    if ledger is None:
        return verdict
    return with_change_suppressions(verdict, ledger.outcome(secrets), suppressed)


def suppression_ledger(settings: Settings, secrets: list[str]) -> Ledger | None:
    """The ledger of the ``[[suppress]]`` entries, when there are any."""
    entries = settings.suppressions.entries
    return Ledger(entries, secrets=tuple(secrets)) if entries else None


def incompleteness(digest: DefectDigest) -> str | None:
    """Why the defects fetched are not all the service counted, or doubtful; None if not."""
    parts = []
    if digest.incomplete:
        why = f" ({digest.stopped})" if digest.stopped else ""
        parts.append(f"only {digest.shortfall()} were fetched{why}")
    if digest.notes:
        parts.append(digest.doubts())
    return "; ".join(parts) or None


def empty_text(name: str, reason: str | None, task: str | None = None, tasks: int = 1) -> str:
    """The empty-but-valid document of a per-defect format (or a task's part of one),
    saying why when known."""
    buffer = io.StringIO()
    writer: DefectWriter = defect_writer(name, buffer, task, tasks)
    writer.finish(FetchInfo(error=reason))
    return buffer.getvalue()


def write_empty(config: DefectSettings, reason: str | None, err: TextIO) -> list[str]:
    """Write every per-defect file asked for, empty but valid; the names of those that
    could not be written (each told of on ``err``)."""
    lost = []
    for name, path in config.paths().items():
        try:
            write_atomic(path, empty_text(name, reason, config.task, config.tasks), kind=name)
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


def combine_parts(
    config: DefectSettings, parts: list[tuple[DefectSettings, str | None]], err: TextIO
) -> list[str]:
    """Write each per-defect file of a step of several tasks from the tasks' parts (each
    task's ``DefectSettings`` naming its part files): a part that was never written (the
    task's flow did not end) is that task's empty part, saying why. The names of the files
    that could not be written (each told of on ``err``)."""
    lost = []
    for name, path in config.paths().items():
        try:
            with ExitStack() as stack:
                handle = stack.enter_context(open_atomic(path, kind=name))
                sources = [part_of(stack, name, task_config, why) for task_config, why in parts]
                combine_defect_parts(name, handle, sources)
        except OSError as error:
            lost.append(name)
            reason = getattr(error, "strerror", None) or str(error)
            message = one_line(f"cannot write --{name} {path!r}: {reason}", 1000)
            print(f"codearts-gate: error: {message}", file=err)
    return lost


def part_of(stack: ExitStack, name: str, config: DefectSettings, why: str | None) -> TextIO:
    """A task's part of the file ``name``: as the task wrote it, else empty saying why."""
    try:
        return stack.enter_context(open(config.paths()[name], encoding="utf-8", newline=""))
    except FileNotFoundError:
        reason = why or "the task's flow ended before its defects were written"
        return io.StringIO(empty_text(name, reason, config.task, config.tasks))
