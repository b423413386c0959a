"""Corporate networks: TLS trust (--ca-bundle, REQUESTS_CA_BUNDLE, SSL_CERT_FILE, --insecure),
proxies (407, unreachable, redacted), the hard --timeout bound, and --check."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import trustme
from fakeapi import FakeCodeArts
from gaterun import JOB, clean_env, run_gate

from gate.api.http import Session
from gate.api.transport import Deadline, send
from gate.errors import DeadlineError


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_api(ca: trustme.CA) -> Iterator[FakeCodeArts]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeCodeArts(tls=context) as api:
        yield api


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path):
    path = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def env_for(api: FakeCodeArts, **extra: str) -> dict[str, str]:
    return clean_env(
        CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB, **extra
    )


def out_dir(tmp_path, name: str):
    folder = tmp_path / name
    folder.mkdir()
    return folder


def test_unknown_ca_fails_naming_host_and_fix(tls_api, tmp_path):
    run = run_gate(tmp_path, env=env_for(tls_api))
    assert run.code == 4
    assert f"TLS verification of 127.0.0.1:{tls_api.port} failed" in run.stderr
    assert "--ca-bundle" in run.stderr
    assert len(tls_api.requests) == 0  # nothing was sent over the unverified channel


def test_ca_bundle_adds_the_corporate_ca(tls_api, ca_file, tmp_path):
    run = run_gate(tmp_path, "--ca-bundle", str(ca_file), env=env_for(tls_api))
    assert run.code == 0, run.stderr
    assert len(tls_api.requests) == 1


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_standard_ca_variables_are_honoured(tls_api, ca_file, tmp_path, variable):
    run = run_gate(tmp_path, env=env_for(tls_api, **{variable: str(ca_file)}))
    assert run.code == 0, run.stderr


def test_ca_bundle_adds_to_rather_than_replaces_the_trust_store(tls_api, ca_file, tmp_path):
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    env = env_for(tls_api, REQUESTS_CA_BUNDLE=str(ca_file))
    run = run_gate(out_dir(tmp_path, "o"), "--ca-bundle", str(other), env=env)
    assert run.code == 0, run.stderr


def test_ca_bundle_that_is_not_pem_is_usage_error(tls_api, tmp_path):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    run = run_gate(out_dir(tmp_path, "o"), "--ca-bundle", str(bogus), env=env_for(tls_api))
    assert run.code == 2 and "--ca-bundle" in run.stderr
    assert len(tls_api.requests) == 0


def test_missing_ca_bundle_is_usage_error(tls_api, tmp_path):
    run = run_gate(tmp_path, "--ca-bundle", str(tmp_path / "none.pem"), env=env_for(tls_api))
    assert run.code == 2 and "not a readable file" in run.stderr


def test_insecure_works_with_a_token_and_warns_every_run(tls_api, tmp_path):
    for name in ("a", "b"):
        run = run_gate(out_dir(tmp_path, name), "--insecure", env=env_for(tls_api))
        assert run.code == 0, run.stderr
        assert "warning: --insecure: TLS certificates are NOT verified" in run.stderr


def test_insecure_allowed_for_aksk_on_loopback(tls_api, tmp_path):
    env = clean_env(
        CODEARTS_ENDPOINT=tls_api.url,
        CODEARTS_AK=tls_api.ak,
        CODEARTS_SK=tls_api.sk,
        CODEARTS_JOB_ID=JOB,
    )
    assert run_gate(tmp_path, "--insecure", env=env).code == 0


def test_insecure_refused_for_aksk_elsewhere(tmp_path):
    env = clean_env(
        CODEARTS_ENDPOINT="https://codearts-check.example.invalid",
        CODEARTS_AK="HPUAEXAMPLEAK0000001",
        CODEARTS_SK="ExampleSecretKey0123456789",
        CODEARTS_JOB_ID=JOB,
    )
    run = run_gate(tmp_path, "--insecure", env=env)
    assert run.code == 2 and "--insecure is refused" in run.stderr


class ProxyAuthRequired(http.server.BaseHTTPRequestHandler):
    """A proxy that wants credentials for everything."""

    def _refuse(self) -> None:
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="corp"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_GET = do_POST = do_CONNECT = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy_407() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ProxyAuthRequired)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def proxy_env(api: FakeCodeArts, proxy: str) -> dict[str, str]:
    env = env_for(api, HTTP_PROXY=proxy, HTTPS_PROXY=proxy)
    env["NO_PROXY"] = ""
    return env


def test_proxy_407_has_its_own_message_and_hides_proxy_password(fake_api, proxy_407, tmp_path):
    run = run_gate(tmp_path, "-v", env=proxy_env(fake_api, f"http://corp:pr0xy-PW@{proxy_407}"))
    assert run.code == 4
    assert "asked for authentication (HTTP 407)" in run.stderr
    assert f"connecting through proxy http://***@{proxy_407}" in run.stderr
    assert "pr0xy-PW" not in run.everything()
    assert len(fake_api.requests) == 0


def test_unreachable_proxy_has_its_own_message(fake_api, tmp_path):
    run = run_gate(tmp_path, env=proxy_env(fake_api, "http://corp:pr0xy-PW@127.0.0.1:9"))
    assert run.code == 4
    assert "through proxy http://***@127.0.0.1:9" in run.stderr
    assert "pr0xy-PW" not in run.everything()


@pytest.mark.parametrize("scenario", ["trickle", "hang"])
def test_timeout_is_a_hard_bound(fake_api_factory, tmp_path, scenario):
    api = fake_api_factory(scenario=scenario)
    started = time.monotonic()
    run = run_gate(tmp_path, "--timeout", "2", env=env_for(api))
    elapsed = time.monotonic() - started
    assert run.code == 4
    assert run.json["error"]["kind"] == "timeout"
    assert elapsed < 2 + 10  # a bound, not a speed figure: far below the trickle's length


def test_check_walks_every_step(fake_api, tmp_path):
    run = run_gate(tmp_path, "--check", env=env_for(fake_api))
    assert run.code == 0, run.stdout + run.stderr
    for step in ("endpoint", "proxy", "resolve", "connect", "tls", "api"):
        assert f"  ok    {step}" in run.stdout
    assert "all checks passed" in run.stdout


def test_check_stops_at_expired_token(fake_api_factory, tmp_path):
    run = run_gate(tmp_path, "--check", env=env_for(fake_api_factory(scenario="expired_token_401")))
    assert run.code == 3
    assert "FAIL  api" in run.stdout and "fetch a new one" in run.stdout


def test_check_stops_at_tls_with_the_fix(tls_api, tmp_path):
    run = run_gate(tmp_path, "--check", env=env_for(tls_api))
    assert run.code == 4
    assert "FAIL  tls" in run.stdout and "--ca-bundle" in run.stdout
    assert "ok    api" not in run.stdout


def test_check_with_ca_bundle_passes(tls_api, ca_file, tmp_path):
    run = run_gate(tmp_path, "--check", "--ca-bundle", str(ca_file), env=env_for(tls_api))
    assert run.code == 0, run.stdout
    assert "ok    tls       certificate of 127.0.0.1 verified" in run.stdout


def test_check_names_missing_permission(fake_api_factory, tmp_path):
    run = run_gate(tmp_path, "--check", env=env_for(fake_api_factory(scenario="no_permission_200")))
    assert run.code == 3 and "codeartscheck:task:getReport" in run.stdout


def test_check_reports_clock_skew(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="apigw_0303")
    env = clean_env(
        CODEARTS_ENDPOINT=api.url, CODEARTS_AK=api.ak, CODEARTS_SK=api.sk, CODEARTS_JOB_ID=JOB
    )
    run = run_gate(tmp_path, "--check", env=env)
    assert run.code == 3 and "clock" in run.stdout


def test_check_trusts_requests_ca_bundle_like_the_client(tls_api, ca_file, tmp_path):
    run = run_gate(tmp_path, "--check", env=env_for(tls_api, REQUESTS_CA_BUNDLE=str(ca_file)))
    assert run.code == 0, run.stdout
    assert "ok    tls       certificate of 127.0.0.1 verified" in run.stdout


def test_a_deadline_that_runs_out_just_before_sending_is_a_deadline_error(fake_api):
    """The clock can cross the deadline between a check and the send: requests refuses
    a timeout of 0 with a ValueError, which must never escape as a traceback."""
    readings = iter([1.0, 0.0])

    class Crossing(Deadline):
        def remaining(self) -> float:
            return next(readings, 0.0)

    deadline = Crossing(5)
    deadline.check()  # 1.0 s left: passes; the next reading is 0
    with Session() as http, pytest.raises(DeadlineError):
        send(http, f"{fake_api.url}/v2/tasks/t/progress", deadline, method="GET")
