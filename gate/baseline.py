"""Baselines: the counts a gate compares with, from the task's history, a job's report or
a previous run's ``--json`` output. Parsing and choosing only: no I/O here (the calls are
in ``gate.api.history``, the file is read at the edge).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from gate.errors import BaselineError, UsageError
from gate.metrics import METRICS
from gate.records import History, Record
from gate.report import Report
from gate.structs import field, record
from gate.text import one_line

KINDS = ("previous", "job", "file")
SKEW = timedelta(seconds=10)
"""Clock difference tolerated between the gate and the service when telling the gated
scan from the one before it."""


@record
class BaselineSpec:
    """``--baseline``: ``previous``, ``job:ID`` or ``file:PATH``."""

    kind: str
    value: str = ""

    def describe(self) -> str:
        """The option as the user wrote it."""
        return self.kind if self.kind == "previous" else f"{self.kind}:{self.value}"


@record
class Baseline:
    """The counts to compare with and where they came from, in words for every output."""

    counts: Mapping[str, int]
    source: str
    """``checkrecord``, ``job`` or ``file``."""
    label: str
    """Which scan, when, from where: ``the task's previous scan (started ...), checkrecord``."""
    job_id: str | None = None
    started: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


def spec_of(text: str | None) -> BaselineSpec | None:
    """``--baseline``'s value; None when not given. A usage error for anything else."""
    if not text or not text.strip():
        return None
    text = text.strip()
    kind, sep, value = text.partition(":")
    if text == "previous":
        return BaselineSpec("previous")
    if sep and kind in ("job", "file") and value.strip():
        return BaselineSpec(kind, value.strip())
    shown = one_line(repr(text), 80)
    raise UsageError(f"--baseline must be previous, job:ID or file:PATH, got {shown}")


def previous_record(history: History, started: datetime | None, latest_is_gated: bool) -> Record:
    """The task's last finished scan before the gated one. ``started``: when the gate
    started its scan (wall clock); ``latest_is_gated``: the history was read after the
    gated scan ended (``--task-id`` alone), so its latest finished record is the gated one."""
    finished = history.finished()
    if started is not None:
        finished = [r for r in finished if r.started < started - SKEW]
    elif latest_is_gated:
        finished = finished[:-1]
    if not finished:
        raise BaselineError(
            "--baseline previous: the task's history holds no finished scan before the gated "
            f"one (read {len(history.records)} records of the last 90 days)",
            hint="use --baseline job:ID or file:PATH, or --baseline-optional",
        )
    return finished[-1]


def baseline_of_record(record: Record) -> Baseline:
    """The counts of a checkrecord record (``serious`` major, ``normal`` minor, ``prompt``
    suggestion; no ``new``)."""
    when = record.started.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Baseline(
        counts=dict(record.counts),
        source="checkrecord",
        label=f"the task's previous scan (started {when}), from its scan history (checkrecord)",
        started=when,
    )


def baseline_of_report(report: Report, job_id: str) -> Baseline:
    """The counts of job ``job_id``'s report."""
    return Baseline(
        counts=report.readable_counts(),
        source="job",
        label=f"the report of job {job_id} (refreshed)",
        job_id=job_id,
    )


def baseline_of_json(data: bytes, path: str) -> Baseline:
    """The counts of a previous run's ``--json`` output: each check's judged ``actual``
    (suppressions applied), else the report's ``counts``. ``BaselineError`` when the file
    holds no counts (a run without a verdict, another file)."""
    name = f"--baseline file:{one_line(path, 200)}"
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BaselineError(f"{name} is not JSON: not a --json output of codearts-gate") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("counts"), dict):
        raise BaselineError(f"{name} has no 'counts': not a --json output of codearts-gate")
    counts = counts_of(payload["counts"])
    counts.update(judged_counts(payload.get("checks")))
    if not counts:
        raise BaselineError(f"{name} holds no count (that run reached no verdict?)")
    job = payload.get("job_id")
    job_id = one_line(job, 64) if isinstance(job, str) and job else None
    where = f"job {job_id}" if job_id else "an unnamed job"
    return Baseline(counts, "file", f"{where}, from file:{one_line(path, 200)}", job_id=job_id)


def counts_of(values: Mapping[object, object]) -> dict[str, int]:
    """The known metrics whose value is a whole number >= 0."""
    counts = {}
    for name, value in values.items():
        if name in METRICS and type(value) is int and value >= 0:
            counts[str(name)] = value
    return counts


def judged_counts(checks: object) -> dict[str, int]:
    """``actual`` of each readable check of a ``--json`` output."""
    found: dict[str, int] = {}
    for check in checks if isinstance(checks, list) else []:
        if isinstance(check, dict):
            with contextlib.suppress(TypeError):
                found.update(counts_of({check.get("metric"): check.get("actual")}))
    return found
