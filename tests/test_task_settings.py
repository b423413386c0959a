"""Settings of the task flow (--run, --wait, --branch, ...) and the heartbeat's text."""

from __future__ import annotations

import io
import json
import re

import pytest
from budget import examples
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from test_hardening import FILLER, SECRETS, apart, pieces

from gate import cli, text
from gate.api.tasks import progress_of
from gate.errors import UsageError
from gate.heartbeat import Heartbeat
from gate.settings import (
    DEFAULT_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    RawOptions,
    branch_of,
    build_settings,
    console_project_of,
)
from gate.waiting import Progress

TASK = "7c0ffee0000000000000000000000001"
PROJECT = "5e1f0c0ffee0000000000000c0dec4ec"


def build(**changes: object):
    return build_settings(
        RawOptions(**{"token": "MIIEtoken-for-the-tests", "task_id": TASK, **changes})
    )


@pytest.mark.parametrize(
    ("changes", "timeout"),
    [
        ({"run": "true", "branch": ""}, DEFAULT_WAIT_TIMEOUT),
        ({"wait": "yes"}, DEFAULT_WAIT_TIMEOUT),
        ({"run": "true", "branch": "", "timeout": "60"}, 60.0),
        ({}, DEFAULT_TIMEOUT),
    ],
)
def test_run_and_wait_default_to_a_timeout_long_enough_for_a_scan(changes, timeout):
    assert build(**changes).timeout == timeout


def test_task_id_alone_needs_no_job_id_and_is_a_task_flow():
    settings = build()
    assert settings.job_id is None and settings.task_flow and not settings.wait


def test_job_id_with_task_id_keeps_the_documented_refresh():
    settings = build(job_id="ab" * 16)
    assert not settings.task_flow


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("1", True), ("on", True), ("false", False), ("0", False)],
)
def test_flag_variables_read_true_and_false(text, value):
    assert build(wait=text).wait is value


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"run": "maybe"}, "--run/CODEARTS_RUN must be true or false"),
        ({"cancel_on_timeout": "2"}, "CODEARTS_CANCEL_ON_TIMEOUT must be true or false"),
        ({"run": "true", "task_id": None, "job_id": "ab" * 16}, "set --task-id .* not --job-id"),
        ({"run": "true", "task_id": None}, "need the task"),
        ({"run": "true", "job_id": "ab" * 16}, "drop --job-id"),
        ({"wait": "true", "report_file": "x.json"}, "drop --report-file"),
        ({"console_project_id": "a b"}, "--console-project-id"),
        ({"run": "true", "branch": "bad\nbranch"}, "not a branch name"),
    ],
)
def test_task_options_are_checked(changes, words):
    with pytest.raises(UsageError, match=words):
        build(**changes)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("main", {"CI_COMMIT_REF_NAME": "x"}, ("main", "--branch/CODEARTS_BRANCH")),
        ("", {"CI_COMMIT_REF_NAME": "x"}, (None, None)),
        (None, {}, (None, None)),
        (
            None,
            {"GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": "", "GITHUB_REF_NAME": "main"},
            ("main", "GITHUB_REF_NAME"),
        ),
        (None, {"CI_COMMIT_REF_NAME": "mr"}, ("mr", "CI_COMMIT_REF_NAME")),
        (None, {"BRANCH_NAME": "PR-3", "CHANGE_BRANCH": "src"}, ("src", "CHANGE_BRANCH")),
        (None, {"BRANCH_NAME": "dev"}, ("dev", "BRANCH_NAME")),
    ],
)
def test_branch_given_or_from_the_ci(text, env, expected):
    assert branch_of(text, env) == expected


@pytest.mark.parametrize(
    ("text", "project"),
    [
        (PROJECT, PROJECT),
        (f"https://devcloud.example/codecheck/project/{PROJECT}/codecheck/task/y/detail", PROJECT),
        (f"https://devcloud.example/codecheck/project/{PROJECT}", PROJECT),
        ("", None),
        (None, None),
    ],
)
def test_console_project_is_an_id_or_the_segment_after_project(text, project):
    assert console_project_of(text) == project


def test_console_url_without_a_project_is_refused():
    with pytest.raises(UsageError):
        console_project_of("https://devcloud.example/codecheck/task/y")


def test_cli_flags_and_variables_reach_the_raw_options(monkeypatch):
    seen: list[RawOptions] = []
    monkeypatch.setattr(cli, "execute", lambda raw: seen.append(raw) or 0)
    runner = CliRunner()
    env = {"CODEARTS_WAIT": "true", "CODEARTS_CANCEL_ON_TIMEOUT": "", "CODEARTS_BRANCH": ""}
    result = runner.invoke(cli.main, ["--run", "--branch", ""], env=env)
    assert result.exit_code == 0, result.output
    raw = seen[-1]
    assert (raw.run, raw.wait, raw.cancel_on_timeout, raw.branch) == ("true", "true", None, "")
    runner.invoke(cli.main, [], env={"CODEARTS_BRANCH": "", "CODEARTS_RUN": "false"})
    assert (seen[-1].branch, seen[-1].run) == (None, "false")


def test_cli_help_lists_the_new_variables():
    text = CliRunner().invoke(cli.main, ["--help"]).output
    for name in ("CODEARTS_RUN", "CODEARTS_WAIT", "CODEARTS_BRANCH", "CODEARTS_CANCEL_ON_TIMEOUT"):
        assert name in text


def test_heartbeat_lines_at_most_every_10_s_first_and_last_always():
    out = io.StringIO()
    beat = Heartbeat(out, TASK, ["s3cret"], live=False)
    beat(None, 1.0)  # no answer yet, too early to say so
    beat(Progress(0, 0.1, "s3cret inside"), 2.0)
    beat(Progress(0, 0.2), 5.0)
    beat(Progress(0, 0.5), 12.5)
    beat(Progress(2, 1.0), 13.0)
    lines = out.getvalue().splitlines()
    assert lines == [
        f"codearts-gate: task {TASK}: checking, 10% (*** inside), 2.0 s elapsed",
        f"codearts-gate: task {TASK}: checking, 50%, 12 s elapsed",
        f"codearts-gate: task {TASK}: check succeeded, 100%, 13 s elapsed",
    ]
    assert beat.tick == 10.0


def test_heartbeat_on_a_terminal_draws_one_live_bar():
    out = io.StringIO()
    beat = Heartbeat(out, TASK, [], live=True)
    beat(Progress(0, 0.5), 3.0)
    beat(Progress(0, 0.75), 4.0)
    beat.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[" + "#" * 18 + "." * 6 + "]" in text and beat.tick == 1.0


@pytest.mark.parametrize(
    ("changes", "env", "expected"),
    [
        ({"run": "true", "wait": "true"}, {"run"}, (False, True, None)),
        ({"run": "true", "job_id": "ab" * 16}, {"run"}, (False, False, "ab" * 16)),
        ({"run": "true", "job_id": "ab" * 16}, {"job_id"}, (True, True, None)),
        ({"run": "true", "wait": "true"}, {"wait"}, (True, True, None)),  # --run waits anyway
    ],
)
def test_a_mode_flag_beats_a_mode_variable(changes, env, expected):
    settings = build(branch="", **changes, from_env=frozenset(env))
    assert (settings.run, settings.wait, settings.job_id) == expected


def test_two_mode_variables_that_disagree_are_still_a_usage_error():
    with pytest.raises(UsageError, match="drop --job-id"):
        build(run="true", job_id="ab" * 16, from_env=frozenset({"run", "job_id"}))


@hyp_settings(max_examples=examples(200), deadline=None)
@given(
    info=st.text() | st.sampled_from(["##[error]x", "\n::error::x", "\x1b[2J", "a\u2028::b"]),
    ratio=st.text(max_size=12) | st.integers() | st.floats(),
    live=st.booleans(),
)
def test_the_heartbeat_never_prints_raw_service_text(info, ratio, live):
    out = io.StringIO()
    beat = Heartbeat(out, TASK, [], live=live)
    beat(progress_of({"task_status": 0, "progress": {"info": info, "ratio": ratio}}), 1.0)
    beat.close()
    text = out.getvalue().replace("\r\x1b[K", "") if live else out.getvalue()
    assert "##[" not in text and text.endswith("\n") and text.count("\n") == 1
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", text[:-1]), text
    assert text.startswith("codearts-gate: " if not live else "[")


@hyp_settings(max_examples=examples(200), deadline=None)
@given(secret=SECRETS, before=st.text("ab/-\n\x01", max_size=120), after=FILLER)
def test_a_bad_branch_is_shown_with_secrets_redacted_before_the_cut(secret, before, after):
    assume(apart(secret, before, after))
    text.use_secrets([secret])
    branch = f"{before}\x07{secret}{after}"
    with pytest.raises(UsageError) as caught:
        branch_of(branch, {})
    shown = caught.value.message.rsplit("): '", 1)[1]  # the rest is the gate's own words
    assert not any(piece in shown for piece in pieces(secret))
    assert "control character" in caught.value.message


def pr_event(tmp_path, head: object, base: str = "org/app") -> dict[str, str]:
    """GitHub Actions variables of a pull request whose head repository is ``head``."""
    event = tmp_path / "event.json"
    pull = {"head": {"repo": head and {"full_name": head}}, "base": {"repo": {"full_name": base}}}
    event.write_text(json.dumps({"pull_request": pull}), encoding="utf-8")
    return {"GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": "main", "GITHUB_EVENT_PATH": str(event)}


@pytest.mark.parametrize("head", ["attacker/app", None])  # a fork, or a deleted fork
def test_a_fork_pull_requests_branch_is_never_taken_for_the_tasks(tmp_path, head):
    """A fork's branch named ``main`` would make the task scan its own ``main``: the gate
    would pass code it never saw."""
    with pytest.raises(UsageError, match="in a fork"):
        branch_of(None, pr_event(tmp_path, head))
    assert branch_of("main", pr_event(tmp_path, head)) == ("main", "--branch/CODEARTS_BRANCH")
    assert branch_of("", pr_event(tmp_path, head)) == (None, None)


def test_a_pull_request_within_the_repository_sends_its_branch(tmp_path):
    assert branch_of(None, pr_event(tmp_path, "org/app")) == ("main", "GITHUB_HEAD_REF")
    merge = {**pr_event(tmp_path, "org/app"), "GITHUB_REF_NAME": "1/merge"}
    assert branch_of(None, merge) == ("main", "GITHUB_HEAD_REF")  # the head, not the merge ref


@pytest.mark.parametrize(
    "env",
    [
        {
            "CI_COMMIT_REF_NAME": "main",
            "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "77",
            "CI_MERGE_REQUEST_PROJECT_ID": "12",
        },
        {"CHANGE_BRANCH": "main", "CHANGE_FORK": "attacker", "BRANCH_NAME": "PR-3"},
    ],
)
def test_gitlab_and_jenkins_fork_branches_are_refused_too(env):
    with pytest.raises(UsageError, match="in a fork"):
        branch_of(None, env)
    same = {
        k: "12" if k.startswith("CI_MERGE") else v for k, v in env.items() if k != "CHANGE_FORK"
    }
    assert branch_of(None, same)[0] == "main"
