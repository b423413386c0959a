"""A mode given by a flag beats every conflicting mode given by a variable: every
(flag, variable) pair of the mode settings, each with the mode that results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gaterun import clean_env, run_gate

from gate.errors import UsageError
from gate.settings import MODES, RawOptions, Settings, build_settings, flags_beat_variables

TOKEN = "MIIEtoken-for-the-tests"
FLAG_JOB, VAR_JOB = "f1a9" * 8, "0a2b" * 8
FLAG_TASK, VAR_TASK = "flagtask", "vartask"
VARIABLES = ("run", "wait", "job_id", "task_id", "report_file")  # --check has no variable


def value_of(name: str, report: str, *, from_flag: bool) -> object:
    """What the option holds when given as a flag or as its variable."""
    values = {
        "run": "true",
        "wait": "true",
        "job_id": FLAG_JOB if from_flag else VAR_JOB,
        "task_id": FLAG_TASK if from_flag else VAR_TASK,
        "report_file": report,
        "check": True,
    }
    return values[name]


def mode_of(settings: Settings) -> str:
    """How the built settings find the scan, in one word (and the ids they use)."""
    if settings.check:
        return f"check job={settings.job_id} task={settings.task_id or '-'}"
    if settings.report_file:
        return "file"
    task = settings.task_id or "-"
    if settings.run:
        return f"run task={task}"
    if settings.wait:
        return f"wait job={settings.job_id} task={task}"
    if settings.task_flow:
        return f"latest task={task}"
    return f"job={settings.job_id} task={task}"


# (flag, variable) -> (the mode options that survive, the resulting mode). "usage" where
# what survives is incomplete or contradictory: a usage error (exit 2), never a pass.
EXPECTED = {
    ("run", "wait"): ({"run"}, "usage"),  # --run needs a task
    ("run", "job_id"): ({"run"}, "usage"),
    ("run", "task_id"): ({"run", "task_id"}, f"run task={VAR_TASK}"),
    ("run", "report_file"): ({"run"}, "usage"),
    ("wait", "run"): ({"wait"}, "usage"),  # --wait needs a task
    ("wait", "job_id"): ({"wait", "job_id"}, "usage"),
    ("wait", "task_id"): ({"wait", "task_id"}, f"wait job=None task={VAR_TASK}"),
    ("wait", "report_file"): ({"wait"}, "usage"),
    ("job_id", "run"): ({"job_id"}, f"job={FLAG_JOB} task=-"),
    ("job_id", "wait"): ({"job_id", "wait"}, "usage"),  # waiting needs the task
    ("job_id", "task_id"): ({"job_id", "task_id"}, f"job={FLAG_JOB} task={VAR_TASK}"),
    ("job_id", "report_file"): ({"job_id"}, f"job={FLAG_JOB} task=-"),
    ("task_id", "run"): ({"task_id", "run"}, f"run task={FLAG_TASK}"),
    ("task_id", "wait"): ({"task_id", "wait"}, f"wait job=None task={FLAG_TASK}"),
    ("task_id", "job_id"): ({"task_id", "job_id"}, f"job={VAR_JOB} task={FLAG_TASK}"),
    ("task_id", "report_file"): ({"task_id"}, f"latest task={FLAG_TASK}"),  # issue 17
    ("report_file", "run"): ({"report_file"}, "file"),
    ("report_file", "wait"): ({"report_file"}, "file"),
    ("report_file", "job_id"): ({"report_file"}, "file"),
    ("report_file", "task_id"): ({"report_file"}, "file"),  # offline: no task to ask
    ("check", "run"): ({"check", "run"}, "usage"),  # --check of a run needs the task
    ("check", "wait"): ({"check", "wait"}, "usage"),
    ("check", "job_id"): ({"check", "job_id"}, f"check job={VAR_JOB} task=-"),
    ("check", "task_id"): ({"check", "task_id"}, f"check job=None task={VAR_TASK}"),
    ("check", "report_file"): ({"check"}, "usage"),  # --check needs a job id or task
}


def test_the_table_covers_every_flag_variable_pair():
    pairs = {(flag, var) for flag in MODES for var in VARIABLES if flag != var}
    assert set(EXPECTED) == pairs


@pytest.fixture
def report(tmp_path: Path) -> str:
    path = tmp_path / "stale.json"
    failing = {"CRITICAL": 7, "MAJOR": 0, "UNRESOLVED_ADD": 0}  # judged, it would exit 1
    path.write_text(json.dumps({"status": "success", "result": failing}), encoding="utf-8")
    return str(path)


PAIRS = sorted(EXPECTED)


@pytest.mark.parametrize(("flag", "variable"), PAIRS, ids=[f"--{f}-vs-{v}" for f, v in PAIRS])
def test_a_mode_flag_beats_every_conflicting_mode_variable(flag, variable, report):
    survivors, expected = EXPECTED[(flag, variable)]
    raw = RawOptions(
        token=TOKEN,
        branch="",
        **{flag: value_of(flag, report, from_flag=True)},
        **{variable: value_of(variable, report, from_flag=False)},
        from_env=frozenset({variable, "token"}),
    )
    kept = flags_beat_variables(raw)
    assert {name for name in MODES if getattr(kept, name)} == survivors
    try:
        mode = mode_of(build_settings(raw))
    except UsageError:
        mode = "usage"
    assert mode == expected


def test_a_leftover_report_file_variable_never_beats_task_id_given_as_a_flag(
    fake_api_factory, tmp_path, report
):
    """End to end: the stale file (a failing report) is not judged; the task's latest
    report (a passing one) is."""
    api = fake_api_factory(scenario="report")
    env = clean_env(
        CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_REPORT_FILE=report
    )
    run = run_gate(tmp_path, "--task-id", FLAG_TASK, env=env)
    [refresh] = api.requests
    assert refresh.query["task_id"] == [FLAG_TASK]
    assert run.json["scan"]["source"] == "latest" and run.json["scan"]["task_id"] == FLAG_TASK
    assert run.json["counts"]["critical"] == 0 and run.json["exit_code"] == run.code < 2
