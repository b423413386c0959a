"""The task's past scans as ``checkrecord`` lists them, read leniently and bounded.

The shape is the SDK's (``{"total", "data": [{"check_time", "check_end_time",
"issue_counts"}]}``); the order of ``data`` and the exact time format are not confirmed,
so times are parsed leniently (``Z``, an offset, a space for ``T``, fractions) and the
records are sorted here. No I/O: the call is in ``gate.api.history``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from gate.defects import whole_number
from gate.errors import ServiceError
from gate.structs import field, record

MAX_RECORDS = 1000
"""The most records one answer is read for (the endpoint's ``limit`` maximum)."""
DURATIONS = 20
"""How many of the latest finished scans the wait's estimate uses."""
ISSUE_FIELDS = {
    "critical": "critical",
    "major": "serious",
    "minor": "normal",
    "suggestion": "prompt",
}
"""The gate's severity names and ``issue_counts``' names (``serious`` is major)."""

_TIME = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*"
)


def parse_time(value: object) -> datetime | None:
    """A UTC time from ``2026-12-07T01:02:03Z``, ``...+08:00``, ``2026-12-07 01:02:03``
    (no zone: UTC, as the API documents); None for anything else."""
    match = _TIME.fullmatch(value) if isinstance(value, str) and len(value) <= 64 else None
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")), tzinfo=timezone.utc,
        )  # fmt: skip
    except ValueError:  # 2026-02-31, 25:00
        return None
    return moment - zone_offset(zone)


def zone_offset(zone: str | None) -> timedelta:
    """The offset a zone suffix names (none, ``Z`` or ``UTC``: zero)."""
    if not zone or zone.upper() in ("Z", "UTC"):
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    sign = -1 if zone[0] == "-" else 1
    return sign * timedelta(hours=hours, minutes=minutes)


def api_time(moment: datetime) -> str:
    """A time as the endpoint's filters take it: UTC ``yyyy-MM-ddTHH:mm:ssZ``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@record
class Record:
    """One past scan: when it started and ended (None: not finished), its counts."""

    started: datetime
    ended: datetime | None
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        """How long the scan took; None when it has not ended (or the times disagree)."""
        if self.ended is None or self.ended < self.started:
            return None
        return (self.ended - self.started).total_seconds()


def record_of(row: object) -> Record | None:
    """A record from one ``data`` row; None when its start cannot be read."""
    if not isinstance(row, dict):
        return None
    started = parse_time(row.get("check_time"))
    if started is None:
        return None
    issues = row.get("issue_counts")
    issues = issues if isinstance(issues, dict) else {}
    counts = {}
    for name, key in ISSUE_FIELDS.items():
        number = whole_number(issues.get(key))
        if number is not None:
            counts[name] = number
    return Record(started, parse_time(row.get("check_end_time")), counts)


@record
class History:
    """The records read, oldest first, and whether the service holds more than were read."""

    records: tuple[Record, ...] = ()
    total: int | None = None

    @property
    def cut(self) -> bool:
        """True when the service counted more records than the answer carried."""
        return self.total is not None and self.total > len(self.records)

    def finished(self) -> list[Record]:
        """The records with an end, oldest first."""
        return [r for r in self.records if r.seconds is not None]

    def durations(self, keep: int = DURATIONS) -> list[float]:
        """The durations of the latest ``keep`` finished scans, oldest first."""
        return [r.seconds for r in self.finished()[-keep:] if r.seconds is not None]

    def running_since(self) -> datetime | None:
        """The start of the latest record, when it has no end yet (a scan under way)."""
        if self.records and self.records[-1].ended is None:
            return self.records[-1].started
        return None


def history_of(payload: object) -> History:
    """The documented answer as a ``History``: at most ``MAX_RECORDS`` rows read, those
    without a readable start skipped, sorted by start (the service's order is not known)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data", []), list):
        raise ServiceError("the scan history answer has no 'data' list")
    rows = payload.get("data") or []
    records = [r for r in (record_of(row) for row in rows[:MAX_RECORDS]) if r is not None]
    records.sort(key=lambda r: r.started)
    total = whole_number(payload.get("total"))
    return History(tuple(records), max(total, len(rows)) if total is not None else len(rows))
