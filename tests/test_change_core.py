"""The pure verdict in change scope: per-defect counts from the change, the rest from the
report; a fetch that ended early never passes a count."""

from __future__ import annotations

from gate.core import ChangeCounts, Outcome, ScanInfo, evaluate
from gate.formats import render
from gate.policy import build_policy
from gate.report import Report
from gate.structs import replace

REPORT = Report({"critical": 9, "major": 9, "minor": 50, "UNRESOLVED_ADD": 68, "FILE_TOTAL": 7})
POLICY = build_policy([("critical", 0), ("major", 1), ("new", 3), ("files", 10)])


def checks(change: ChangeCounts) -> dict[str, int | None]:
    return {c.metric: c.actual for c in evaluate(REPORT, POLICY, change).checks}


def test_per_defect_counts_come_from_the_change_and_the_rest_from_the_report():
    change = ChangeCounts({"major": 1, "minor": 2})
    assert checks(change) == {"critical": 0, "major": 1, "new": 3, "files": 7}
    assert evaluate(REPORT, POLICY, change).outcome is Outcome.PASSED
    assert evaluate(REPORT, POLICY).outcome is Outcome.FAILED  # the whole branch fails


def test_an_early_end_leaves_a_count_within_its_maximum_unreadable():
    verdict = evaluate(REPORT, POLICY, ChangeCounts({"major": 1}, complete=False, shortfall="x"))
    assert verdict.outcome is Outcome.ERROR and verdict.error is not None
    assert "in this change: x" in verdict.error.message


def test_an_early_end_still_fails_a_count_already_over_its_maximum():
    verdict = evaluate(REPORT, POLICY, ChangeCounts({"critical": 1}, complete=False))
    assert verdict.outcome is Outcome.FAILED


def test_scan_identity_for_a_known_job_and_a_report_file():
    job = ScanInfo("t1", "job", job_id="j1", branch="main", commit="f" * 40)
    assert job.gated == "job j1 of task t1" and not job.started_by_gate
    assert job.identity == "branch main, commit ffffffffffff"
    assert ScanInfo("", "file").gated == "the report in --report-file"
    assert ScanInfo("t1", "started", job_id="j2").started_by_gate


def test_the_verdict_line_names_branch_and_commit():
    verdict = evaluate(REPORT, POLICY)
    scan = ScanInfo("t1", "job", job_id="j1", branch="feature/x", commit="ab" * 20)
    [line] = [
        x
        for x in render("console", replace(verdict, scan=scan)).splitlines()
        if x.startswith("verdict:")
    ]
    assert line.endswith("on branch feature/x, commit abababababab")
