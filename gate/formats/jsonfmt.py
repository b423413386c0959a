"""Machine-readable results: one JSON object, stable keys."""

from __future__ import annotations

import json

from gate.core import ChangeView, Check, CommentResult, ScanInfo, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:  # the suppressions load only for the runs that have them
    from gate.suppressions import Suppression, SuppressionOutcome


def as_dict(verdict: Verdict) -> dict[str, object]:
    """The documented shape: verdict, exit_code, job_id, report_url, checks, counts, error."""
    return {
        "verdict": verdict.outcome.value,
        "exit_code": int(verdict.exit_code),
        "job_id": verdict.job_id,
        "report_url": verdict.report_url,
        "checks": [check_dict(c, compared=verdict.baseline is not None) for c in verdict.checks],
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
        "scope": scope_dict(verdict.change),
        "comment": comment_dict(verdict.comment),
        "baseline": baseline_dict(verdict),
        "codearts_gate": codearts_dict(verdict),
    }


def check_dict(check: Check, *, compared: bool) -> dict[str, object]:
    """One check; ``delta`` (and the baseline's count, the allowed increase) when a
    baseline was ``compared`` with, ``note`` when the check was judged otherwise."""
    data: dict[str, object] = {
        "metric": check.metric,
        "actual": check.actual,
        "max": check.maximum,
        "passed": check.passed,
        "warn": check.warn,
        "status": check.status,
    }
    if compared:
        data |= {"delta": check.delta, "baseline": check.baseline}
        data["max_increase"] = check.max_increase
    if check.note:
        data["note"] = check.note
    return data


def baseline_dict(verdict: Verdict) -> dict[str, object] | None:
    """The baseline compared with: where from, which job, when, its counts; or why none."""
    base = verdict.baseline
    if base is None:
        return {"missing": verdict.baseline_note} if verdict.baseline_note else None
    return {
        "source": base.source,
        "label": base.label,
        "job_id": base.job_id,
        "started": base.started,
        "counts": dict(base.counts),
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
        "queued_seconds": _rounded(scan.queued_seconds),
        "gated": scan.gated,
        "branch": scan.branch,
        "commit": scan.commit,
        "started_by_gate": scan.started_by_gate,
    }


def scope_dict(change: ChangeView | None) -> dict[str, object]:
    """What the thresholds judged: ``change`` (with its base, head and the defects on its
    lines) or ``all`` (the whole branch)."""
    if change is None or not change.judged:
        return {"judged": "all", "note": change.note if change else None}
    mine = change.digest
    return {
        "judged": "change",
        "base": change.base,
        "head": change.head,
        "files": change.files,
        "lines": change.lines,
        "defects": mine.fetched if mine else None,
        "by_severity": dict(mine.by_severity) if mine else {},
    }


def comment_dict(comment: CommentResult | None) -> dict[str, object] | None:
    """What became of the pull/merge request comment (``--comment``); None when not asked."""
    if comment is None:
        return None
    return {"status": comment.status, "detail": comment.detail, "url": comment.url}


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


def entry_dict(entry: Suppression) -> dict[str, object]:
    """A ``[[suppress]]`` entry as the file named it."""
    return {
        "entry": entry.number,
        "defect_id": entry.defect_id,
        "rule": entry.rule,
        "path": entry.path,
        "reason": entry.reason,
        "until": entry.until.isoformat(),
    }


def suppressions_dict(outcome: SuppressionOutcome) -> dict[str, object]:
    """What the suppressions did: counts, the first suppressed defects, expired, stale."""
    return {
        "entries": outcome.entries,
        "suppressed": outcome.total,
        "by_severity": dict(outcome.suppressed),
        "defects": [
            {
                "defect_id": defect.id,
                "severity": defect.severity,
                "rule_id": defect.rule_id,
                "path": defect.path,
                "line": defect.line,
                "reason": entry.reason,
                "entry": entry.number,
            }
            for defect, entry in outcome.kept
        ],
        "expired": [entry_dict(e) for e in outcome.expired],
        "stale": [entry_dict(e) for e in outcome.stale],
        "synced": [entry_dict(e) for e in outcome.synced],
        "new_not_lowered": True,
    }


def tasks_list(verdict: Verdict) -> list[dict[str, object]]:
    """Each task of a step of several: its name, id, folder and its own results."""
    return [
        {
            "name": t.name,
            "task_id": t.task_id,
            "path": t.path,
            **as_dict(t.verdict),
            **({} if t.verdict.defects is None else {"defects": defects_dict(t.verdict)}),
        }
        for t in verdict.tasks
    ]


def render(verdict: Verdict) -> str:
    """The JSON text, newline-terminated."""
    data = as_dict(verdict)
    if verdict.tasks:  # only for several tasks: the shape of one stays
        data["tasks"] = tasks_list(verdict)
    if verdict.defects is not None:  # only when defects were asked for: the shape stays
        data["defects"] = defects_dict(verdict)
    if verdict.suppression is not None:
        data["suppressions"] = suppressions_dict(verdict.suppression)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
