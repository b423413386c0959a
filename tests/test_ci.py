"""The runner's own files are input too (issue 17): ``GITHUB_EVENT_PATH`` deeply nested,
huge, a FIFO or missing; ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` as FIFOs without a
reader. Bounded reads, non-blocking opens, never a hang, never a traceback; and an event
that cannot be read is never taken as "not a fork".
"""

from __future__ import annotations

import ast
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from gaterun import clean_env, run_gate

from gate import ci
from gate.ci import EventError, from_fork, pull_request_from_fork, read_event
from gate.errors import ExitCode
from gate.settings import branch_of

TASK = "7c0ffee0000000000000000000000001"
GUARD = 30.0
"""Seconds after which a read counts as hung (a guard: the assertions are on the result)."""


def finishes(call: Callable[[], object]) -> object:
    """``call``'s value or exception, run on a thread that must end within ``GUARD``."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(call())
        except Exception as err:  # judged by the test
            outcome.append(err)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(GUARD)
    assert not worker.is_alive(), "the read is waiting for a writer"
    return outcome[0]


def pr_env(path: Path | str, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_HEAD_REF": "main",
        "GITHUB_EVENT_PATH": str(path),
        **extra,
    }


def write_event(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "event.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


SAME = {
    "pull_request": {"head": {"repo": {"full_name": "o/a"}}, "base": {"repo": {"full_name": "o/a"}}}
}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
        ("not json", "does not hold JSON"),
        (b"\xff\xfe{}", "does not hold JSON"),
        ('{"n": ' + "9" * 5000 + "}", "does not hold JSON"),
        ("[1, 2]", "not hold a JSON object"),
        ("", "does not hold JSON"),
    ],
    ids=["deep-list", "deep-object", "text", "bad-utf8", "long-number", "list", "empty"],
)
def test_an_unreadable_event_is_an_event_error(tmp_path, content, words):
    path = write_event(tmp_path, content)
    with pytest.raises(EventError, match=words) as caught:
        read_event(pr_env(path))
    assert caught.value.exit_code == ExitCode.USAGE


def test_an_event_over_the_size_bound_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(ci, "MAX_EVENT_BYTES", 1024)
    path = write_event(tmp_path, json.dumps({"pad": "x" * 2000}))
    with pytest.raises(EventError, match="larger than"):
        read_event(pr_env(path))
    assert read_event(pr_env(write_event(tmp_path, json.dumps(SAME)))) == SAME


def test_missing_and_folder_events_are_event_errors(tmp_path):
    for path in (tmp_path / "absent.json", tmp_path):
        with pytest.raises(EventError):
            read_event(pr_env(path))
    with pytest.raises(EventError, match="not set"):
        read_event({"GITHUB_ACTIONS": "true"})


def test_a_fifo_event_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "event.fifo"
    os.mkfifo(fifo)
    error = finishes(lambda: read_event(pr_env(fifo)))
    assert isinstance(error, EventError) and "not a regular file" in error.message
    writer = os.open(fifo, os.O_RDWR)  # a writer that never writes nor closes
    try:
        error = finishes(lambda: read_event(pr_env(fifo)))
        assert isinstance(error, EventError)
    finally:
        os.close(writer)


@pytest.mark.parametrize("content", ["[" * 100_000, "{}", "null", None])
def test_a_pull_request_whose_event_cannot_be_read_is_not_assumed_same_repository(
    tmp_path, content
):
    path = tmp_path / "absent.json" if content is None else write_event(tmp_path, content)
    for check in (pull_request_from_fork, from_fork):
        with pytest.raises(EventError, match="cannot tell whether the pull request") as caught:
            check(pr_env(path))
        assert "--branch" in str(caught.value)
    with pytest.raises(EventError):
        branch_of(None, pr_env(path))
    assert branch_of("dev", pr_env(path)) == ("dev", "--branch/CODEARTS_BRANCH")


def test_without_a_pull_request_the_event_is_not_read(tmp_path):
    absent = tmp_path / "absent.json"
    push = {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "main", "GITHUB_EVENT_PATH": str(absent)}
    assert pull_request_from_fork(push) is False
    assert branch_of(None, push) == ("main", "GITHUB_REF_NAME")
    assert pull_request_from_fork({"GITHUB_HEAD_REF": "x"}) is False  # not in Actions


def test_a_readable_same_repository_event_sends_its_branch(tmp_path):
    path = write_event(tmp_path, json.dumps(SAME))
    assert pull_request_from_fork(pr_env(path)) is False
    assert branch_of(None, pr_env(path)) == ("main", "GITHUB_HEAD_REF")


# --------------------------------------------------------------------------- end to end


def test_run_on_a_pull_request_with_an_unreadable_event_is_exit_2(fake_api, tmp_path):
    task = fake_api.add_task(TASK, length=0.0)
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url,
        CODEARTS_TOKEN=fake_api.token,
        CODEARTS_TASK_ID=TASK,
        **pr_env(tmp_path / "absent.json"),
    )
    run = run_gate(tmp_path, "--run", env=env, timeout=GUARD)
    assert run.code == 2 and run.json["error"]["kind"] == "usage", run.stderr
    assert "cannot tell whether the pull request" in run.stderr and "--branch" in run.stderr
    assert "Traceback" not in run.stderr
    assert len(fake_api.requests) == 0 and task.run_count == 0
    given = run_gate(tmp_path, "--run", "--branch", "main", env=env, timeout=GUARD)
    assert given.code == 0, given.stderr
    assert task.run_count == 1


def test_run_with_a_deeply_nested_event_is_exit_2_without_a_traceback(fake_api, tmp_path):
    fake_api.add_task(TASK, length=0.0)
    path = write_event(tmp_path, "[" * 1_000_000)
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url,
        CODEARTS_TOKEN=fake_api.token,
        CODEARTS_TASK_ID=TASK,
        **pr_env(path),
    )
    run = run_gate(tmp_path, "--run", env=env, timeout=GUARD)
    assert run.code == 2 and "nested too deeply" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_runner_files_as_fifos_without_a_reader_are_warnings_not_hangs(tmp_path):
    for name in ("output.fifo", "summary.fifo"):
        os.mkfifo(tmp_path / name)
    report = tmp_path / "r.json"
    report.write_text('{"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}', encoding="utf-8")
    env = clean_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp_path / "output.fifo"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.fifo"),
    )
    run = run_gate(tmp_path, "--report-file", str(report), env=env, timeout=GUARD)
    assert run.code == 0 == run.json["exit_code"], run.stderr
    assert "cannot write $GITHUB_OUTPUT" in run.stdout
    assert "cannot write $GITHUB_STEP_SUMMARY" in run.stdout
    assert "Traceback" not in run.stderr


def gate_imports(module: str) -> set[str]:
    """The ``gate`` modules that ``module`` (a module or a package) imports anywhere in its
    source, its own submodules left out."""
    base = Path(__file__).resolve().parents[1] / "gate"
    package = base / module
    files = sorted(package.rglob("*.py")) if package.is_dir() else [base / f"{module}.py"]
    found = set()
    for node in (n for f in files for n in ast.walk(ast.parse(f.read_text()))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gate"):
            found |= {node.module} if node.module != "gate" else {n.name for n in node.names}
        elif isinstance(node, ast.Import):
            found |= {n.name for n in node.names if n.name.startswith("gate")}
    return {name for name in found if not name.startswith(f"gate.{module}")}


def test_ci_sits_low_and_the_settings_github_cycle_is_gone():
    assert gate_imports("ci") <= {"gate.errors", "gate.structs", "gate.text"}
    assert not {"gate.github", "github"} & gate_imports("settings")
    assert "gate.ci" in gate_imports("settings") and "gate.ci" in gate_imports("github")
