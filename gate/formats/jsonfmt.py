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
            | {"warn": c.warn, "status": c.status}
            for c in verdict.checks
        ],
        "warnings": [
            {"metric": c.metric, "actual": c.actual, "warn": c.warn, "max": c.maximum}
            for c in verdict.warned_checks
        ],
        "counts": dict(verdict.counts),
        "tools": list(verdict.tools),
        "error": None
        if verdict.error is None
        else {"kind": verdict.error.kind, "message": verdict.error.message},
        "scan": scan_dict(verdict.scan),
        "codearts_gate": codearts_dict(verdict),
    }


def codearts_dict(verdict: Verdict) -> dict[str, object] | None:
    """CodeArts' own gate: its verdict, thresholds, what it describes, whether it counted."""
    gate = verdict.codearts
    if gate is None:
        return None
    return {
        "verdict": gate.state,
        "policy": gate.policy,
        "problem": gate.problem,
        "thresholds": None if gate.thresholds is None else list(gate.thresholds),
        "thresholds_note": gate.thresholds_note,
        "latest_scan_only": gate.latest_only,
        "disagreement": gate.disagreement(verdict),
        "summary": gate.summary(),
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
        "error": digest.error,
    }


def tasks_list(verdict: Verdict) -> list[dict[str, object]]:
    """Each task of a step of several: its name, id, folder and its own results."""
    return [
        {"name": t.name, "task_id": t.task_id, "path": t.path, **as_dict(t.verdict)}
        for t in verdict.tasks
    ]


def render(verdict: Verdict) -> str:
    """The JSON text, newline-terminated."""
    data = as_dict(verdict)
    if verdict.tasks:  # only for several tasks: the shape of one stays
        data["tasks"] = tasks_list(verdict)
    if verdict.defects is not None:  # only when defects were asked for: the shape stays
        data["defects"] = defects_dict(verdict)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
