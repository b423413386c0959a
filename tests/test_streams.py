"""Closed or broken standard streams (issue 17): the exit code and the JSON agree, no
traceback, whatever became of stdout and stderr.

The real gate runs as a subprocess with the stream truly closed (``sh -c '... >&-'``: not
``DEVNULL``, which is an open file) or broken (a pipe whose reading end is closed before the
gate writes, so every write fails with ``EPIPE`` deterministically).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from gaterun import GATE, clean_env

from gate.streams import SafeStream, safe

TASK = "7c0ffee0000000000000000000000001"
GUARD = 60.0
PASSING = b'{"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}'
FAILING = b'{"critical": 0, "major": 2, "UNRESOLVED_ADD": 0}'
REDIRECTS = {"stdout": ">&-", "stderr": "2>&-", "both": ">&- 2>&-"}


def closed_run(tmp_path: Path, which: str, *args: str, env: dict[str, str]):
    """The gate with ``which`` stream(s) closed by the shell; stderr captured when open."""
    script = f'exec "$0" "$@" {REDIRECTS[which]}'
    return subprocess.run(
        ["sh", "-c", script, str(GATE), *args, f"--json={tmp_path}/result.json"],
        env=env,
        capture_output=True,
        timeout=GUARD,
        check=False,
    )


def verdict_code(tmp_path: Path) -> int:
    return int(json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))["exit_code"])


@pytest.mark.parametrize("which", sorted(REDIRECTS))
@pytest.mark.parametrize(("report", "code"), [(PASSING, 0), (FAILING, 1)], ids=["pass", "fail"])
def test_a_closed_stream_changes_nothing_but_what_is_shown(tmp_path, which, report, code):
    (tmp_path / "r.json").write_bytes(report)
    proc = closed_run(tmp_path, which, "--report-file", str(tmp_path / "r.json"), env=clean_env())
    assert proc.returncode == code == verdict_code(tmp_path), proc.stderr
    assert b"Traceback" not in proc.stderr and b"Exception ignored" not in proc.stderr


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
@pytest.mark.parametrize(("report", "code"), [(PASSING, 0), (FAILING, 1)], ids=["pass", "fail"])
def test_a_broken_pipe_keeps_the_exit_code(tmp_path, report, code, stream):
    (tmp_path / "r.json").write_bytes(report)
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads: every write fails with EPIPE, as after `| head -c0`
    other = subprocess.PIPE
    streams = {"stdout": other, "stderr": other, stream: writer}
    try:
        proc = subprocess.run(
            [
                str(GATE),
                "--report-file",
                str(tmp_path / "r.json"),
                f"--json={tmp_path}/result.json",
                "-vv",  # log lines on stderr too
            ],
            env=clean_env(),
            timeout=GUARD,
            check=False,
            **streams,
        )
    finally:
        os.close(writer)
    assert proc.returncode == code == verdict_code(tmp_path)
    shown = proc.stderr if stream == "stdout" else proc.stdout
    assert b"Traceback" not in shown and b"Exception ignored" not in shown, shown
    assert stream == "stderr" or b"codearts-gate 0.1.0" in proc.stderr  # -vv reached it


@pytest.mark.parametrize("which", sorted(REDIRECTS))
def test_run_with_closed_streams_gates_the_scan(fake_api, tmp_path, which):
    """``--run`` asked stderr whether it is a terminal: ``None.isatty()`` crashed."""
    task = fake_api.add_task(TASK, length=1.0)
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url,
        CODEARTS_TOKEN=fake_api.token,
        CODEARTS_TASK_ID=TASK,
        GITHUB_ACTIONS="true",  # workflow commands and a heartbeat to print too
        GITHUB_OUTPUT=str(tmp_path / "github_output"),
    )
    proc = closed_run(tmp_path, which, "--run", "-v", env=env)
    assert proc.returncode == 0 == verdict_code(tmp_path), proc.stderr
    assert b"Traceback" not in proc.stderr
    assert task.run_count == 1
    assert "exit-code<<" in (tmp_path / "github_output").read_text(encoding="utf-8")


def test_a_safe_stream_is_a_sink_for_a_missing_or_closed_stream():
    missing = SafeStream(None)
    assert missing.write("x") == 1 and not missing.isatty()
    missing.flush()
    closed = io.StringIO()
    closed.close()
    stream = safe(closed)
    print("lost", file=stream, flush=True)
    assert not stream.isatty() and safe(stream) is stream


def test_a_safe_stream_passes_text_through():
    target = io.StringIO()
    stream = safe(target)
    print("shown", file=stream, flush=True)
    assert target.getvalue() == "shown\n"
