"""Machine-readable results: one JSON object, stable keys."""

from __future__ import annotations

import json

from gate.core import ScanInfo, Verdict


def as_dict(verdict: Verdict) -> dict[str, object]:
    """The documented shape: verdict, exit_code, job_id, report_url, checks, counts, error."""
    return {
        "verdict": verdict.outcome.value,
        "exit_code": int(verdict.exit_code),
        "job_id": verdict.job_id,
        "report_url": verdict.report_url,
        "checks": [
            {"metric": c.metric, "actual": c.actual, "max": c.maximum, "passed": c.passed}
            for c in verdict.checks
        ],
        "counts": dict(verdict.counts),
        "tools": list(verdict.tools),
        "error": None
        if verdict.error is None
        else {"kind": verdict.error.kind, "message": verdict.error.message},
        "scan": scan_dict(verdict.scan),
    }


def scan_dict(scan: ScanInfo | None) -> dict[str, object] | None:
    """Which scan of the task was gated and how long the scan and the wait took."""
    if scan is None:
        return None
    return {
        "task_id": scan.task_id,
        "source": scan.source,
        "job_id": scan.job_id,
        "status": scan.status,
        "scan_seconds": _rounded(scan.scan_seconds),
        "wait_seconds": _rounded(scan.wait_seconds),
        "queued_seconds": _rounded(scan.queued_seconds),
        "gated": scan.gated,
    }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def defects_dict(verdict: Verdict) -> dict[str, object] | None:
    """The defects' counts when they were asked for: fetched, by severity, left out, why missing."""
    digest = verdict.defects
    if digest is None:
        return None
    return {
        "severities": list(digest.severities),
        "fetched": digest.fetched,
        "total": digest.total,
        "by_severity": dict(digest.by_severity),
        "sarif_omitted": digest.sarif_omitted,
        "codequality_omitted": digest.codequality_omitted,
        "error": digest.error,
        "complete": digest.error is None and not digest.incomplete and not digest.notes,
        "missing": digest.missing if digest.error is None else None,
        "expected": digest.expected,
        "reported": digest.reported,
        "notes": list(digest.notes),
    }


def render(verdict: Verdict) -> str:
    """The JSON text, newline-terminated."""
    data = as_dict(verdict)
    if verdict.defects is not None:  # only when defects were asked for: the shape stays
        data["defects"] = defects_dict(verdict)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
