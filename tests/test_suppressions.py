"""Suppressions with a reason and an expiry (issue 16): parsing, matching, the judged
counts in the pure core, and the real gate against the local fake (SARIF, Code Quality,
summary, annotations; expired entries fail the gate again; the optional sync)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone

import pytest
from fakeapi import PASS_REPORT, FakeCodeArts, defect_error_step, make_defect, report_step
from gaterun import JOB, clean_env, run_gate
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.baseline import baseline_of_json
from gate.core import (
    Check,
    Outcome,
    Verdict,
    evaluate,
    with_change_suppressions,
    with_suppressions,
)
from gate.defects import Defect, DefectDigest
from gate.errors import UsageError
from gate.formats import render
from gate.github import annotation_lines
from gate.policy import build_policy
from gate.report import Report
from gate.settings import RawOptions, build_settings
from gate.structs import replace
from gate.suppressions import Ledger, Suppression, SuppressionOutcome, suppressions_from_toml

TASK = "task-0123"
TODAY = date(2026, 12, 7)
SECRET = "fake-token-0123456789"


def entries(*tables, today=TODAY):
    return suppressions_from_toml({"suppress": list(tables)}, "test.toml", today)


def defect(i="d1", checker="cxx_1", rule="G.RULE.01", path="src/a/b.cpp", severity="major"):
    return Defect(i, severity, checker, rule, path, 3, "msg")


def test_entries_are_read_with_toml_dates_and_iso_strings():
    read = entries(
        {"defect_id": "d1", "reason": "false positive", "until": date(2027, 1, 31)},
        {"rule": "cxx_1", "path": "src/*", "reason": "vendored", "until": "2027-02-01"},
        {"rule": "x", "reason": "r", "until": datetime(2027, 3, 1, 8, tzinfo=timezone.utc)},
        {"rule": "y", "reason": "r", "until": "2027-03-01T08:00:00Z"},
    )
    assert [e.until for e in read] == [date(2027, 1, 31), date(2027, 2, 1), date(2027, 3, 1),
                                       date(2027, 3, 1)]  # fmt: skip
    assert read[1].name() == "[[suppress]] entry 2 (rule 'cxx_1', path 'src/*')"


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"rule": "x", "until": "2027-01-01"}, "a reason is required"),
        ({"rule": "x", "reason": " ", "until": "2027-01-01"}, "a reason is required"),
        ({"reason": "r", "until": "2027-01-01"}, "defect_id or a rule"),
        ({"defect_id": "d", "rule": "x", "reason": "r", "until": "2027-01-01"}, "one of them"),
        ({"defect_id": "d", "path": "*", "reason": "r", "until": "2027-01-01"}, "set rule too"),
        ({"rule": "x", "reason": "r"}, "until must be a date"),
        ({"rule": "x", "reason": "r", "until": "soon"}, "until must be a date"),
        ({"rule": "x", "reason": "r", "until": "2028-01-01"}, "more than a year ahead"),
        ({"rule": "x", "reason": "r", "until": "2027-01-01", "why": "?"}, "unknown key 'why'"),
        ({"rule": 3, "reason": "r", "until": "2027-01-01"}, "rule must be a string"),
    ],
)
def test_bad_entries_are_usage_errors_naming_the_entry(table, words):
    with pytest.raises(UsageError, match="entry 1") as caught:
        entries(table)
    assert words in caught.value.message


def test_suppress_must_be_an_array_of_tables():
    with pytest.raises(UsageError, match="array of tables"):
        suppressions_from_toml({"suppress": {"rule": "x"}}, "f", TODAY)
    with pytest.raises(UsageError, match="not a table"):
        suppressions_from_toml({"suppress": ["x"]}, "f", TODAY)


def test_matching_by_id_rule_name_checker_and_glob():
    by_id, by_checker, by_name, by_glob = entries(
        {"defect_id": "d1", "reason": "a", "until": "2027-01-01"},
        {"rule": "cxx_2", "reason": "b", "until": "2027-01-01"},
        {"rule": "G.RULE.03", "reason": "c", "until": "2027-01-01"},
        {"rule": "cxx_4", "path": "vendor/**", "reason": "d", "until": "2027-01-01"},
    )
    assert by_id.matches(defect("d1")) and not by_id.matches(defect("d2"))
    assert by_checker.matches(defect(checker="cxx_2")) and not by_checker.matches(defect())
    assert by_name.matches(defect(rule="G.RULE.03"))
    assert by_glob.matches(defect(checker="cxx_4", path="vendor/x/y.c"))
    assert not by_glob.matches(defect(checker="cxx_4", path="src/vendor/y.c"))


def test_the_ledger_marks_counts_and_reports_expired_and_stale_entries():
    live, expired, stale = entries(
        {"rule": "cxx_1", "reason": "ok", "until": "2027-01-01"},
        {"defect_id": "d9", "reason": "old", "until": "2026-12-06"},
        {"defect_id": "nope", "reason": "gone", "until": "2027-01-01"},
    )
    ledger = Ledger((live, expired, stale), today=TODAY)
    marked = ledger.mark(defect("d1"))
    assert marked.suppressed == "ok" and ledger.mark(defect("d9", checker="z")).suppressed is None
    outcome = ledger.outcome()
    assert outcome.suppressed == {"major": 1} and ledger.ids == ["d1"]
    assert [e.number for e in outcome.expired] == [2] and [e.number for e in outcome.stale] == [3]
    warnings = outcome.warnings()
    assert "expired on 2026-12-06" in warnings[0] and "reason: old" in warnings[0]
    assert "stale, remove it" in warnings[1]


def digest(**by_severity):
    return DefectDigest(("critical", "major"), sum(by_severity.values()), None, by_severity)


def verdict_of(*checks, defects):
    return Verdict(Outcome.FAILED, checks, defects=defects)


def test_the_judged_counts_are_the_defect_list_less_the_suppressed():
    ledger = Ledger(entries({"rule": "cxx_1", "reason": "ok", "until": "2027-01-01"}), TODAY)
    ledger.mark(defect("d1"))
    ledger.mark(defect("d2"))
    checks = (Check("major", 0, 2), Check("new", 0, 0), Check("critical", 0, 0))
    judged = with_suppressions(verdict_of(*checks, defects=digest(major=2)), ledger.outcome())
    major, new, critical = judged.checks
    assert judged.outcome is Outcome.PASSED
    assert (major.actual, major.reported, major.shown()) == (0, 2, "0 (report 2)")
    assert new.note and "do not lower new" in new.note and critical.actual == 0


@pytest.mark.parametrize(
    "defects",
    [
        None,
        DefectDigest(("major",), error="HTTP 500"),
        DefectDigest(("major",), 5, 9, {"major": 5}),
    ],
)
def test_without_every_defect_the_suppressed_counts_are_no_verdict(defects):
    ledger = Ledger(entries({"rule": "cxx_1", "reason": "ok", "until": "2027-01-01"}), TODAY)
    judged = with_suppressions(verdict_of(Check("major", 0, 0), defects=defects), ledger.outcome())
    assert judged.outcome is Outcome.ERROR and judged.checks[0].actual is None


# ------------------------------------------------------------------ end to end


def toml(path, *tables: str) -> str:
    path.write_text("\n".join(f"[[suppress]]\n{t}\n" for t in tables), encoding="utf-8")
    return str(path)


def gate(api, folder, *args, **env):
    base = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    files = [f"--sarif={folder}/d.sarif", f"--codequality={folder}/cq.json"]
    return run_gate(folder, "--task-id", TASK, "--path-prefix-strip", "demo-repo/", *files,
                    *args, env={**base, **env})  # fmt: skip


def soon(days=30) -> str:
    return (datetime.now(timezone.utc).date() + timedelta(days=days)).isoformat()


def fake_with_two_majors() -> FakeCodeArts:
    api = FakeCodeArts()
    api.scenario = [report_step({**PASS_REPORT, "major": 2, "CRITICAL": 2})]
    api.defect_api.rows = [make_defect(1, level=1), make_defect(2, level=1)]
    return api


def test_suppressed_defects_pass_the_gate_and_show_everywhere(tmp_path):
    conf = toml(
        tmp_path / "s.toml",
        f'defect_id = "{1:032x}"\nreason = "false positive, see #12"\nuntil = {soon()}',
        f'rule = "cxx_checker_2"\npath = "src/module2/*"\nreason = "generated"\nuntil = "{soon()}"',
    )
    with fake_with_two_majors() as api:
        run = gate(api, tmp_path, "--suppressions", conf)
    assert run.code == 0, run.stderr
    [major] = [c for c in run.json["checks"] if c["metric"] == "major"]
    assert major["actual"] == 0
    assert "0 (report 2)" in run.stdout and "0 (report 2)" in run.summary
    assert run.json["suppressions"]["suppressed"] == 2
    assert "### Suppressed" in run.summary and "false positive, see #12" in run.summary
    sarif = json.loads((tmp_path / "d.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert len(results) == 2
    assert {r["suppressions"][0]["justification"] for r in results} == {
        "false positive, see #12",
        "generated",
    }
    assert json.loads((tmp_path / "cq.json").read_text(encoding="utf-8")) == []
    notes = [c.get("note") for c in run.json["checks"] if c["metric"] == "new"]
    assert notes and "do not lower new" in notes[0]


def test_an_expired_suppression_fails_the_gate_again_and_warns(tmp_path):
    yesterday = (datetime.now(timezone.utc).date() - timedelta(days=1)).isoformat()
    conf = toml(
        tmp_path / "s.toml",
        f'rule = "cxx_checker_1"\nreason = "wait for v2"\nuntil = {yesterday}',
        f'rule = "cxx_checker_2"\nreason = "ok"\nuntil = {soon()}',
    )
    with fake_with_two_majors() as api:
        run = gate(api, tmp_path, "--suppressions", conf, GITHUB_ACTIONS="true")
    assert run.code == 1, run.stderr
    assert f"expired on {yesterday}" in run.stderr and "wait for v2" in run.stderr
    [warning] = [line for line in run.stdout.splitlines() if "suppression to review" in line]
    assert warning.startswith("::warning ") and "wait for v2" in warning
    assert "1 (report 2)" in run.stdout


def test_a_stale_suppression_is_a_warning(tmp_path):
    conf = toml(
        tmp_path / "s.toml", f'defect_id = "gone"\nreason = "fixed long ago"\nuntil = {soon()}'
    )
    with fake_with_two_majors() as api:
        run = gate(api, tmp_path, "--suppressions", conf)
    assert run.code == 1 and "stale, remove it" in run.stderr and "stale" in run.summary


def test_hostile_reasons_are_escaped_everywhere_and_secrets_redacted(tmp_path):
    reason = f"x\\n::error::owned <img src=x> **bold** | {SECRET}"
    (tmp_path / "conf").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    conf = toml(
        tmp_path / "conf" / "s.toml",
        f'rule = "cxx_checker_1"\nreason = "{reason}"\nuntil = {soon()}',
        f'defect_id = "gone"\nreason = "{reason}"\nuntil = {soon()}',
    )
    with fake_with_two_majors() as api:
        run = gate(api, out, "--suppressions", conf, GITHUB_ACTIONS="true")
    everything = "\n".join(
        line for line in run.everything().splitlines() if not line.startswith("::add-mask::")
    )
    assert SECRET not in everything
    assert "\n::error::owned" not in everything
    assert not re.search(r"(?<!\\)<img", run.summary) and "\\<img" in run.summary
    assert not any(line.startswith("::error::owned") for line in run.stdout.splitlines())


def test_a_failed_defect_fetch_with_suppressions_is_no_verdict(tmp_path):
    conf = toml(tmp_path / "s.toml", f'rule = "cxx_checker_1"\nreason = "r"\nuntil = {soon()}')
    with fake_with_two_majors() as api:
        api.defect_api.request_faults = {0: [defect_error_step()] * 9, 1: [defect_error_step()] * 9}
        api.defect_api.statistic = [defect_error_step()]
        run = gate(api, tmp_path, "--suppressions", conf)
    assert run.code == 4, run.stderr


def test_sync_is_a_dry_run_unless_apply(tmp_path):
    conf = toml(tmp_path / "s.toml", f'rule = "cxx_checker_1"\nreason = "r"\nuntil = {soon()}')
    with fake_with_two_majors() as api:
        dry = gate(api, tmp_path, "--suppressions", conf, "--sync-suppressions")
        assert api.task_requests("defect-status") == [] and api.status_changes == []
        assert (
            "would mark 1 suppressed defects" in dry.stderr and "nothing was changed" in dry.stderr
        )
        applied = gate(api, tmp_path, "--suppressions", conf, "--sync-suppressions=apply")
        assert api.status_changes == [([f"{1:032x}"], "2")]
    assert "1 defects marked ignored" in applied.stderr


def test_suppressions_need_the_task_and_a_readable_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[suppress]\n", encoding="utf-8")
    with FakeCodeArts() as api:
        run = gate(api, tmp_path, "--suppressions", str(bad))
        missing = gate(api, tmp_path, "--suppressions", str(tmp_path / "none.toml"))
        sync_alone = gate(api, tmp_path, "--sync-suppressions")
    assert run.code == missing.code == sync_alone.code == 2
    assert "cannot read --suppressions" in run.stderr and "needs suppressions" in sync_alone.stderr


def test_a_stale_entry_whose_defect_is_ignored_in_codearts_is_synced(tmp_path):
    conf = toml(
        tmp_path / "s.toml",
        f'defect_id = "{3:032x}"\nreason = "accepted"\nuntil = {soon()}',
        f'defect_id = "gone"\nreason = "fixed"\nuntil = {soon()}',
    )
    with fake_with_two_majors() as api:
        api.defect_api.rows.append(make_defect(3, level=1, defect_status="2"))
        run = gate(api, tmp_path, "--suppressions", conf)
        ignored = [r for r in api.requests if r.query.get("status_ids") == ["2"]]
    assert ignored and run.code == 1
    assert "entry 1 (defect_id" in run.stderr and "is synced" in run.stderr
    assert run.stderr.count("stale, remove it") == 1 and "'gone'" in run.stderr
    assert [e["entry"] for e in run.json["suppressions"]["synced"]] == [1]


def test_when_the_ignored_defects_cannot_be_read_the_entry_stays_stale(tmp_path):
    conf = toml(tmp_path / "s.toml", f'defect_id = "gone"\nreason = "fixed"\nuntil = {soon()}')
    with fake_with_two_majors() as api:
        api.defect_api.status_faults = {2: [defect_error_step()] * 9}
        run = gate(api, tmp_path, "--suppressions", conf)
    assert run.code == 1 and "stale, remove it" in run.stderr
    assert "could not be read to tell synced entries" in run.stderr


HOSTILE = st.lists(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
    | st.sampled_from(["\n", "\r", "::error::x", "%0A", "<b>", "`", "|", "]]>", "\x1b[2J"]),
    min_size=1,
    max_size=6,
).map("".join)


@settings(max_examples=40, deadline=None)
@given(reason=HOSTILE, job=HOSTILE, rule=HOSTILE)
def test_hostile_text_of_entries_and_baselines_is_escaped_in_every_output(reason, job, rule):
    secret = "s3cr3t-VALUE-0xyz"
    entry = Suppression(1, reason + secret, TODAY, rule=rule + secret, source="f")
    stale = Suppression(2, secret + reason, TODAY, defect_id=secret)
    ledger = Ledger((entry, stale), today=TODAY, secrets=(secret,))
    ledger.mark(defect(checker=rule + secret))
    payload = {"job_id": job + secret, "counts": {"major": 0}}
    baseline = baseline_of_json(json.dumps(payload).encode(), "p" + secret)
    verdict = evaluate(Report({"major": 1}), build_policy([("major", 5)]), baseline=baseline)
    verdict = replace(verdict, defects=digest(major=1))
    verdict = with_suppressions(verdict, ledger.outcome()).redacted((secret,))
    texts = {name: render(name, verdict) for name in ("console", "summary", "json", "junit")}
    ET.fromstring(texts["junit"].encode("utf-8"))
    json.loads(texts["json"])
    lines = annotation_lines(verdict)
    assert all(line.startswith("::") and "\n" not in line for line in lines)
    for text in [*texts.values(), *lines]:
        assert secret not in text


@pytest.mark.schema
def test_the_sarif_with_suppressions_passes_the_schema_and_the_multitool(require_tool, tmp_path):
    from test_consumer_files import multitool_errors
    from validators import json_validator

    tool = require_tool("sarif-multitool")
    conf = toml(tmp_path / "s.toml", f'rule = "cxx_checker_1"\nreason = "r <b>"\nuntil = {soon()}')
    out = tmp_path / "out"
    out.mkdir()
    with fake_with_two_majors() as api:
        run = gate(api, out, "--suppressions", conf)
    assert run.code == 1, run.stderr
    sarif = json.loads((out / "d.sarif").read_text(encoding="utf-8"))
    json_validator("sarif-2.1.0.json").validate(sarif)
    assert [r.get("suppressions") for r in sarif["runs"][0]["results"]].count(None) == 1
    assert multitool_errors(tool, [out / "d.sarif"], tmp_path) == []


def test_a_failed_sync_is_a_warning_and_the_verdict_stands(tmp_path):
    conf = toml(tmp_path / "s.toml", f'rule = "cxx_checker_1"\nreason = "r"\nuntil = {soon()}')
    with fake_with_two_majors() as api:
        api.inject("defect-status", defect_error_step("CC.00050010", "no permission"))
        run = gate(api, tmp_path, "--suppressions", conf, "--sync-suppressions=apply")
    assert run.code == 1 and "marking the defects ignored failed" in run.stderr
    assert "CC.00050010" in run.stderr and api.status_changes == []


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"suppressions": "s.toml", "task_id": None, "job_id": "j1"}, "needs --task-id"),
        ({"suppressions": "s.toml", "report_file": "r.json"}, "needs --task-id"),
        ({"sync_suppressions": "sometimes"}, "takes no value"),
    ],
)
def test_suppression_usage_errors(raw, words):
    options = {"task_id": TASK, "token": "t" * 20, **raw}
    with pytest.raises(UsageError, match=words):
        build_settings(RawOptions(**options))


def test_a_severity_not_fetched_keeps_the_reports_count_and_says_so():
    ledger = Ledger(entries({"rule": "cxx_1", "reason": "ok", "until": "2027-01-01"}), TODAY)
    fetched = DefectDigest(("critical",), 0, 0, {})
    judged = with_suppressions(verdict_of(Check("major", 0, 2), defects=fetched), ledger.outcome())
    assert judged.checks[0].actual == 2 and "were not fetched" in judged.checks[0].note
    assert judged.outcome is Outcome.FAILED


def test_change_scope_says_how_many_suppressed_defects_each_check_left_out():
    baseline_note = "judged on the change's lines: the baseline's count is not compared"
    checks = (
        Check("major", 0, 0, note=baseline_note),
        Check("new", 0, 1),
        Check("files", 10, 3),
        Check("critical", 0, 0),
    )
    outcome = SuppressionOutcome(entries=2, suppressed={"major": 2})
    judged = with_change_suppressions(
        Verdict(Outcome.PASSED, checks), outcome, {"major": 2, "minor": 1}
    )
    major, new, files, critical = judged.checks
    assert major.note == f"{baseline_note}; 2 suppressed defects on the change's lines not counted"
    assert new.note == "3 suppressed defects on the change's lines not counted"  # new is lowered
    assert files.note is None and critical.note is None
    assert judged.suppression is outcome and judged.outcome is Outcome.PASSED
