"""End to end: the installed gate in a real git checkout, against the CodeArts fake and
the GitHub/GitLab fake, as a pull or merge request pipeline runs it: ``--scope change``
judges the defects on the change's lines, ``--comment`` writes one comment and edits it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fakeapi import make_defect
from fakeforge import FakeForge
from gaterun import JOB, GateRun, clean_env, run_gate
from gitrepo import Repo, numbered

TASK = "task-0123"
REPO_NAME = "octo/widgets"


@pytest.fixture
def forge():
    with FakeForge() as fake:
        yield fake


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Repo, str, str]:
    """main (base) and a pull request's head that edits line 3 of a.c and adds new.c."""
    repo = Repo(tmp_path / "checkout")
    repo.write("src/a.c", numbered(20))
    repo.write("src/old.c", numbered(20))
    base = repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("src/a.c", numbered(20).replace("line 3\n", "changed 3\n"))
    repo.write("src/new.c", numbered(5, "new"))
    head = repo.commit("feature")
    return repo, base, head


def defect_rows() -> list[dict]:
    """Two defects on the change (a.c:3 critical, new.c:2 major), three off it."""
    where = [("src/a.c", 3, 0), ("src/new.c", 2, 1), ("src/a.c", 4, 0), ("src/old.c", 3, 1)]
    where.append(("src/old.c", 9, 2))
    return [
        make_defect(i, level=level, file_path=f"demo-repo/{path}", line_number=str(line))
        for i, (path, line, level) in enumerate(where)
    ]


def github_env(api, forge, tmp_path, base, head, **extra) -> dict[str, str]:
    event = tmp_path / "event.json"
    pull = {"number": 7, "base": {"sha": base}, "head": {"sha": head}}
    event.write_text(json.dumps({"pull_request": pull}))
    (tmp_path / "gh").mkdir(exist_ok=True)
    return clean_env(
        CODEARTS_ENDPOINT=api.url,
        CODEARTS_TOKEN=api.token,
        CODEARTS_JOB_ID=JOB,
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_SHA="0" * 40,  # the merge commit GitHub checks out: not the head
        GITHUB_REPOSITORY=REPO_NAME,
        GITHUB_SERVER_URL="https://github.example",
        GITHUB_API_URL=forge.url,
        GITHUB_TOKEN=forge.token,
        GITHUB_STEP_SUMMARY=str(tmp_path / "gh" / "summary.md"),
        GITHUB_OUTPUT=str(tmp_path / "gh" / "output"),
        **extra,
    )


def gate(repo: Repo, folder: Path, env: dict[str, str], *args: str) -> GateRun:
    folder.mkdir(exist_ok=True)
    return run_gate(folder, "--task-id", TASK, *args, env=env, cwd=repo.root)


def test_a_pull_request_fails_only_for_defects_on_its_own_lines_and_comments_once(
    fake_api_factory, forge, checkout, tmp_path
):
    repo, base, head = checkout
    api = fake_api_factory(scenario="fail")  # the whole branch: 4 major, 122 new
    api.defect_api.rows = defect_rows()
    env = github_env(api, forge, tmp_path, base, head)
    run = gate(repo, tmp_path / "one", env, "--scope", "change", "--comment")
    assert run.code == 1, run.stderr
    checks = {c["metric"]: c["actual"] for c in run.json["checks"]}
    assert checks == {"critical": 1, "major": 1, "new": 2}  # on the change's lines only
    scope = run.json["scope"]
    assert scope["judged"] == "change" and scope["head"] == head and scope["lines"] == 6
    assert run.json["scan"]["commit"] == head and run.json["scan"]["started_by_gate"] is False
    assert run.json["comment"]["status"] == "created", run.json["comment"]
    assert f"on commit {head[:12]}" in run.stdout
    assert "Defects in this change" in run.summary and "src/old.c" not in run.summary
    link = f"https://github.example/{REPO_NAME}/blob/{head}/src/a.c#L3"
    assert link in run.summary
    [comment] = forge.of((REPO_NAME, "7"))
    assert comment["body"].startswith(f"<!-- codearts-gate:{TASK} -->") and link in comment["body"]
    shown = [line for line in run.everything().splitlines() if not line.startswith("::add-mask::")]
    assert f"::add-mask::{forge.token}" in run.stdout and forge.token not in "\n".join(shown)
    second = gate(repo, tmp_path / "two", env, "--scope", "change", "--comment")
    assert second.code == 1 and second.json["comment"]["status"] == "updated"
    assert len(forge.of((REPO_NAME, "7"))) == 1


def test_a_change_without_defects_on_its_lines_passes_a_failing_branch(
    fake_api_factory, forge, checkout, tmp_path
):
    repo, base, head = checkout
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = defect_rows()[2:]  # only the defects off the change
    env = github_env(api, forge, tmp_path, base, head)
    run = gate(repo, tmp_path / "out", env, "--scope", "change")
    assert run.code == 0, run.stderr + run.stdout
    assert run.json["counts"]["major"] == 4  # the whole branch, shown as context


def test_the_same_pull_request_judged_whole_fails_on_the_branch(
    fake_api_factory, forge, checkout, tmp_path
):
    repo, base, head = checkout
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = defect_rows()[2:]
    run = gate(repo, tmp_path / "out", github_env(api, forge, tmp_path, base, head))
    assert run.code == 1 and run.json["scope"]["judged"] == "all"


def test_a_shallow_clone_is_a_usage_error_and_nothing_is_sent(
    fake_api_factory, forge, checkout, tmp_path
):
    repo, base, head = checkout
    shallow = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth",
            "1",
            "-b",
            "feature",
            f"file://{repo.root}",
            str(shallow),
        ],
        check=True,
    )
    api = fake_api_factory(scenario="fail")
    env = github_env(api, forge, tmp_path, base, head)
    run = run_gate(
        tmp_path / "out", "--task-id", TASK, "--scope", "change", "--comment", env=env, cwd=shallow
    )
    assert run.code == 2 and "fetch-depth: 0" in run.stderr
    assert [r.path for r in api.requests] == [] and forge.requests == []


def test_outside_a_pull_request_change_scope_judges_the_branch_and_says_so(
    fake_api_factory, forge, checkout, tmp_path
):
    repo, _, _ = checkout
    api = fake_api_factory(scenario="pass")
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    run = gate(repo, tmp_path / "out", env, "--scope", "change", "--comment")
    assert run.code == 0
    assert run.stderr.count("the whole branch is judged") == 1
    assert run.json["comment"]["status"] == "skipped" and forge.requests == []
    assert run.stderr.count("--comment does nothing here") == 1


def test_base_given_outside_ci_gates_the_change_since_it(fake_api_factory, checkout, tmp_path):
    repo, _, _ = checkout
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = defect_rows()
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    run = gate(repo, tmp_path / "out", env, "--scope", "change", "--base", "main")
    assert run.code == 1 and run.json["scope"]["judged"] == "change"
    assert {c["metric"]: c["actual"] for c in run.json["checks"]}["new"] == 2


def test_change_scope_without_a_task_is_a_usage_error(tmp_path):
    env = clean_env(CODEARTS_TOKEN="tok-0123456789", CODEARTS_JOB_ID=JOB)
    run = run_gate(tmp_path, "--scope", "change", env=env)
    assert run.code == 2 and "--task-id" in run.stderr


def test_a_run_without_a_verdict_still_updates_the_comment(
    fake_api_factory, forge, checkout, tmp_path
):
    repo, base, head = checkout
    api = fake_api_factory(scenario="error_envelope_200")
    env = github_env(api, forge, tmp_path, base, head)
    run = gate(repo, tmp_path / "out", env, "--scope", "change", "--comment")
    assert run.code == 4 and run.json["comment"]["status"] == "created"
    assert "no verdict" in forge.of((REPO_NAME, "7"))[0]["body"]


def test_a_gitlab_merge_request_gets_one_note(fake_api_factory, forge, checkout, tmp_path):
    repo, base, head = checkout
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = defect_rows()
    env = clean_env(
        CODEARTS_ENDPOINT=api.url,
        CODEARTS_TOKEN=api.token,
        CODEARTS_JOB_ID=JOB,
        GITLAB_CI="true",
        CI_MERGE_REQUEST_IID="12",
        CI_MERGE_REQUEST_DIFF_BASE_SHA=base,
        CI_COMMIT_SHA=head,
        CI_PROJECT_ID="42",
        CI_PROJECT_URL="https://gitlab.example/group/widgets",
        CI_API_V4_URL=f"{forge.url}/api/v4",
        CODEARTS_GITLAB_TOKEN=forge.gitlab_token,
        CODEARTS_SCOPE="change",
        CODEARTS_COMMENT="true",
    )
    for folder in ("one", "two"):
        run = gate(repo, tmp_path / folder, env)
        assert run.code == 1, run.stderr
    [note] = forge.of(("42", "12"))
    assert f"https://gitlab.example/group/widgets/-/blob/{head}/src/new.c#L2" in note["body"]
    assert "[!WARNING]" not in note["body"] and forge.counts()["PUT"] == 1


def test_a_fork_token_refused_is_one_warning_and_the_verdict_stands(
    fake_api_factory, forge, checkout, tmp_path
):
    from fakeforge import Fault

    repo, base, head = checkout
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = defect_rows()
    forge.faults.append(Fault(403, {}, {"message": "Resource not accessible by integration"}))
    run = gate(repo, tmp_path / "out", github_env(api, forge, tmp_path, base, head), "--comment")
    assert run.code == 1 and run.json["verdict"] == "failed"
    assert run.json["comment"]["status"] == "failed"
    warnings = [line for line in run.stderr.splitlines() if "comment failed" in line]
    assert len(warnings) == 1 and "pull-requests: write" in warnings[0]


def test_a_hanging_forge_ends_inside_the_timeout(fake_api_factory, forge, checkout, tmp_path):
    import time

    from fakeforge import Fault

    repo, base, head = checkout
    api = fake_api_factory(scenario="fail")
    forge.faults.append(Fault(hang=True))
    env = github_env(api, forge, tmp_path, base, head)
    started = time.monotonic()
    run = gate(repo, tmp_path / "out", env, "--comment", "--timeout", "6")
    assert run.code == 1 and run.json["comment"]["status"] == "failed"
    assert "no answer within" in run.json["comment"]["detail"]
    assert time.monotonic() - started < 6 + 5  # the deadline, and the process's start
