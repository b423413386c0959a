"""Baselines (issue 16): parsing each source, judging growth in the pure core, and the
ratchet pipeline end to end against the local fake (the real gate subprocess)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from fakeapi import PASS_REPORT, FakeCodeArts, _cc_body, json_step, report_step
from gaterun import clean_env, run_gate

from gate.baseline import Baseline, baseline_of_json, previous_record, spec_of
from gate.core import Outcome, evaluate, without_baseline
from gate.errors import BaselineError, UsageError
from gate.policy import build_policy
from gate.records import History, Record
from gate.report import Report
from gate.settings import RawOptions, build_settings

TASK = "7c0ffee0000000000000000000000016"
NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)


def report(**counts):
    return Report({"critical": 0, "major": 0, "UNRESOLVED_ADD": 0, **counts})


def base(**counts):
    return Baseline(counts, "file", "job j, from file:old.json", job_id="j")


def test_growth_fails_and_every_check_shows_its_delta():
    policy = build_policy([("critical", 0), ("major", None)], [("major", 0)])
    verdict = evaluate(report(major=4), policy, baseline=base(critical=0, major=2))
    major = verdict.checks[1]
    assert verdict.outcome is Outcome.FAILED and not major.passed
    assert major.shown() == "4 (+2 since the baseline)" and major.delta == 2
    assert major.why_failed() == "grew by 2 since the baseline > allowed +0"
    assert major.limits() == "off, +0 since the baseline"


def test_a_count_that_shrank_passes_the_ratchet():
    policy = build_policy([("major", None)], [("major", 0)])
    verdict = evaluate(report(major=3), policy, baseline=base(major=5))
    assert verdict.outcome is Outcome.PASSED and verdict.checks[0].delta == -2
    assert verdict.checks[0].shown() == "3 (-2 since the baseline)"


def test_the_maximum_still_fails_without_growth():
    policy = build_policy([("major", 2)], [])
    verdict = evaluate(report(major=4), policy, baseline=base(major=4))
    assert verdict.outcome is Outcome.FAILED
    assert verdict.checks[0].why_failed() == "4 > maximum 2"


def test_default_increase_is_0_once_a_baseline_is_given_and_off_turns_it_off():
    verdict = evaluate(report(major=1), build_policy([("major", 5)]), baseline=base(major=0))
    assert verdict.outcome is Outcome.FAILED and verdict.checks[0].max_increase == 0
    policy = build_policy([("major", 5)], [("major", None)])
    assert evaluate(report(major=1), policy, baseline=base(major=0)).outcome is Outcome.PASSED


def test_a_count_the_baseline_lacks_is_judged_on_its_maximum_and_says_so():
    verdict = evaluate(report(UNRESOLVED_ADD=0), build_policy([("new", 0)]), baseline=base(major=1))
    check = verdict.checks[0]
    assert check.passed and check.note and "judged on its maximum alone" in check.note
    ratchet_only = build_policy([("new", None)], [("new", 0)])
    verdict = evaluate(report(UNRESOLVED_ADD=0), ratchet_only, baseline=base(major=1))
    assert verdict.outcome is Outcome.ERROR and "cannot be judged" in verdict.error.message


def test_a_missing_baseline_is_no_verdict_unless_optional():
    verdict = evaluate(report(), build_policy([("major", 0)]))
    err = BaselineError("--baseline previous: none")
    missing = without_baseline(verdict, err, optional=False)
    assert missing.outcome is Outcome.ERROR and int(missing.exit_code) == 4
    optional = without_baseline(verdict, err, optional=True)
    assert optional.outcome is Outcome.PASSED and "--baseline-optional" in optional.baseline_note


def record(hours_ago: float, seconds: float | None, major: int) -> Record:
    start = NOW - timedelta(hours=hours_ago)
    end = None if seconds is None else start + timedelta(seconds=seconds)
    return Record(start, end, {"critical": 0, "major": major})


def test_previous_is_the_last_finished_scan_before_the_gated_one():
    history = History((record(5, 60, 1), record(3, 60, 2), record(1, 60, 3), record(0, None, 9)))
    assert previous_record(history, NOW, latest_is_gated=False).counts["major"] == 3
    assert previous_record(history, NOW - timedelta(hours=2), False).counts["major"] == 2
    assert previous_record(history, None, latest_is_gated=True).counts["major"] == 2
    with pytest.raises(BaselineError, match="no finished scan before"):
        previous_record(History((record(1, 60, 3),)), None, latest_is_gated=True)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (b"", "not JSON"),
        (b"[1]", "has no 'counts'"),
        (b'{"counts": {}, "checks": []}', "holds no count"),
        (b'{"counts": {"major": -1, "minor": "3"}}', "holds no count"),
        (b"\xff", "not JSON"),
    ],
)
def test_a_malformed_json_baseline_is_a_baseline_error(text, error):
    with pytest.raises(BaselineError, match=error):
        baseline_of_json(text, "old.json")


def test_a_json_baseline_prefers_the_judged_counts():
    data = {"job_id": "j1", "counts": {"major": 7, "critical": 1}, "checks": [
        {"metric": "major", "actual": 5}, {"metric": "x", "actual": 1}]}  # fmt: skip
    baseline = baseline_of_json(json.dumps(data).encode(), "old.json")
    assert baseline.counts == {"major": 5, "critical": 1} and baseline.job_id == "j1"
    assert baseline.label == "job j1, from file:old.json"


@pytest.mark.parametrize("text", ["prev", "job:", "file:", "job:bad id!", "latest"])
def test_bad_baseline_options_are_usage_errors(text):
    raw = RawOptions(task_id=TASK, token="t" * 20, baseline=text)
    with pytest.raises(UsageError):
        build_settings(raw)


def test_max_increase_without_a_baseline_is_a_usage_error():
    with pytest.raises(UsageError, match="set --baseline"):
        build_settings(RawOptions(task_id=TASK, token="t" * 20, max_increase=("major=0",)))
    assert spec_of("previous").kind == "previous" and spec_of("") is None


# ------------------------------------------------------------------ end to end


def gate(api, tmp_path, *args, **env):
    base_env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_TASK_ID=TASK)
    return run_gate(tmp_path, *args, env={**base_env, **env})


RATCHET = (
    "--max-major",
    "off",
    "--max-critical",
    "off",
    "--max-new",
    "off",
    "--max-increase",
    "major=0",
)


def previous_rows(major):
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    end = start + timedelta(seconds=30)
    return [
        {
            "check_time": start.strftime("%Y-%m-%d %H:%M:%S"),  # a space, no zone
            "check_end_time": end.strftime("%Y-%m-%dT%H:%M:%S+00:00"),  # an offset
            "issue_counts": {"critical": "0", "serious": str(major), "normal": 3, "prompt": 1},
        }
    ]


@pytest.mark.parametrize(("before", "now", "code"), [(4, 4, 0), (5, 4, 0), (2, 4, 1)])
def test_ratchet_pipeline_fails_on_growth_only(tmp_path, before, now, code):
    with FakeCodeArts() as api:
        api.add_task(TASK, length=0.5, history=previous_rows(before))
        api.tasks[TASK].counts["serious"] = now
        api.scenario = [report_step({**PASS_REPORT, "major": now, "CRITICAL": now})]
        run = gate(api, tmp_path, "--run", "--baseline", "previous", *RATCHET,
                   "--console-project-id", api.console_project_id)  # fmt: skip
    assert run.code == code, run.stderr
    delta = f"{now - before:+d} since the baseline"
    assert f"{now} ({delta})" in run.stdout and f"{now} ({delta})" in run.summary
    [major] = [c for c in run.json["checks"] if c["metric"] == "major"]
    assert major["delta"] == now - before and major["max"] is None
    assert run.json["baseline"]["source"] == "checkrecord"
    assert "previous scan (started" in run.summary and "previous scan" in run.stdout
    props = {p.get("name"): p.get("value") for p in run.junit.iter("property")}
    assert "previous scan" in props["baseline"]


def test_a_baseline_that_cannot_be_had_is_exit_4_or_said_with_optional(tmp_path):
    with FakeCodeArts() as api:
        api.add_task(TASK, length=0.5)
        api.scenario = "pass"
        run = gate(api, tmp_path, "--run", "--baseline", "previous",
                   "--console-project-id", api.console_project_id)  # fmt: skip
        assert run.code == 4 and "no finished scan before the gated one" in run.stderr
        assert run.json["error"]["kind"] == "baseline"
        optional = gate(api, tmp_path, "--run", "--baseline", "previous", "--baseline-optional",
                        "--console-project-id", api.console_project_id)  # fmt: skip
    assert optional.code == 0, optional.stderr
    assert "--baseline-optional" in optional.stdout and "--baseline-optional" in optional.summary
    assert "judged on the thresholds alone" in optional.json["baseline"]["missing"]


def test_a_refused_history_is_no_verdict_naming_the_error(tmp_path):
    with FakeCodeArts() as api:
        api.add_task(TASK, length=0.5)
        api.inject("checkrecord", json_step(200, _cc_body("CC.00050010", "no permission")))
        run = gate(api, tmp_path, "--run", "--baseline", "previous",
                   "--console-project-id", api.console_project_id)  # fmt: skip
    assert run.code == 4 and "CC.00050010" in run.stderr
    assert "--baseline previous: the task's scan history could not be read" in run.stderr
    assert len(api.task_requests("checkrecord")) == 1  # not asked twice


def test_job_baseline_refreshes_that_job(tmp_path):
    with FakeCodeArts() as api:
        api.scenario = [report_step({**PASS_REPORT, "major": 3, "CRITICAL": 3}),
                        report_step({**PASS_REPORT, "major": 1, "CRITICAL": 1})]  # fmt: skip
        run = gate(api, tmp_path, "--job-id", "j" * 32, "--baseline", "job:" + "b" * 32,
                   "--max-major", "10", "--max-new", "off")  # fmt: skip
        paths = [r.path for r in api.requests if "refresh" in r.path]
    assert paths[-1] == f"/v1/jobs/{'b' * 32}/result/refresh"
    assert run.code == 1 and "3 (+2 since the baseline)" in run.stdout
    assert run.json["baseline"]["job_id"] == "b" * 32


def test_file_baseline_from_a_previous_json_output(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "base.json").write_text(json.dumps({"job_id": "main-1", "counts": {"major": 4}}))
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps({"result": {**PASS_REPORT, "major": 4, "CRITICAL": 4}}))
    new = tmp_path / "new"
    new.mkdir()
    run = run_gate(new, "--report-file", str(report_file), "--baseline", f"file:{old}/base.json",
                   *RATCHET, env=clean_env())  # fmt: skip
    assert run.code == 0, run.stderr
    assert "4 (+0 since the baseline)" in run.stdout and "job main-1" in run.summary
    missing = run_gate(new, "--report-file", str(report_file), "--baseline", "file:nope.json",
                       *RATCHET, env=clean_env())  # fmt: skip
    assert missing.code == 4 and "cannot be read" in missing.stderr


def test_the_variables_configure_the_baseline_as_the_flags_do(tmp_path):
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps({"result": {**PASS_REPORT, "major": 3, "CRITICAL": 3}}))
    (tmp_path / "base.json").write_text(json.dumps({"counts": {"major": 1}}))
    env = clean_env(
        CODEARTS_REPORT_FILE=str(report_file),
        CODEARTS_BASELINE=f"file:{tmp_path}/base.json",
        CODEARTS_MAX="major=off,critical=off,new=off",
        CODEARTS_MAX_INCREASE="major=1",
    )
    out = tmp_path / "out"
    out.mkdir()
    run = run_gate(out, env=env)
    assert run.code == 1 and "grew by 2 since the baseline" in run.everything()
    optional = {"CODEARTS_BASELINE": "file:none.json", "CODEARTS_BASELINE_OPTIONAL": "true"}
    missing = run_gate(out, env={**env, **optional})
    assert missing.code == 0 and "--baseline-optional" in missing.stdout


def test_task_id_alone_compares_with_the_record_before_the_latest(tmp_path):
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    rows = [
        {"check_time": (start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "check_end_time": (start + timedelta(hours=h, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "issue_counts": {"critical": 0, "serious": major, "normal": 0, "prompt": 0}}
        for h, major in ((0, 9), (1, 1), (2, 3))
    ]  # fmt: skip
    with FakeCodeArts() as api:
        api.add_task(TASK, history=rows, history_order="given")
        api.scenario = [report_step({**PASS_REPORT, "major": 3, "CRITICAL": 3})]
        run = gate(api, tmp_path, "--baseline", "previous", "--max-major", "5",
                   "--console-project-id", api.console_project_id)  # fmt: skip
    assert run.code == 1 and "3 (+2 since the baseline)" in run.stdout, run.stderr
    assert run.json["scan"]["source"] == "latest"


def test_previous_outside_the_task_flow_reads_the_history_with_the_project_or_says_why(tmp_path):
    with FakeCodeArts() as api:
        now = datetime.now(timezone.utc) - timedelta(minutes=5)
        latest = dict(previous_rows(7)[0], check_time=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        latest["check_end_time"] = (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        api.add_task(TASK, history=[*previous_rows(2), latest])  # the latest is the gated job
        api.scenario = [report_step({**PASS_REPORT, "major": 2, "CRITICAL": 2})]
        args = ("--job-id", "j" * 32, "--baseline", "previous", *RATCHET)
        run = gate(api, tmp_path, *args, "--console-project-id", api.console_project_id)
        assert run.code == 0 and "2 (+0 since the baseline)" in run.stdout, run.stderr
        unknown = gate(api, tmp_path, *args)
    assert unknown.code == 4 and "needs the CodeArts project" in unknown.stderr


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"report_file": "r.json", "baseline": "previous"}, "use file:PATH offline"),
        ({"report_file": "r.json", "baseline": "job:abc"}, "use file:PATH offline"),
        ({"baseline": "previous", "task_id": None, "job_id": "j1"}, "set --task-id"),
        ({"max_increase": ("major=x",), "baseline": "previous"}, "--max-increase major"),
        ({"max_increase": ("nope=1",), "baseline": "previous"}, "unknown metric"),
    ],
)
def test_baseline_usage_errors(raw, words):
    options = {"task_id": TASK, "token": "t" * 20, **raw}
    with pytest.raises(UsageError, match=words):
        build_settings(RawOptions(**options))
