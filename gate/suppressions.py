"""Suppressions with a reason and an expiry: ``[[suppress]]`` entries, checked and applied.

Pure: the TOML is parsed at the edge (``gate.settings``), the defects come from the
fetch. ``suppressions_from_toml`` is the entry point for any file holding the tables.
Each entry names a ``defect_id``, or a ``rule`` (the checker id, which is the SARIF
``ruleId``, or the rule's name) with an optional ``path`` glob; ``reason`` and ``until``
are required. An expired entry stops suppressing; one that matched nothing is stale.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone

from gate.defects import SEVERITIES, Defect
from gate.errors import UsageError
from gate.structs import field, record, replace
from gate.text import one_line, redact

KEYS = frozenset({"defect_id", "rule", "path", "reason", "until"})
LONGEST = timedelta(days=366)
"""An ``until`` further ahead than this is refused: a suppression is reviewed yearly."""
KEPT = 50
"""Suppressed defects kept for the summary (every one is counted)."""
REASON_LIMIT = 500


@record
class Suppression:
    """One ``[[suppress]]`` entry (``number``: its place in ``source``, from 1)."""

    number: int
    reason: str
    until: date
    defect_id: str | None = None
    rule: str | None = None
    path: str | None = None
    source: str = ""

    def name(self) -> str:
        """``entry 2 (rule 'x', path 'src/*')``: how messages name it."""
        what = [
            f"{key} {one_line(repr(value), 120)}"
            for key, value in (
                ("defect_id", self.defect_id),
                ("rule", self.rule),
                ("path", self.path),
            )
            if value
        ]
        return f"[[suppress]] entry {self.number} ({', '.join(what)})"

    def matches(self, defect: Defect) -> bool:
        """True when this entry names ``defect``: its id, or its rule (and path glob)."""
        if self.defect_id is not None:
            return defect.id == self.defect_id
        if self.rule not in (defect.checker, defect.rule, defect.rule_id):
            return False
        return self.path is None or fnmatch.fnmatchcase(defect.path, self.path)

    def expired(self, today: date) -> bool:
        """True after its ``until`` day."""
        return today > self.until


def today_utc() -> date:
    """Today's date in UTC (what ``until`` is compared with)."""
    return datetime.now(timezone.utc).date()


def suppressions_from_toml(
    data: Mapping[str, object], source: str, today: date | None = None
) -> tuple[Suppression, ...]:
    """The ``[[suppress]]`` entries of a parsed TOML document; ``UsageError`` naming the
    entry and the problem (an unknown key, no reason, an ``until`` more than a year away)."""
    tables = data.get("suppress", [])
    if not isinstance(tables, list):
        raise UsageError(f"{source}: 'suppress' must be an array of tables ([[suppress]])")
    today = today or today_utc()
    return tuple(entry_of(table, number, source, today) for number, table in enumerate(tables, 1))


def entry_of(table: object, number: int, source: str, today: date) -> Suppression:
    """One entry, checked."""
    where = f"{source}: [[suppress]] entry {number}"
    if not isinstance(table, dict):
        raise UsageError(f"{where} is not a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        known = ", ".join(sorted(KEYS))
        raise UsageError(f"{where}: unknown key {one_line(repr(unknown[0]), 60)} (keys: {known})")
    texts = {
        key: text_of(table.get(key), key, where) for key in ("defect_id", "rule", "path", "reason")
    }
    if bool(texts["defect_id"]) == bool(texts["rule"]):
        raise UsageError(f"{where}: name a defect_id or a rule (one of them)")
    if texts["path"] and not texts["rule"]:
        raise UsageError(f"{where}: path narrows a rule: set rule too")
    if not texts["reason"]:
        raise UsageError(f"{where}: a reason is required")
    until = until_of(table.get("until"), where)
    if until - today > LONGEST:
        raise UsageError(f"{where}: until {until.isoformat()} is more than a year ahead")
    return Suppression(
        number, texts["reason"][:REASON_LIMIT], until, texts["defect_id"] or None,
        texts["rule"] or None, texts["path"] or None, source,
    )  # fmt: skip


def text_of(value: object, key: str, where: str) -> str:
    """A string field, stripped; empty when absent."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UsageError(f"{where}: {key} must be a string")
    return value.strip()


def until_of(value: object, where: str) -> date:
    """``until``: a TOML date (or date-time), or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value.strip())
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    raise UsageError(f"{where}: until must be a date (2027-01-31), got {one_line(repr(value), 60)}")


@record(frozen=False)
class Ledger:
    """Applies the suppressions to each fetched defect and keeps the tally (a sink of the
    fetch). Expired entries are set aside at the start: they suppress nothing."""

    entries: tuple[Suppression, ...]
    today: date = field(default_factory=today_utc)
    secrets: tuple[str, ...] = ()
    """Redacted from the reasons before they are written anywhere (SARIF justifications)."""
    hits: dict[int, int] = field(default_factory=dict)
    kept: list[tuple[Defect, Suppression]] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    ids: list[str] = field(default_factory=list)
    """Every suppressed defect's id (what ``--sync-suppressions`` would mark ignored)."""

    def __post_init__(self) -> None:
        self.active = [e for e in self.entries if not e.expired(self.today)]
        self.reasons = {e.number: redact(e.reason, self.secrets) for e in self.active}

    def mark(self, defect: Defect) -> Defect:
        """``defect``, marked suppressed (its justification the entry's reason) when an
        active entry names it."""
        for entry in self.active:
            if entry.matches(defect):
                self.hits[entry.number] = self.hits.get(entry.number, 0) + 1
                self.suppressed[defect.severity] += 1
                if defect.id:
                    self.ids.append(defect.id)
                marked = defect._replace(suppressed=self.reasons[entry.number])
                if len(self.kept) < KEPT:
                    self.kept.append((marked, entry))
                return marked
        return defect

    def outcome(self, secrets: Iterable[str] = ()) -> SuppressionOutcome:
        """What happened: suppressed, expired, stale; text from the file redacted."""
        secrets = (*self.secrets, *secrets)
        expired = tuple(e for e in self.entries if e.expired(self.today))
        stale = tuple(e for e in self.active if not self.hits.get(e.number))
        return SuppressionOutcome(
            entries=len(self.entries),
            suppressed={s: n for s, n in self.suppressed.items() if n},
            kept=tuple((d, redacted_entry(e, secrets)) for d, e in self.kept),
            expired=tuple(redacted_entry(e, secrets) for e in expired),
            stale=tuple(redacted_entry(e, secrets) for e in stale),
            ids=tuple(self.ids),
        )


def redacted_entry(entry: Suppression, secrets: tuple[str, ...]) -> Suppression:
    """The entry with every secret out of its text (a reason may quote one)."""

    def clean(text: str | None) -> str | None:
        return text and redact(text, secrets)

    return Suppression(
        entry.number, redact(entry.reason, secrets), entry.until, clean(entry.defect_id),
        clean(entry.rule), clean(entry.path), entry.source,
    )  # fmt: skip


@record
class SuppressionOutcome:
    """What the suppressions did in this run, for every output."""

    entries: int = 0
    suppressed: Mapping[str, int] = field(default_factory=dict)
    """Suppressed defects per severity."""
    kept: tuple[tuple[Defect, Suppression], ...] = ()
    """The first ``KEPT`` suppressed defects and the entry of each."""
    expired: tuple[Suppression, ...] = ()
    stale: tuple[Suppression, ...] = ()
    synced: tuple[Suppression, ...] = ()
    """Entries that matched no pending defect because CodeArts already ignores theirs."""
    ids: tuple[str, ...] = ()
    """Every suppressed defect's id (what ``--sync-suppressions`` would mark ignored)."""

    @property
    def total(self) -> int:
        """Suppressed defects, every severity."""
        return sum(self.suppressed.values())

    def warnings(self) -> list[str]:
        """One line per expired or stale entry."""
        lines = [
            f"{e.name()} expired on {e.until.isoformat()} and no longer suppresses "
            f"(reason: {one_line(e.reason, 300)})"
            for e in self.expired
        ]
        lines += [
            f"{e.name()} matched no pending defect: stale, remove it "
            f"(reason: {one_line(e.reason, 300)})"
            for e in self.stale
        ]
        return lines

    def redacted(self, secrets: tuple[str, ...]) -> SuppressionOutcome:
        """This outcome with every secret out of the defects and the entries' text."""

        def clean(entries: tuple[Suppression, ...]) -> tuple[Suppression, ...]:
            return tuple(redacted_entry(e, secrets) for e in entries)

        kept = tuple((d.redacted(secrets), redacted_entry(e, secrets)) for d, e in self.kept)
        expired, stale, synced = clean(self.expired), clean(self.stale), clean(self.synced)
        return replace(self, kept=kept, expired=expired, stale=stale, synced=synced)

    def notes(self) -> list[str]:
        """One line per synced entry (its defects are ignored in CodeArts already)."""
        return [
            f"{e.name()} is synced: its defects are already ignored in CodeArts"
            for e in self.synced
        ]

    def with_synced(self, numbers: set[int]) -> SuppressionOutcome:
        """The stale entries numbered in ``numbers`` moved to ``synced``."""
        return replace(
            self,
            stale=tuple(e for e in self.stale if e.number not in numbers),
            synced=tuple(e for e in self.stale if e.number in numbers),
        )


def matched_entries(entries: Iterable[Suppression], defects: Iterable[Defect]) -> set[int]:
    """The numbers of ``entries`` that name at least one of ``defects``."""
    left = list(entries)
    found: set[int] = set()
    for defect in defects:
        for entry in left:
            if entry.number not in found and entry.matches(defect):
                found.add(entry.number)
    return found


def counts_without_suppressed(
    by_severity: Mapping[str, int], suppressed: Mapping[str, int]
) -> dict[str, int]:
    """The judged per-severity counts: the pending defects fetched less the suppressed
    ones (a sibling of the change-only counts: both derive counts from the defect list)."""
    return {s: by_severity.get(s, 0) - suppressed.get(s, 0) for s in SEVERITIES}
