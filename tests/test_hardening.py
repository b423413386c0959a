"""The second hardening round (issue 10), by class: secrets, verdicts and exit codes,
injection, first run. Open-ended classes are driven by Hypothesis (encodings of a secret,
text holding workflow commands, malformed environment values, credential formats); the
others by one test per case. The fault suite (tests/test_faults.py) adds end-to-end rows.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import click
import pytest
from budget import examples
from click.testing import CliRunner
from fakeapi import FakeCodeArts, json_step
from gaterun import GATE, JOB, clean_env, run_gate
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from validators import unsafe_text

import gate
from gate import text
from gate.api.http import ConnectError, Session
from gate.api.tasks import request_not_sent
from gate.api.transport import Deadline, send, transport_error
from gate.cli import main
from gate.core import evaluate
from gate.errors import GateError, ReportError
from gate.formats import render
from gate.formats.junit import CLASSNAME
from gate.formats.markdown import md_escape
from gate.policy import build_policy
from gate.report import Report, decode_json, report_from_payload
from gate.structs import replace
from gate.text import MIN_FRAGMENT, one_line, preview, redact

AK = "HPUAEXAMPLEAK0000001"
SK = "FakeSecretKey0123456789abcdefghijKLMNOP"
PASS = {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}
CLEARED = {k: None for k in os.environ if k.startswith(("CODEARTS_", "GITHUB_", "HUAWEI_"))}


@pytest.fixture(autouse=True)
def _restore_gate_logger() -> Iterator[None]:
    import logging

    logger = logging.getLogger("gate")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def cli(args: list[str], env: dict[str, str | None] | None = None, **kw: Any) -> Any:
    """The CLI in process, every gate variable cleared first."""
    return CliRunner().invoke(main, args, env={**CLEARED, **(env or {})}, **kw)


def report_file(tmp_path: Path, payload: object, name: str = "report.json") -> str:
    path = tmp_path / name
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return str(path)


# =========================================================================== secrets

SECRETS = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=10, max_size=60),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=20, max_size=20),
)
# Surrounding text: no letters or digits; a secret drawn from these characters too is set
# aside by `apart` (the filler would spell a piece of it by itself)
FILLER = st.text(" .,;:!?()<>\n\t\u2028é漢-_", max_size=40)


def b64_inside(secret: str, before: bytes, after: bytes) -> str:
    return base64.b64encode(before + secret.encode() + after).decode()


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda s: s,
    "url": lambda s: quote(s, safe=""),
    "url-lower": lambda s: re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(s, safe="")),
    "url-plus": quote_plus,
    "url-path": quote,
    "json": lambda s: json.dumps(s)[1:-1],
    "json-slash": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
    "html": html.escape,
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64-urlsafe": lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
    "basic-auth": lambda s: b64_inside(s, b"user:", b""),
    "base64-offset-1": lambda s: b64_inside(s, b"x", b"yz"),
    "base64-offset-2": lambda s: b64_inside(s, b"xy", b"z"),
}


def base64_hides(secret: str, shown: str) -> bool:
    """No run of base64 in ``shown`` decodes (at any alignment) to bytes holding the secret."""
    for run in re.findall(r"[A-Za-z0-9+/_=-]{8,}", shown):
        for skip in range(4):
            chunk = run[skip:].replace("-", "+").replace("_", "/").rstrip("=")
            chunk = chunk[: len(chunk) // 4 * 4]
            try:
                if secret.encode() in base64.b64decode(chunk):
                    return False
            except ValueError:
                continue
    return True


@settings(max_examples=examples(300), deadline=None)
@given(
    secret=SECRETS,
    encoding=st.sampled_from(sorted(ENCODINGS)),
    before=FILLER,
    after=FILLER,
    limit=st.integers(20, 400),
)
def test_no_encoding_of_a_secret_survives_one_line_or_preview(
    secret, encoding, before, after, limit
):
    assume(apart(secret, before, after))
    text.use_secrets([secret])
    echoed = before + ENCODINGS[encoding](secret) + after
    for shown in (one_line(echoed, limit), preview(echoed.encode(), limit), redact(echoed)):
        assert ENCODINGS[encoding](secret) not in shown
        assert secret not in shown
        assert base64_hides(secret, shown)


def pieces(secret: str) -> set[str]:
    return {secret[i : i + MIN_FRAGMENT] for i in range(len(secret) - MIN_FRAGMENT + 1)}


def apart(secret: str, *texts: str) -> bool:
    """Whether the surrounding ``texts`` hold no piece of ``secret`` by themselves (a drawn
    secret of filler characters, such as ``((((((((((``, would make a leak of them)."""
    return not any(piece in text for text in texts for piece in pieces(secret))


@settings(max_examples=examples(300), deadline=None)
@given(secret=SECRETS, before=FILLER, after=FILLER, limit=st.integers(2, 200))
def test_the_gate_redacts_before_it_cuts(secret, before, after, limit):
    assume(apart(secret, before, after))
    text.use_secrets([secret])
    shown = one_line(before + secret + after, limit)
    assert not any(piece in shown for piece in pieces(secret)), shown


@settings(max_examples=examples(300), deadline=None)
@given(
    secret=SECRETS,
    size=st.integers(MIN_FRAGMENT, 60),
    before=FILLER,
    after=FILLER,
    edge=st.sampled_from(["end", "start", "ellipsis", "dots"]),
)
def test_a_piece_of_a_secret_at_a_cut_edge_is_the_secret(secret, size, before, after, edge):
    assume(apart(secret, before, after))
    text.use_secrets([secret])
    head, tail = secret[:size], secret[-size:]
    echoed = {
        "end": before + head,
        "start": tail + after,
        "ellipsis": before + head + "…" + after,
        "dots": before + head + "..." + after,
    }[edge]
    shown = one_line(echoed, 1000)
    assert (head if edge != "start" else tail) not in shown, shown


def test_a_short_piece_at_an_edge_is_left_alone():
    text.use_secrets(["tok-SECRET-0123456789"])
    assert one_line("see tok-S") == "see tok-S"  # 5 characters: too short to be told apart


# --------------------------------------------------------------------------- --check


def check_env(api: FakeCodeArts, **extra: str) -> dict[str, str]:
    return clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_JOB_ID=JOB, GITHUB_ACTIONS="true", **extra)


def test_check_redacts_an_echoed_token_and_masks_it(fake_api_factory, tmp_path):
    token = "echo/token+0123456789abcdef"
    refusal = {"error_code": "APIGW.0301", "error_msg": f"bad {quote(token, safe='')} or {token}"}
    api = fake_api_factory(token=token, scenario=[json_step(401, refusal, auth=False)])
    run = run_gate(tmp_path, "--check", env=check_env(api, CODEARTS_TOKEN=token))
    assert run.code == 3, run.stdout
    assert "FAIL  api" in run.stdout
    assert token not in run.stdout.replace(f"::add-mask::{token}", "")
    assert quote(token, safe="") not in run.stdout + run.stderr
    assert run.stdout.startswith(f"::add-mask::{token}\n")


def test_check_masks_the_iam_token_it_learns(fake_api_factory, tmp_path):
    api = fake_api_factory(token="iam-issued-token-0123456789abcdef")
    env = check_env(
        api,
        CODEARTS_IAM_USER=api.iam_user,
        CODEARTS_IAM_PASSWORD=api.iam_password,
        CODEARTS_IAM_DOMAIN=api.iam_domain,
        CODEARTS_IAM_ENDPOINT=api.url,
    )
    run = run_gate(tmp_path, "--check", env=env)
    assert run.code == 0, run.stdout
    lines = run.stdout.splitlines()
    assert f"::add-mask::{api.token}" in lines
    assert lines.index(f"::add-mask::{api.token}") < lines.index(
        "all checks passed: the gate can reach and read this job"
    )


# --------------------------------------------------------------------------- *_FILE values


@pytest.mark.parametrize(
    "variable", ["CODEARTS_TOKEN_FILE", "CODEARTS_SK_FILE", "CODEARTS_IAM_PASSWORD_FILE"]
)
def test_a_secret_given_as_a_file_path_is_never_printed(variable, tmp_path):
    secret = "pasted-Secret-instead-of-a-path-0123"
    extra = {
        "CODEARTS_SK_FILE": {"CODEARTS_AK": AK},
        "CODEARTS_IAM_PASSWORD_FILE": {"CODEARTS_IAM_USER": "bot", "CODEARTS_IAM_DOMAIN": "acme"},
    }.get(variable, {})
    env = clean_env(CODEARTS_JOB_ID=JOB, GITHUB_ACTIONS="true", **{variable: secret}, **extra)
    run = run_gate(tmp_path, env=env)
    assert run.code == 2
    assert variable in run.stderr and "cannot read" in run.stderr
    assert f"::add-mask::{secret}" in run.stdout.splitlines()
    assert secret not in run.everything().replace(f"::add-mask::{secret}", "")


# --------------------------------------------------------------------------- credential formats

BAD_VALUES = {
    "a space": "tok-SECRET value-0123",
    "a tab": "tok-SECRET\tvalue-0123",
    "a line break": "tok-SECRET\nvalue-0123",
    "an escape": "tok-SECRET\x1b[31mvalue",
    "non-ASCII": "tok-SECRET-vålue-0123",
    "a typographic quote": "“tok-SECRET-value-0123”",
    "a zero-width space": "tok-SECRET\u200bvalue-0123",
}
CREDENTIAL_VARIABLES = {
    "CODEARTS_TOKEN": {},
    "CODEARTS_AK": {"CODEARTS_SK": SK},
    "HUAWEI_CLOUD_ACCESS_KEY_ID": {"HUAWEI_CLOUD_SECRET_ACCESS_KEY": SK},
    "CODEARTS_SK": {"CODEARTS_AK": AK},
}


def assert_refused_before_sending(
    result: Any, api: FakeCodeArts, variable: str, value: str
) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert variable in result.stderr
    assert value not in result.stdout + result.stderr
    assert len(api.requests) == 0


@pytest.mark.parametrize("variable", sorted(CREDENTIAL_VARIABLES))
@pytest.mark.parametrize("problem", sorted(BAD_VALUES))
def test_malformed_credential_is_exit_2_naming_the_variable(fake_api, variable, problem):
    value = BAD_VALUES[problem]
    if variable in ("CODEARTS_AK", "HUAWEI_CLOUD_ACCESS_KEY_ID"):
        value = value.replace("tok-SECRET", "HPUAEXAMPLE")
    env = {"CODEARTS_ENDPOINT": fake_api.url, "CODEARTS_JOB_ID": JOB, variable: value}
    result = cli([], env={**env, **CREDENTIAL_VARIABLES[variable]})
    assert_refused_before_sending(result, fake_api, variable, value)


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("CODEARTS_AK", "HPUA1", "5 characters long"),
        ("CODEARTS_AK", "A" * 300, "300 characters long"),
        ("CODEARTS_AK", "HPUA-EXAMPLE-AK-0001", "letters and digits"),
        ("CODEARTS_SK", "short-sk", "8 characters long"),
        ("CODEARTS_TOKEN", "x", "1 characters long"),
    ],
)
def test_impossible_credential_lengths_are_exit_2(fake_api, variable, value, words):
    env = {"CODEARTS_ENDPOINT": fake_api.url, "CODEARTS_JOB_ID": JOB, variable: value}
    result = cli([], env={**env, **CREDENTIAL_VARIABLES[variable]})
    assert_refused_before_sending(result, fake_api, variable, value)
    assert words in result.stderr


def test_a_malformed_token_in_a_file_names_the_file_variable(fake_api, tmp_path):
    path = tmp_path / "token"
    path.write_text("tok-SECRET-0123\n\nsecond line\n")
    env = {"CODEARTS_ENDPOINT": fake_api.url, "CODEARTS_JOB_ID": JOB}
    result = cli([], env={**env, "CODEARTS_TOKEN_FILE": str(path)})
    assert_refused_before_sending(result, fake_api, "CODEARTS_TOKEN_FILE", "tok-SECRET-0123")


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    value=st.text(min_size=1, max_size=40).filter(
        lambda v: (
            "\x00" not in v
            and (not v.isascii() or any(not c.isprintable() or c.isspace() for c in v))
        )
    )
)
def test_any_token_that_cannot_travel_in_a_header_is_exit_2(fake_api, value):
    value = "tok-SECRET-" + value
    env = {"CODEARTS_ENDPOINT": fake_api.url, "CODEARTS_JOB_ID": JOB, "CODEARTS_TOKEN": value}
    result = cli([], env=env)
    assert_refused_before_sending(result, fake_api, "CODEARTS_TOKEN", value)


# =========================================================================== verdicts


def test_a_count_over_its_maximum_fails_even_when_another_is_unreadable(tmp_path):
    path = report_file(tmp_path, {"critical": 0, "major": 3, "UNRESOLVED_ADD": "n/a"})
    out = tmp_path / "r.json"
    for extra in ([], ["--on-error", "warn"]):
        result = cli(["--report-file", path, "--json", str(out), *extra])
        assert result.exit_code == 1, result.output
        assert "verdict: FAILED (1 of 3 checks over their maximum, 1 unreadable)" in result.stdout
        data = json.loads(out.read_text())
        assert (data["verdict"], data["exit_code"], data["error"]["kind"]) == (
            "failed",
            1,
            "report",
        )


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": "success", "result": {"critical": 0, "major": 5, "major": 0}}',
        b'{"status": "failed", "status": "success", "result": {"critical": 0}}',
        b'{"status": "success", "result": {"critical": 0}, "result": {}}',
        b'[{"a": 1}, {"b": {"c": 1, "c": 1}}]',
    ],
)
def test_duplicate_keys_are_an_ambiguous_answer(body):
    with pytest.raises(ReportError, match="appears twice"):
        decode_json(body)


def test_error_code_null_in_a_success_answer_is_not_an_error():
    payload = {"status": "success", "error_code": None, "error_msg": None, "result": PASS}
    assert report_from_payload(payload).readable_counts()["critical"] == 0
    with pytest.raises(GateError, match=r"CC\.1"):
        report_from_payload({**payload, "error_code": "CC.1"})


@pytest.mark.parametrize(
    ("args", "env", "major_max"),
    [
        (["--max-major", "0"], {"CODEARTS_MAX": "major=off"}, 0),  # flag beats variable
        (["--max", "major=0"], {"CODEARTS_MAX_MAJOR": "9"}, 0),
        (["--max-major", "9"], {"CODEARTS_MAX": "major=0"}, 9),
        (["--max", "major=9", "--max-major", "0"], {}, 9),  # README: --max NAME=N wins
        (["--max-major", "0", "--max", "major=9"], {}, 9),
        ([], {"CODEARTS_MAX": "major=9", "CODEARTS_MAX_MAJOR": "0"}, 9),
    ],
)
def test_a_flag_beats_a_variable_and_max_name_beats_max_dash_name(tmp_path, args, env, major_max):
    path = report_file(tmp_path, {"critical": 0, "major": 5, "UNRESOLVED_ADD": 0})
    out = tmp_path / "r.json"
    cli(["--report-file", path, "--json", str(out), *args], env=env)
    checks = {c["metric"]: c["max"] for c in json.loads(out.read_text())["checks"]}
    assert checks.get("major") == major_max


def test_a_job_id_flag_beats_a_report_file_variable_and_the_other_way_round(fake_api, tmp_path):
    saved = report_file(tmp_path, {"critical": 9, "major": 0, "UNRESOLVED_ADD": 0})
    env = {"CODEARTS_ENDPOINT": fake_api.url, "CODEARTS_TOKEN": fake_api.token}
    online = cli(["--job-id", JOB], env={**env, "CODEARTS_REPORT_FILE": saved})
    assert online.exit_code == 0 and len(fake_api.requests) == 1, online.output
    offline = cli(["--report-file", saved], env={**env, "CODEARTS_JOB_ID": JOB})
    assert offline.exit_code == 1 and len(fake_api.requests) == 1, offline.output


def test_a_credential_flag_beats_credential_variables(fake_api):
    env = {
        "CODEARTS_ENDPOINT": fake_api.url,
        "CODEARTS_JOB_ID": JOB,
        "CODEARTS_AK": AK,
        "CODEARTS_SK": SK,
    }
    result = cli(["--token", fake_api.token], env=env)
    assert result.exit_code == 0, result.output
    assert fake_api.requests[0].header("X-Auth-Token") == fake_api.token


@pytest.mark.parametrize(
    "content", ["", "\n  \n", "{not json", "[1, 2]", '"text"', '{"status": "success"}']
)
def test_a_corrupt_or_empty_report_file_is_exit_2_naming_it(tmp_path, content):
    path = report_file(tmp_path, content, "saved answer.json")
    out = tmp_path / "r.json"
    result = cli(["--report-file", path, "--json", str(out)])
    assert result.exit_code == 2, result.output
    assert "saved answer.json" in result.stderr
    assert json.loads(out.read_text())["exit_code"] == 2


def test_an_error_answer_from_a_file_is_not_said_to_come_from_the_service(tmp_path):
    path = report_file(
        tmp_path, {"status": "failed", "error_code": "CC.00050006", "error_msg": "x"}
    )
    result = cli(["--report-file", path])
    assert result.exit_code == 4
    assert "the service answered" not in result.stderr and "HTTP 200" not in result.stderr
    assert "holds an error answer" in result.stderr and "report.json" in result.stderr


# --------------------------------------------------------------------------- unwritable outputs


def fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(("major", "code"), [(0, 2), (5, 1)])
def test_an_unwritable_output_agrees_everywhere_and_is_told_once(tmp_path, major, code):
    path = report_file(tmp_path, {"critical": 0, "major": major, "UNRESOLVED_ADD": 0})
    junit = fifo(tmp_path, "junit.xml")  # nobody reads it: writing fails at once, no hang
    out = tmp_path / "r.json"
    for quiet in ([], ["-q"]):
        result = cli(["--report-file", path, "--json", str(out), "--junit", str(junit), *quiet])
        assert result.exit_code == code, result.output
        assert json.loads(out.read_text())["exit_code"] == code
        assert f"not written: --junit; exit {code}" in result.stdout
        assert result.stderr.count("cannot write --junit") == 1


def test_an_unwritable_output_found_before_sending_is_told_once(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli(["--report-file", "-", "--junit", str(blocker / "sub" / "j.xml")], input="{}")
    assert result.exit_code == 2
    assert result.stderr.count("j.xml") == 1, result.stderr


# --------------------------------------------------------------------------- malformed environment


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem", "REQUESTS_CA_BUNDLE"),
        ("CURL_CA_BUNDLE", "/nonexistent/ca.pem", "CURL_CA_BUNDLE"),
        ("SSL_CERT_FILE", "/nonexistent/ca.pem", "SSL_CERT_FILE"),
        ("HTTPS_PROXY", "http://[::1", "HTTPS_PROXY"),
        ("HTTPS_PROXY", "http://proxy:notaport", "HTTPS_PROXY"),
        ("HTTPS_PROXY", "http://user:pa55@:8080", "HTTPS_PROXY"),
    ],
)
@pytest.mark.parametrize("check", [[], ["--check"]])
def test_malformed_network_variables_are_exit_2_with_outputs(
    fake_api, tmp_path, variable, value, words, check
):
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token, CODEARTS_JOB_ID=JOB
    )
    env.update({variable: value, "NO_PROXY": ""})
    run = run_gate(tmp_path, *check, env=env, timeout=30)
    assert run.code == 2, run.stdout + run.stderr
    assert words in run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "pa55" not in run.everything()
    assert len(fake_api.requests) == 0
    if not check:
        assert run.json["exit_code"] == 2 and run.junit.find("testcase/error") is not None


@pytest.mark.parametrize("where", ["name too long", "parent is a file"])
def test_an_impossible_output_path_is_exit_2_with_the_other_outputs(tmp_path, where):
    (tmp_path / "file").write_text("")
    bad = {
        "name too long": tmp_path / ("x" * 300) / "j.xml",
        "parent is a file": tmp_path / "file" / "j.xml",
    }[where]
    out = tmp_path / "r.json"
    result = cli(
        ["--report-file", report_file(tmp_path, PASS), "--junit", str(bad), "--json", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert json.loads(out.read_text())["exit_code"] == 2


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user can enter (tmp_path's parents are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="gate-shared-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_ordinary_user() -> list[str]:
    """A command prefix that drops root (root enters every folder), else nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot test a folder root may not enter")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def gate_as_ordinary_user(folder: Path) -> list[str]:
    """The gate as an ordinary user can run it wherever this checkout lies. As root: a copy
    of the package (and of click, for its messages) in ``folder``, run by an interpreter
    that user can reach (this one, else the system's), since a checkout in a private folder
    (/root, ``mktemp -d``) keeps the venv and the editable install out of that user's reach."""
    prefix = as_ordinary_user()
    if not prefix:
        return [str(GATE)]
    site = folder / "site"
    for package in (gate, click):
        source = Path(package.__file__).parent
        shutil.copytree(source, site / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [site, *site.rglob("*")]:  # readable whatever the umask of the clone was
        path.chmod(0o755 if path.is_dir() else 0o644)
    candidates = [os.path.realpath(sys.executable), shutil.which("python3", path="/usr/bin:/bin")]
    check = "import sys, json; sys.exit(sys.version_info < (3, 10))"
    for python in filter(None, candidates):
        command = [*prefix, "env", f"PYTHONPATH={site}", python]
        probe = subprocess.run([*command, "-c", check], capture_output=True, check=False)
        if probe.returncode == 0:
            return [*command, "-m", "gate"]
    pytest.skip(f"user 65534 can reach none of the interpreters {candidates}")


def test_an_output_in_a_folder_the_user_cannot_enter_is_exit_2(shared_folder):
    locked = shared_folder / "locked"
    locked.mkdir(mode=0o700)
    locked.chmod(0o000 if os.geteuid() != 0 else 0o700)  # root owns it: 0700 shuts others out
    report = Path(report_file(shared_folder, PASS))
    report.chmod(0o644)
    out = shared_folder / "r.json"
    command = [*gate_as_ordinary_user(shared_folder), "--report-file", str(report)]
    command += ["--junit", str(locked / "sub" / "j.xml"), "--json", str(out)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        locked.chmod(0o700)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("j.xml") == 1
    assert "verdict: NO VERDICT (output)" in proc.stdout
    assert json.loads(out.read_text())["exit_code"] == 2


@pytest.mark.parametrize("option", ["--report-file", "--token-file"])
def test_a_fifo_nobody_writes_to_is_exit_2_not_a_hang(tmp_path, option):
    path = fifo(tmp_path, "pipe")
    env = clean_env(CODEARTS_JOB_ID=JOB, CODEARTS_ENDPOINT="http://127.0.0.1:9")
    run = run_gate(tmp_path, option, str(path), env=env, timeout=30)  # a hang is killed here
    assert run.code == 2, run.stderr
    assert "empty" in run.stderr and run.json["exit_code"] == 2


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CODEARTS_CA_BUNDLE"])
def test_a_ca_bundle_variable_naming_a_fifo_is_exit_2_not_a_hang(fake_api, tmp_path, variable):
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token, CODEARTS_JOB_ID=JOB
    )
    env[variable] = str(fifo(tmp_path, "ca.pem"))
    run = run_gate(tmp_path, env=env, timeout=30)  # a hang is killed here
    assert run.code == 2, run.stderr
    assert variable in run.stderr and len(fake_api.requests) == 0


def test_a_report_file_from_process_substitution_still_works(tmp_path):
    path = fifo(tmp_path, "pipe")
    writer = threading.Thread(target=lambda: path.write_text(json.dumps(PASS)))
    writer.start()
    run = run_gate(tmp_path, "--report-file", str(path), env=clean_env(), timeout=30)
    writer.join()
    assert run.code == 0, run.stderr


def test_a_token_file_from_process_substitution_is_read_once_and_masked(fake_api, tmp_path):
    path = fifo(tmp_path, "token")
    writer = threading.Thread(target=lambda: path.write_text(fake_api.token + "\n"))
    writer.start()
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url,
        CODEARTS_JOB_ID=JOB,
        CODEARTS_TOKEN_FILE=str(path),
        GITHUB_ACTIONS="true",
    )
    run = run_gate(tmp_path, env=env, timeout=30)
    writer.join()
    assert run.code == 0, run.stderr
    assert f"::add-mask::{fake_api.token}" in run.stdout.splitlines()


HOSTILE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
) | st.sampled_from(
    [
        "",
        " ",
        "-1",
        "0",
        "1e999",
        "nan",
        "off",
        "http://[::1",
        "/dev/null",
        "/",
        "..",
        "a=b,c",
        "##[error]x",
        "::error::x",
    ]
)
ENVIRONMENT = [
    "CODEARTS_TIMEOUT",
    "CODEARTS_MAX",
    "CODEARTS_MAX_MAJOR",
    "CODEARTS_ON_ERROR",
    "CODEARTS_REGION",
    "CODEARTS_JOB_ID",
    "CODEARTS_TASK_ID",
    "CODEARTS_CA_BUNDLE",
    "CODEARTS_ENDPOINT",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "CODEARTS_TOKEN_FILE",
    "CODEARTS_PROJECT_ID",
]


@pytest.fixture(scope="module")
def module_api() -> Iterator[FakeCodeArts]:
    with FakeCodeArts() as api:
        yield api


@settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(variable=st.sampled_from(ENVIRONMENT), value=HOSTILE)
def test_any_malformed_environment_value_ends_by_the_contract(
    module_api, tmp_path, variable, value
):
    out = tmp_path / "r.json"
    out.unlink(missing_ok=True)
    env = {
        "CODEARTS_ENDPOINT": module_api.url,
        "CODEARTS_TOKEN": module_api.token,
        "CODEARTS_JOB_ID": JOB,
        "CODEARTS_TIMEOUT": "2",
        # a hostile region or endpoint may name a real host: only loopback is reached
        # directly, anything else goes to a proxy that refuses at once (no DNS, no network)
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
        variable: value,
    }
    if variable == "CODEARTS_TOKEN_FILE":
        env["CODEARTS_TOKEN"] = None
    result = cli(["--json", str(out)], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1, 2, 3, 4)
    assert json.loads(out.read_text())["exit_code"] == result.exit_code
    assert unsafe_text(result.stdout) is None and unsafe_text(result.stderr) is None
    if result.exit_code:
        assert "codearts-gate: error:" in result.stderr


# =========================================================================== injection

COMMANDS = st.sampled_from(
    [
        "##[",
        "##[set-env name=X;]",
        "##[error]",
        "::",
        "::error::",
        "#",
        "[",
        "\n::warning::",
        "%0A::",
    ]
)


@settings(max_examples=examples(300), deadline=None)
@given(parts=st.lists(st.one_of(COMMANDS, st.text(max_size=10)), max_size=12))
def test_one_line_never_leaves_a_workflow_command(parts):
    shown = one_line("".join(parts))
    assert "##[" not in shown and "\n" not in shown


@settings(
    max_examples=examples(80),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    message=st.lists(st.one_of(COMMANDS, st.text(max_size=8)), max_size=10).map("".join),
    where=st.sampled_from(["error_msg", "REPORT_URL", "TOOL_LIST"]),
)
def test_service_text_prints_no_workflow_command_on_any_stream(tmp_path, message, where):
    if where == "error_msg":
        payload: dict[str, Any] = {
            "status": "failed",
            "error_code": "CC.00050006",
            "error_msg": message,
        }
    else:
        value = [message] if where == "TOOL_LIST" else message
        payload = {"status": "success", "result": {**PASS, "major": 3, where: value}}
    path = report_file(tmp_path, payload)
    result = cli(["--report-file", path, "-vv"], env={"GITHUB_ACTIONS": "true"})
    for line in (result.stdout + result.stderr).splitlines():
        assert "##[" not in line, line
        assert not line.lstrip().startswith("::") or re.match(
            r"::(error|warning|add-mask|group|endgroup)\b", line
        ), line


def test_a_rejected_job_id_is_escaped_in_the_summary(tmp_path):
    summary = tmp_path / "s.md"
    job = "[click](https://evil.example)`*_<b>"
    cli(["--job-id", job, "--summary", str(summary)], env={"CODEARTS_TOKEN": "tok-SECRET-0123"})
    body = summary.read_text()
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", body)  # code spans render literally
    assert "[click](" not in outside_code and "<b>" not in outside_code
    assert "**Job:** ``" in body  # a fence longer than the job id's own backtick


def test_urls_in_service_messages_stay_links_and_the_file_stays_readable():
    message = "see https://support.huaweicloud.com/api-codecheck/errorcode.html. (CC.1) a_b*c"
    escaped = md_escape(message)
    assert "<https://support.huaweicloud.com/api-codecheck/errorcode.html>." in escaped
    assert "(CC.1)" in escaped and "a\\_b\\*c" in escaped


# =========================================================================== first run


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (no TLS)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def test_check_honours_timeout(silent_port, tmp_path):
    env = clean_env(
        CODEARTS_ENDPOINT=f"https://127.0.0.1:{silent_port}",
        CODEARTS_TOKEN="tok-SECRET-0123",
        CODEARTS_JOB_ID=JOB,
    )
    # the process is killed past 8 s: the connect timeout alone used to take 10 s
    proc = subprocess.run(
        [str(GATE), "--check", "--timeout", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=8,
        check=False,
    )
    assert proc.returncode == 4, proc.stdout
    assert "FAIL  tls" in proc.stdout


def test_check_does_not_blame_tls_when_the_proxy_is_down(tmp_path):
    env = clean_env(
        CODEARTS_TOKEN="tok-SECRET-0123", CODEARTS_JOB_ID=JOB, HTTPS_PROXY="http://127.0.0.1:9"
    )
    env["NO_PROXY"] = ""
    run = run_gate(tmp_path, "--check", "--timeout", "5", env=env)
    assert run.code == 4
    assert "FAIL  proxy-tcp" in run.stdout and "TLS" not in run.stdout


def test_check_with_a_report_file_does_not_suggest_one(tmp_path):
    result = cli(
        ["--check", "--report-file", report_file(tmp_path, PASS)],
        env={"CODEARTS_TOKEN": "tok-SECRET-0123"},
    )
    assert result.exit_code == 2
    assert "--check calls the service" in result.stderr and "or judge" not in result.stderr


def connection_failure(reason: BaseException) -> ConnectError:
    """What the client raises when a connect fails: the socket's error as its cause."""
    failure = ConnectError(str(reason))
    failure.__cause__ = reason
    return failure


def test_an_unresolvable_host_is_named_as_dns_with_what_to_check():
    name_error = socket.gaierror(-2, "Name or service not known")
    err = transport_error(connection_failure(name_error), "https://x.invalid/v1", Deadline(10))
    assert "cannot resolve x.invalid (DNS)" in err.message and "--endpoint" in (err.hint or "")


def test_a_refused_connection_is_named_with_what_to_check():
    refused = ConnectionRefusedError(111, "Connection refused")
    err = transport_error(connection_failure(refused), "https://h:8443/v1", Deadline(10))
    assert "h:8443 refused the connection" in err.message and "port" in (err.hint or "")


def test_a_refused_connection_on_loopback_is_named_by_the_real_client():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]  # closed below: nothing listens there then
    url = f"http://127.0.0.1:{port}/v1"
    with Session(env={}) as http, pytest.raises(GateError) as caught:
        send(http, url, Deadline(10))
    assert f"127.0.0.1:{port} refused the connection" in caught.value.message
    assert request_not_sent(caught.value)


def test_junit_names_are_stable_and_do_not_look_like_files():
    def names(maximum: int, job: str) -> set[tuple[str, str]]:
        verdict = replace(evaluate(Report(PASS), build_policy([("major", maximum)])), job_id=job)
        xml = render("junit", verdict)
        return set(re.findall(r'<testcase name="([^"]*)" classname="([^"]*)"', xml))

    assert names(0, "job-a") == names(7, "job-b")
    [(name, classname)] = names(0, "job-a")
    assert "0" not in name and "." not in classname and classname == CLASSNAME


def test_quiet_keeps_the_verdict_line_on_errors():
    result = cli(["-q", "--report-file", "-"], input='{"major": 0}')
    assert result.exit_code == 4 and "verdict: NO VERDICT (report)" in result.stdout


def test_one_check_is_one_check(tmp_path):
    result = cli(
        [
            "--report-file",
            report_file(tmp_path, PASS),
            "--max-critical",
            "off",
            "--max-major",
            "off",
        ]
    )
    assert "verdict: PASSED (1 check within their maximum)" in result.stdout


def test_outputs_keep_their_mode_and_new_ones_honour_the_umask(tmp_path):
    path = report_file(tmp_path, PASS)
    kept = tmp_path / "kept.json"
    kept.write_text("")
    kept.chmod(0o600)
    old = os.umask(0o077)
    try:
        cli(["--report-file", path, "--json", str(kept), "--junit", str(tmp_path / "new.xml")])
    finally:
        os.umask(old)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new.xml").stat().st_mode) == 0o600
    assert json.loads(kept.read_text())["exit_code"] == 0


def test_plain_outputs_are_readable_under_the_usual_umask(tmp_path):
    old = os.umask(0o022)
    try:
        cli(["--report-file", report_file(tmp_path, PASS), "--json", str(tmp_path / "r.json")])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644
