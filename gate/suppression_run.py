"""After the defects were fetched with suppressions: judge the defect list less the
suppressed defects, warn of expired and stale entries, and (only when asked) mark the
suppressed defects ignored in CodeArts. Called by the edge (``gate.run``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from gate import text
from gate.core import Verdict, with_suppressions
from gate.defects import DefectReader
from gate.errors import GateError
from gate.paths import PathMapper
from gate.settings import Settings
from gate.structs import replace
from gate.suppressions import Ledger, Suppression, matched_entries
from gate.text import one_line

SHOWN_IDS = 20


def settle(
    settings: Settings,
    verdict: Verdict,
    ledger: Ledger,
    err: TextIO,
    on_secret: Callable[[str], None],
) -> Verdict:
    """The verdict on the suppressed counts; the warnings and the sync said on ``err``."""
    verdict = with_suppressions(verdict, ledger.outcome(text.run_secrets()))
    return tell(settings, verdict, err, on_secret)


def tell(
    settings: Settings, verdict: Verdict, err: TextIO, on_secret: Callable[[str], None]
) -> Verdict:
    """The verdict whose counts the suppressions lowered already (whole branch or change
    scope): stale entries whose defects CodeArts ignores moved to synced, the warnings
    and notes said on ``err``, and the sync done when asked."""
    outcome = verdict.suppression
    if outcome is None:
        return verdict
    fetched = verdict.defects is not None and not verdict.defects.error
    if outcome.stale and fetched:
        outcome = outcome.with_synced(synced(settings, outcome.stale, err, on_secret))
        verdict = replace(verdict, suppression=outcome)
    if settings.verbosity >= 0:
        for line in outcome.warnings():
            print(f"codearts-gate: warning: {one_line(line, 1000)}", file=err)
        for line in outcome.notes():
            print(f"codearts-gate: {one_line(line, 1000)}", file=err)
    if settings.suppressions.sync and fetched:
        sync(settings, list(outcome.ids), err, on_secret)
    return verdict


def sync(settings: Settings, ids: list[str], err: TextIO, on_secret: Callable[[str], None]) -> None:
    """Say which defects would be marked ignored; mark them with ``apply``. A failure is a
    warning: the verdict on the counts stands."""
    if not ids:
        print("codearts-gate: --sync-suppressions: no suppressed defect to mark", file=err)
        return
    shown = ", ".join(ids[:SHOWN_IDS]) + (
        f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    )
    task = settings.task_id
    if settings.suppressions.sync != "apply":
        message = (
            f"--sync-suppressions (dry run): would mark {len(ids)} suppressed defects of task "
            f"{task} ignored in CodeArts: {shown}; nothing was changed (=apply to do it)"
        )
        print(f"codearts-gate: {one_line(message, 4000)}", file=err)
        return
    doing = f"--sync-suppressions: marking {len(ids)} defects ignored: {shown}"
    print(f"codearts-gate: {one_line(doing, 4000)}", file=err)
    from gate.api.defect_status import mark_ignored  # noqa: PLC0415 - requests is heavy

    try:
        marked = mark_ignored(settings, ids, on_secret=on_secret)
    except GateError as error:
        message = f"--sync-suppressions: marking the defects ignored failed: {error.message}"
        print(f"codearts-gate: warning: {one_line(message, 1000)}", file=err)
        return
    print(
        f"codearts-gate: --sync-suppressions: {marked} defects marked ignored in CodeArts", file=err
    )


def synced(
    settings: Settings,
    stale: tuple[Suppression, ...],
    err: TextIO,
    on_secret: Callable[[str], None],
) -> set[int]:
    """The stale entries whose defects CodeArts already ignores (one more paging, of the
    ignored defects); none when that cannot be read (the entries stay stale, said once)."""
    from gate.api.defects import fetch_defects  # noqa: PLC0415 - requests is heavy

    reader = DefectReader(PathMapper(Path.cwd(), settings.defects.path_prefix), text.run_secrets())
    found: set[int] = set()

    def consume(row: object) -> None:  # matched as they come: nothing kept but the numbers
        left = [e for e in stale if e.number not in found]
        found.update(matched_entries(left, [reader.read(row)]))  # type: ignore[arg-type]

    try:
        fetch_defects(
            settings, settings.defects.severities, consume, on_secret=on_secret, statuses="2"
        )
    except GateError as error:
        message = f"the ignored defects could not be read to tell synced entries: {error.message}"
        print(f"codearts-gate: warning: {one_line(message, 1000)}", file=err)
        return set()
    return found
