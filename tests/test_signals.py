"""A cancelled CI job: SIGTERM or SIGINT to the running gate (no --init in the container).

The gate must end promptly with exit 143 (SIGTERM) or 130 (SIGINT), as shells report a
process a signal ended, so that a retry loop (which retries 4) does not restart what the
user cancelled; and still write the outputs it was asked for, with an error case saying
it was interrupted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
from gaterun import GATE, JOB, clean_env

WAIT = 20.0  # generous: only a hung process takes this long


def wait_for_request(fake, proc: subprocess.Popen[str]) -> None:
    """Poll until the fake has the refresh request (the gate is then waiting on it)."""
    deadline = time.monotonic() + WAIT
    while not len(fake.requests):
        assert proc.poll() is None, f"the gate ended before calling: {proc.communicate()}"
        assert time.monotonic() < deadline, "the gate never called the fake API"
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_ends_the_run_with_the_shells_code_and_the_outputs_written(
    fake_api_factory, tmp_path, signum
):
    fake = fake_api_factory(scenario="hang")
    junit, result = tmp_path / "junit.xml", tmp_path / "result.json"
    env = clean_env(CODEARTS_TOKEN=fake.token)
    args = [str(GATE), "--job-id", JOB, "--endpoint", fake.url, "--timeout", "120"]
    args += ["--junit", str(junit), "--json", str(result)]
    with subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        wait_for_request(fake, proc)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=WAIT)
    code = {signal.SIGTERM: 143, signal.SIGINT: 130}[signum]
    assert proc.returncode == code, stdout + stderr
    assert f"verdict: NO VERDICT (interrupted, exit {code})" in stdout
    assert f"stopped by {signum.name}" in stderr
    errors = ET.parse(junit).getroot().findall("./testcase/error")
    assert [e.get("type") for e in errors] == ["interrupted"]
    data = json.loads(result.read_text(encoding="utf-8"))
    assert data["verdict"] == "error" and data["exit_code"] == code
    assert data["error"]["kind"] == "interrupted"
    assert signum.name in data["error"]["message"]
