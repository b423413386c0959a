"""Several tasks in one step: ``--task-id a,b,c`` or ``[[tasks]]``, run at once against the
local fake, one combined verdict, every task kept apart in every output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fakeapi import FakeCodeArts, json_step, report_step
from gaterun import GATE, clean_env, parse_output_file, run_gate

from gate.api.tasklist import all_tasks, ci_repository, normalised
from gate.core import Outcome, TaskVerdict, Verdict, combine_tasks, error_verdict
from gate.errors import ExitCode, NetworkError, ServiceError
from gate.settings import RawOptions, build_settings

PASS = {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0, "minor": 60}
FAIL = {"critical": 2, "major": 0, "UNRESOLVED_ADD": 0, "minor": 0}
SERVICE_ERROR = json_step(200, {"error_code": "CC.00050013", "error_msg": "project not exist"})


def three_tasks(api: FakeCodeArts, outcomes: dict[str, object]) -> None:
    for task_id, outcome in outcomes.items():
        api.add_task(task_id, length=0.0)
        api.task_reports[task_id] = (
            outcome if not isinstance(outcome, dict) else report_step(outcome)
        )


def gate(api: FakeCodeArts, folder: Path, *args: str, **env: str):
    variables = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, **env)
    return run_gate(folder, *args, env=variables)


def test_three_tasks_pass_fail_and_service_error_fail_the_step(fake_api, tmp_path, junit_xsd):
    three_tasks(fake_api, {"svc-a": PASS, "svc-b": FAIL, "svc-c": SERVICE_ERROR})
    output = tmp_path / "gh-output"
    run = gate(
        fake_api,
        tmp_path,
        "--task-id",
        "svc-a,svc-b,svc-c",
        "--run",
        "--warn",
        "minor=50",
        "--max",
        "minor=100",
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(output),
    )
    assert run.code == 1, run.stderr
    assert "verdict: FAILED (1 of 3 tasks failed, 1 of 3 tasks without a verdict)" in run.stdout
    assert len(fake_api.task_requests("run")) == 3  # each task ran its own scan
    data = run.json
    assert data["verdict"] == "failed" and data["exit_code"] == 1
    tasks = {t["name"]: t for t in data["tasks"]}
    assert [tasks[n]["verdict"] for n in ("svc-a", "svc-b", "svc-c")] == [
        "passed",
        "failed",
        "error",
    ]
    assert tasks["svc-a"]["warnings"][0]["metric"] == "minor"
    assert "CC.00050013" in tasks["svc-c"]["error"]["message"]
    root = run.junit
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root] == [f"codearts-gate.svc-{x}" for x in "abc"]
    assert (root.get("failures"), root.get("errors")) == ("1", "1")
    if junit_xsd is not None:
        junit_xsd.validate(str(tmp_path / "junit.xml"))
    summary = run.summary
    assert summary.startswith("## ❌ CodeArts Check gate failed")
    assert (
        "| svc-b | `svc-b` | FAILED" in summary and "### ✅ svc-a passed with 1 warning" in summary
    )
    values = parse_output_file(output.read_text(encoding="utf-8"))
    assert values["verdict"] == "failed"
    assert [t["verdict"] for t in json.loads(values["tasks"])] == ["passed", "failed", "error"]
    assert "::error title=CodeArts Check gate [svc-b]%3A critical over its maximum" in run.stdout
    opened = [
        line for line in run.stdout.splitlines() if line.startswith(("::group::", "::endgroup::"))
    ]
    assert (
        opened
        and all(  # groups never nest: the runner cannot show that
            a.startswith("::group::") and b == "::endgroup::"
            for a, b in zip(opened[::2], opened[1::2], strict=True)
        )
    )


@pytest.mark.parametrize(
    ("outcomes", "code"),
    [
        ({"t1": PASS, "t2": PASS, "t3": PASS}, 0),
        ({"t1": PASS, "t2": SERVICE_ERROR, "t3": PASS}, 4),
        ({"t1": FAIL, "t2": SERVICE_ERROR, "t3": PASS}, 1),
    ],
)
def test_the_combined_exit_code(fake_api, tmp_path, outcomes, code):
    three_tasks(fake_api, outcomes)
    run = gate(fake_api, tmp_path, "--task-id", ",".join(outcomes))
    assert run.code == code, run.stdout + run.stderr
    assert len(run.json["tasks"]) == 3


def test_tasks_tables_with_their_own_thresholds(fake_api, tmp_path):
    three_tasks(fake_api, {"id-web": FAIL, "id-api": FAIL})
    config = tmp_path / "codearts-gate.toml"
    config.write_text(
        "max-critical = 0\n\n"
        '[[tasks]]\nid = "id-web"\nname = "web"\npath = "services/web"\nmax-critical = 5\n\n'
        '[[tasks]]\nid = "id-api"\nname = "api"\n',
        encoding="utf-8",
    )
    run = gate(fake_api, tmp_path, CODEARTS_CONFIG=str(config))
    tasks = {t["name"]: t for t in run.json["tasks"]}
    assert tasks["web"]["verdict"] == "passed" and tasks["web"]["path"] == "services/web"
    assert tasks["api"]["verdict"] == "failed" and run.code == 1
    flagged = gate(fake_api, tmp_path, "--max-critical", "9", CODEARTS_CONFIG=str(config))
    assert flagged.code == 0  # a flag beats every task's own threshold


def test_a_task_id_variable_beats_the_files_tables(fake_api, tmp_path):
    three_tasks(fake_api, {"only": PASS})
    config = tmp_path / "codearts-gate.toml"
    config.write_text('[[tasks]]\nid = "other"\n', encoding="utf-8")
    run = gate(fake_api, tmp_path, CODEARTS_CONFIG=str(config), CODEARTS_TASK_ID="only")
    assert run.code == 0 and "tasks" not in run.json


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[tasks]]\nname = "x"\n', "needs its 'id'"),
        ('[[tasks]]\nid = "a"\nendpoint = "https://x"\n', "is not id, name, path or a threshold"),
        ('[[tasks]]\nid = "a"\nmax-majr = 1\n', "did you mean 'max-major'"),
        ('[[tasks]]\nid = "a"\n[[tasks]]\nid = "a"\n', "same id"),
        ('[[tasks]]\nid = "a"\nname = "../x"\n', "task name"),
        ('tasks = "a"\n', "must be [[tasks]] tables"),
        ('task-id = "a"\n[[tasks]]\nid = "b"\n', "both task-id and [[tasks]]"),
    ],
)
def test_bad_task_tables_are_exit_2(tmp_path, text, message):
    config = tmp_path / "codearts-gate.toml"
    config.write_text(text, encoding="utf-8")
    run = run_gate(tmp_path, "--token", "t" * 20, env=clean_env(CODEARTS_CONFIG=str(config)))
    assert run.code == 2 and message in run.stderr, run.stderr


@pytest.mark.parametrize(
    "extra",
    [{"job_id": "j"}, {"report_file": "r.json"}, {"check": True}],
)
def test_what_several_tasks_cannot_do_yet_is_a_usage_error(extra):
    with pytest.raises(Exception, match="several tasks"):
        build_settings(RawOptions(task_id="a,b", token="t" * 20, **extra))


def test_combine_tasks_failure_wins_then_no_verdict():
    passed = Verdict(Outcome.PASSED)
    failed = Verdict(Outcome.FAILED)
    missing = error_verdict(NetworkError("down"))
    cases = [
        ((passed, passed), ExitCode.PASSED),
        ((passed, missing), ExitCode.NO_VERDICT),
        ((failed, missing, passed), ExitCode.GATE_FAILED),
    ]
    for verdicts, code in cases:
        tasks = tuple(TaskVerdict(f"t{i}", f"t{i}", None, v) for i, v in enumerate(verdicts))
        assert combine_tasks(tasks).exit_code is code


def test_the_help_and_junit_stay_valid_for_one_task(tmp_path, junit_xsd):
    report = tmp_path / "r.json"
    report.write_text(json.dumps(PASS), encoding="utf-8")
    run = run_gate(tmp_path, "--report-file", str(report), env=clean_env())
    assert run.junit.tag == "testsuite" and "tasks" not in run.json
    assert GATE.exists() and ET.tostring(run.junit)


# ------------------------------------------------------------------ --tasks-for-repo

REPO_FORMS = [
    "https://codehub.example/acme/app.git",
    "https://codehub.example/acme/app",
    "https://CodeHub.Example/acme/app/",
    "http://ci-bot@codehub.example/acme/app.git",
    "https://codehub.example:8443/acme/app.git",
    "ssh://git@codehub.example:2222/acme/app.git",
    "git@codehub.example:acme/app.git",
    "codehub.example:acme/app",
]


@pytest.mark.parametrize("form", REPO_FORMS)
def test_every_url_form_of_a_repository_normalises_the_same(form):
    assert normalised(form) == "codehub.example/acme/app"


@pytest.mark.parametrize(
    "other",
    ["https://codehub.example/acme/app2.git", "git@other.example:acme/app.git", "", "app", "/x"],
)
def test_other_repositories_and_non_urls_do_not_match(other):
    assert normalised(other) != "codehub.example/acme/app"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/app"},
            "https://github.com/acme/app",
        ),
        ({"CI_PROJECT_URL": "https://gitlab.example/acme/app"}, "https://gitlab.example/acme/app"),
        ({"GIT_URL": "git@codehub.example:acme/app.git"}, "git@codehub.example:acme/app.git"),
        ({}, None),
    ],
)
def test_the_ci_repository_of_github_gitlab_and_jenkins(env, expected):
    found = ci_repository(env)
    assert (found and found[0]) == expected


def discover(api: FakeCodeArts, folder: Path, **env: str):
    """The gate finding this repository's tasks of the fake's CodeArts project."""
    project = ["--console-project-id", api.console_project_id]
    return gate(api, folder, "--tasks-for-repo", *project, **env)


@pytest.mark.parametrize("offset_means", ["row", "page"])
def test_tasks_for_repo_gates_the_tasks_of_this_repository(fake_api, tmp_path, offset_means):
    fake_api.task_list_offset_means = offset_means
    for index in range(130):  # more than one page of the task list
        fake_api.add_task(f"other-{index}", git_url=f"https://codehub.example/acme/other{index}")
    fake_api.add_task("mine-ssh", git_url="git@codehub.example:acme/app.git")
    fake_api.add_task("mine-https", git_url="https://CODEHUB.example/acme/app")
    for task_id in ("mine-ssh", "mine-https"):
        fake_api.task_reports[task_id] = report_step(PASS)
    run = discover(fake_api, tmp_path, CI_PROJECT_URL="https://codehub.example/acme/app")
    assert run.code == 0, run.stderr
    assert sorted(t["task_id"] for t in run.json["tasks"]) == ["mine-https", "mine-ssh"]


def test_tasks_for_repo_without_a_match_is_exit_2_naming_what_was_compared(fake_api, tmp_path):
    fake_api.add_task("t1", git_url="https://codehub.example/acme/other.git")
    run = discover(fake_api, tmp_path, GIT_URL="git@codehub.example:acme/app.git")
    assert run.code == 2
    assert "none of the 1 tasks" in run.stderr and "codehub.example/acme/app" in run.stderr
    assert "from GIT_URL" in run.stderr and run.json["error"]["kind"] == "usage"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--tasks-for-repo"], {"GIT_URL": "git@h:a/b"}, "--console-project-id"),
        (["--tasks-for-repo", "--console-project-id", "p1"], {}, "repository URL"),
        (["--tasks-for-repo", "--task-id", "t"], {}, "drop --task-id"),
    ],
)
def test_tasks_for_repo_usage_errors(fake_api, tmp_path, args, env, message):
    run = gate(fake_api, tmp_path, *args, **env)
    assert run.code == 2 and message in run.stderr, run.stderr


def test_the_task_list_pager_ends_on_a_service_that_repeats_itself():
    calls = []

    def page(offset: int) -> object:
        calls.append(offset)
        return {"total": 1000, "tasks": [{"task_id": "same", "git_url": "x"}]}

    assert [t.task_id for t in all_tasks(page)] == ["same"]
    assert calls == [0, 100, 1]  # each reading stops at a page that adds nothing


def test_a_task_list_that_is_not_an_object_is_a_service_error():
    with pytest.raises(ServiceError):
        all_tasks(lambda _offset: ["x"])
