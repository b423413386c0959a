"""The change a CI pipeline tests, read from GitHub's event, GitLab's and Jenkins'
variables; and the options that use it (``--scope``, ``--base``, ``--comment``)."""

from __future__ import annotations

import json
import os
import threading

import pytest

from gate import ci
from gate.ci import ChangeRequest, blob_url, change_base, change_request, event_payload, head_commit
from gate.errors import UsageError
from gate.settings import RawOptions, build_settings

BASE_SHA, HEAD_SHA, MERGE_SHA = "a" * 40, "b" * 40, "c" * 40


def github(tmp_path, event: object, name: str = "pull_request", **extra: str) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(event if isinstance(event, str) else json.dumps(event))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_SHA": MERGE_SHA,
        **extra,
    }


PULL = {"pull_request": {"number": 7, "base": {"sha": BASE_SHA}, "head": {"sha": HEAD_SHA}}}


def test_a_github_pull_request_is_read_from_the_event(tmp_path):
    env = github(tmp_path, PULL)
    assert change_request(env) == ChangeRequest("github", "7", BASE_SHA, HEAD_SHA)
    assert head_commit(env) == HEAD_SHA  # not GITHUB_SHA, the merge commit
    assert change_base(env) == BASE_SHA


def test_a_push_is_no_change_request_and_its_commit_is_githubs(tmp_path):
    env = github(tmp_path, {"ref": "refs/heads/main"}, name="push")
    assert change_request(env) is None and head_commit(env) == MERGE_SHA
    assert change_request(github(tmp_path, PULL, name="push")) is None  # only PR events


@pytest.mark.parametrize(
    "event",
    [
        "not json",
        "[" * 100_000 + "]" * 100_000,  # nesting past the recursion limit
        json.dumps({"pull_request": {"number": True}}),
        json.dumps({"pull_request": {"number": 7, "head": {"sha": "-rf"}}}),
        json.dumps([1, 2]),
    ],
)
def test_a_hostile_event_is_read_without_a_crash(tmp_path, event):
    request = change_request(github(tmp_path, event))
    assert request is None or (request.head is None and request.target is None)


def test_an_event_over_the_limit_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(ci, "MAX_EVENT_BYTES", 100)
    env = github(tmp_path, {**PULL, "padding": "x" * 200})
    assert event_payload(env) is None and change_request(env) is None


def test_an_event_path_that_is_a_fifo_without_a_writer_does_not_block(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(fifo)}
    done = threading.Event()
    result: list[object] = []
    worker = threading.Thread(target=lambda: (result.append(event_payload(env)), done.set()))
    worker.daemon = True
    worker.start()
    assert done.wait(10) and result == [None]


def test_a_gitlab_merge_request_pipeline():
    env = {
        "CI_MERGE_REQUEST_IID": "12",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": BASE_SHA,
        "CI_COMMIT_SHA": MERGE_SHA,  # a merged-results pipeline's commit
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": HEAD_SHA,
        "CI_PROJECT_URL": "https://gitlab.example/g/p",
    }
    assert change_request(env) == ChangeRequest("gitlab", "12", BASE_SHA, HEAD_SHA)
    assert blob_url(env) == "https://gitlab.example/g/p/-/blob"
    plain = {"CI_COMMIT_SHA": HEAD_SHA}
    assert change_request(plain) is None and head_commit(plain) == HEAD_SHA


def test_a_jenkins_change_request():
    env = {"CHANGE_ID": "5", "CHANGE_TARGET": "main", "GIT_COMMIT": HEAD_SHA}
    assert change_request(env) == ChangeRequest("jenkins", "5", "origin/main", HEAD_SHA)
    assert change_request({"CHANGE_ID": "5", "CHANGE_TARGET": "a..b"}).target is None


def test_github_file_links(tmp_path):
    env = github(tmp_path, PULL, GITHUB_SERVER_URL="https://ghe.example", GITHUB_REPOSITORY="o/r")
    assert blob_url(env) == "https://ghe.example/o/r/blob"
    assert blob_url({**env, "GITHUB_REPOSITORY": "o/r/../x"}) is None
    assert blob_url({}) is None


@pytest.mark.parametrize("text", ["-rf", "--output=/tmp/x", "a..b", "main\n", "", "x" * 300])
def test_a_base_that_is_not_a_revision_is_refused(text):
    with pytest.raises(UsageError):
        ci.revision(text, "--base")


@pytest.mark.parametrize("text", ["origin/main", "HEAD~1", BASE_SHA, "release/1.2", "v1.0^"])
def test_revisions_are_accepted(text):
    assert ci.revision(text, "--base") == text


# --------------------------------------------------------------------------- settings

TASK = {"task_id": "task-1", "token": "tok-SECRET-value-123"}


def settings(monkeypatch, env: dict[str, str] | None = None, **raw: object):
    for name in [n for n in os.environ if n.startswith(("GITHUB_", "CI_", "CHANGE_"))]:
        monkeypatch.delenv(name)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    return build_settings(RawOptions(**{**TASK, **raw}))


def test_scope_change_in_a_pull_request_judges_the_change(monkeypatch, tmp_path):
    change = settings(monkeypatch, github(tmp_path, PULL), scope="change").change
    assert change.judged and change.target == BASE_SHA and change.head == HEAD_SHA
    assert change.commit == HEAD_SHA and change.forge == "github"


def test_scope_change_outside_a_change_request_judges_all_and_says_why(monkeypatch):
    change = settings(monkeypatch, scope="change").change
    assert not change.judged and "the whole branch is judged" in (change.note or "")
    assert settings(monkeypatch, scope="change", base="origin/main").change.judged


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"scope": "diff"}, "--scope must be"),
        ({"scope": "change", "task_id": None, "job_id": "j1"}, "set --task-id"),
        ({"base": "-rf"}, "not a git revision"),
        ({"comment": "maybe"}, "--comment/CODEARTS_COMMENT must be true or false"),
    ],
)
def test_bad_change_options_are_usage_errors(monkeypatch, raw, words):
    with pytest.raises(UsageError, match=words):
        settings(monkeypatch, **raw)


def test_a_change_request_without_its_base_asks_for_base(monkeypatch):
    env = {"CHANGE_ID": "5", "GIT_COMMIT": HEAD_SHA}  # Jenkins without CHANGE_TARGET
    with pytest.raises(UsageError, match="set --base"):
        settings(monkeypatch, env, scope="change")
