"""Machine-readable results: one JSON object, stable keys."""

from __future__ import annotations

import json

from gate.core import Verdict


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
    }


def render(verdict: Verdict) -> str:
    """The JSON text, newline-terminated."""
    return json.dumps(as_dict(verdict), indent=2, ensure_ascii=False) + "\n"
