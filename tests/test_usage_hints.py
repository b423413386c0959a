"""Errors that point the way: what to type when nothing was given, --task-id for a
--run given a job id, a server that does not speak TLS, a token that is refused."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from gaterun import GATE, JOB, clean_env, run_gate

from gate.errors import CredentialsError
from gate.service_errors import ServiceAnswer, classify, token_refused

WRONG_TOKEN = "MIIEwrong-token-of-the-test"


def bare_gate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GATE), *args], env=clean_env(**env), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_no_arguments_at_all_names_the_usual_command_and_help():
    proc = bare_gate()
    assert proc.returncode == 2, proc.stderr
    assert "codearts-gate --task-id ID --run" in proc.stderr
    assert "--help" in proc.stderr and "--job-id" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line, no traceback


@pytest.mark.parametrize("mode", ["--run", "--wait"])
def test_a_job_id_given_to_run_or_wait_suggests_the_task_id(mode):
    proc = bare_gate("--job-id", JOB, mode, CODEARTS_TOKEN=WRONG_TOKEN)
    assert proc.returncode == 2, proc.stderr
    assert "set --task-id" in proc.stderr and "not --job-id" in proc.stderr


class Quiet(BaseHTTPRequestHandler):
    """A plain HTTP server's handler: it answers a TLS ClientHello with ``400``."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def plain_http() -> Iterator[str]:
    """``https://`` URL of a loopback server that speaks plain HTTP only."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_endpoint_that_answers_plain_http_does_not_speak_tls(plain_http, tmp_path):
    env = clean_env(CODEARTS_ENDPOINT=plain_http, CODEARTS_TOKEN=WRONG_TOKEN)
    run = run_gate(tmp_path, "--job-id", JOB, env=env)
    assert run.code == 4 and run.json["error"]["kind"] == "network", run.stderr
    assert "does not speak TLS" in run.stderr and "plain HTTP" in run.stderr
    assert "--ca-bundle" not in run.stderr  # not a certificate problem


def test_check_says_so_too(plain_http):
    proc = bare_gate("--check", "--job-id", JOB, CODEARTS_ENDPOINT=plain_http,
                     CODEARTS_TOKEN=WRONG_TOKEN)  # fmt: skip
    assert proc.returncode == 4, proc.stdout
    [failed] = [line for line in proc.stdout.splitlines() if "FAIL" in line]
    assert "tls" in failed and "does not speak TLS" in failed


def test_a_refused_token_is_said_to_be_expired_or_wrong(fake_api, tmp_path):
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=WRONG_TOKEN)
    run = run_gate(tmp_path, "--job-id", JOB, env=env)
    assert run.code == 3 and "APIGW.0301" in run.stderr
    assert "expired or wrong" in run.stderr and "expired or wrong" in run.json["error"]["message"]


def test_a_refused_signature_is_not_called_a_token(fake_api, tmp_path):
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_AK=fake_api.ak, CODEARTS_SK="x" * 40)
    run = run_gate(tmp_path, "--job-id", JOB, env=env)
    assert run.code == 3 and "APIGW.0301" in run.stderr and "expired or wrong" not in run.stderr


@pytest.mark.parametrize(
    ("status", "code", "identity"),
    [
        (401, None, True),
        (401, "APIGW.0301", True),
        (200, "CC.00000003", True),
        (200, "CC.00050007", True),
        (401, "APIGW.0303", False),  # the clock, not the token
        (403, None, False),  # a permission
        (200, "CC.00050010", False),
        (401, "CC.00050010", False),
    ],
)
def test_only_answers_that_refuse_the_caller_blame_the_token(status, code, identity):
    error = classify(ServiceAnswer(status=status, error_code=code, error_msg="refused"))
    assert isinstance(error, CredentialsError) and error.identity is identity
    said = token_refused(error)
    assert ("expired or wrong" in str(said)) is identity
