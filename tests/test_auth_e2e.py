"""Each credential method end to end against the fake API, which checks them for real:
it recomputes AK/SK signatures server-side and serves IAM password login."""

from __future__ import annotations

import pytest
from fakeapi import FakeCodeArts
from gaterun import JOB, GateRun, clean_env, run_gate

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def base_env(api: FakeCodeArts, **extra: str) -> dict[str, str]:
    return clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_JOB_ID=JOB, **extra)


def aksk_env(api: FakeCodeArts, **extra: str) -> dict[str, str]:
    return base_env(api, **{"CODEARTS_AK": api.ak, "CODEARTS_SK": api.sk, **extra})


def iam_env(api: FakeCodeArts, **extra: str) -> dict[str, str]:
    values = {
        "CODEARTS_IAM_USER": api.iam_user,
        "CODEARTS_IAM_PASSWORD": api.iam_password,
        "CODEARTS_IAM_DOMAIN": api.iam_domain,
        "CODEARTS_IAM_ENDPOINT": api.url,
    }
    return base_env(api, **{**values, **extra})


def test_aksk_signed_request_is_verified_by_the_server(fake_api_factory, tmp_path):
    api = fake_api_factory(project_id=PROJECT)
    run = run_gate(tmp_path, env=aksk_env(api, CODEARTS_PROJECT_ID=PROJECT))
    assert run.code == 0, run.stderr
    [request] = api.requests
    assert request.headers["Authorization"].startswith(f"SDK-HMAC-SHA256 Access={api.ak}, ")
    assert request.header("X-Project-Id") == PROJECT
    assert "X-Auth-Token" not in request.headers
    assert request.raw_query == "async=false&task_id="  # the signed, sorted query is what is sent


def test_huawei_cloud_variable_names_work(fake_api_factory, tmp_path):
    api = fake_api_factory()
    env = base_env(api, HUAWEI_CLOUD_ACCESS_KEY_ID=api.ak, HUAWEI_CLOUD_SECRET_ACCESS_KEY=api.sk)
    assert run_gate(tmp_path, env=env).code == 0


def test_wrong_sk_is_refused_exit_3(fake_api_factory, tmp_path):
    api = fake_api_factory()
    run = run_gate(tmp_path, env=aksk_env(api, CODEARTS_SK="WrongSecretKey0123456789"))
    assert run.code == 3
    assert "APIGW.0301" in run.stderr and "lock" in run.stderr
    assert run.json["error"]["kind"] == "credentials"


def test_sk_from_a_file(fake_api_factory, tmp_path):
    api = fake_api_factory()
    sk_file = tmp_path / "secrets" / "sk"
    sk_file.parent.mkdir()
    sk_file.write_text(api.sk + "\n")
    env = base_env(api, CODEARTS_AK=api.ak, CODEARTS_SK_FILE=str(sk_file))
    out = tmp_path / "out"
    out.mkdir()
    assert run_gate(out, env=env).code == 0


def test_retries_are_signed_again(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="retry_later_then_pass")
    run = run_gate(tmp_path, env=aksk_env(api))
    assert run.code == 0, run.stderr
    assert len(api.requests) == 2
    assert all(r.header("X-Sdk-Date") for r in api.requests)


def test_signature_expired_says_check_the_clock(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="apigw_0303")
    run = run_gate(tmp_path, env=aksk_env(api))
    assert run.code == 3 and "clock" in run.stderr


def test_iam_login_once_then_refresh_with_the_token(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="flaky_503_then_pass")
    run = run_gate(tmp_path, env=iam_env(api))
    assert run.code == 0, run.stderr
    assert api.login_count == 1
    login, *refreshes = api.requests
    assert (login.method, login.path) == ("POST", "/v3/auth/tokens")
    body = login.json()
    assert body["auth"]["scope"] == {"project": {"name": "cn-north-4"}}
    assert body["auth"]["identity"]["methods"] == ["password"]
    assert login.header("Content-Type") == "application/json;charset=utf8"
    assert len(refreshes) == 3
    assert all(r.header("X-Auth-Token") == api.token for r in refreshes)


def test_iam_password_from_file(fake_api_factory, tmp_path):
    api = fake_api_factory()
    secret = tmp_path / "pw"
    secret.write_text(api.iam_password + "\n")
    env = iam_env(api, CODEARTS_IAM_PASSWORD="", CODEARTS_IAM_PASSWORD_FILE=str(secret))
    out = tmp_path / "out"
    out.mkdir()
    assert run_gate(out, env=env).code == 0


@pytest.mark.parametrize(
    ("scenario", "change", "hint"),
    [
        (
            "pass",
            {"CODEARTS_IAM_PASSWORD": "wrong-password"},
            "check --iam-user and --iam-password",
        ),
        ("pass", {"CODEARTS_IAM_USER": "someone-else"}, "check --iam-user and --iam-password"),
        ("pass", {"CODEARTS_IAM_DOMAIN": "other-account"}, "check --iam-domain"),
        ("mfa_required", {}, "MFA"),
        ("user_locked", {}, "locked"),
    ],
)
def test_login_failures_exit_3_saying_what_to_check(
    fake_api_factory, tmp_path, scenario, change, hint
):
    api = fake_api_factory(scenario=scenario)
    run = run_gate(tmp_path, env=iam_env(api, **change))
    assert run.code == 3, run.stderr
    assert hint in run.stderr
    assert api.login_count == 1 and len(api.requests) == 1  # no refresh without a token
    assert api.iam_password not in run.everything()
    assert "wrong-password" not in run.everything()


def test_two_methods_exit_2_and_nothing_is_sent(fake_api_factory, tmp_path):
    api = fake_api_factory()
    run = run_gate(tmp_path, env=aksk_env(api, CODEARTS_TOKEN=api.token))
    assert run.code == 2
    assert "more than one credential method" in run.stderr
    assert len(api.requests) == 0
    assert api.sk not in run.everything() and api.token not in run.everything()


MODES = {
    "token": lambda api: base_env(api, CODEARTS_TOKEN=api.token),
    "aksk": aksk_env,
    "iam": iam_env,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", ["fail", "expired_token_401", "non_json"])
def test_no_secret_anywhere_at_any_verbosity(fake_api_factory, tmp_path, mode, scenario):
    api = fake_api_factory(scenario=scenario)
    for level in range(3):
        folder = tmp_path / f"v{level}"
        folder.mkdir()
        flags = ["-" + "v" * level] if level else []
        run: GateRun = run_gate(folder, *flags, env=MODES[mode](api))
        assert run.code in (1, 3, 4)
        text = run.everything()
        for secret in (api.token, api.sk, api.iam_password):
            assert secret not in text, (mode, level, secret[:3])


def test_token_from_iam_login_is_masked_in_github_actions(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "gh-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "gh-summary"),
    }
    out = tmp_path / "out"
    out.mkdir()
    run = run_gate(out, env=iam_env(api, **github))
    assert run.code == 1, run.stderr
    masks = [line for line in run.stdout.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{api.iam_password}" in masks
    assert f"::add-mask::{api.token}" in masks  # learnt at run time, masked all the same
    rest = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert api.token not in "\n".join(rest)
