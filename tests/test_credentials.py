"""Choosing the credential method: exactly one, from flags, variables or files."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gate.cli import main
from gate.errors import UsageError
from gate.settings import (
    AkSkCredentials,
    IamPasswordCredentials,
    RawOptions,
    TokenCredentials,
    build_settings,
    raw_secrets,
)

JOB = "2b31ed520aaaaaaebedb6e57bbbbbbbb"
SK = "SK-very-SECRET-0123456789abcdef"
AK = "HPUAEXAMPLEAK0000001"
PASSWORD = "pa55-SECRET-word"
TOKEN = "tok-SECRET-abcdef"


def settings(**raw: object):
    return build_settings(RawOptions(job_id=JOB, **raw))


def test_token():
    creds = settings(token=TOKEN).credentials
    assert isinstance(creds, TokenCredentials) and creds.token.reveal() == TOKEN


def test_aksk_with_project():
    creds = settings(ak=AK, sk=SK, project_id="0a1b2c").credentials
    assert isinstance(creds, AkSkCredentials)
    assert (creds.ak, creds.sk.reveal(), creds.project_id) == (AK, SK, "0a1b2c")


def test_iam_password_default_endpoint_from_region():
    creds = settings(
        iam_user="bot", iam_password=PASSWORD, iam_domain="acme", region="ap-southeast-3"
    ).credentials
    assert isinstance(creds, IamPasswordCredentials)
    assert creds.endpoint == "https://iam.ap-southeast-3.myhuaweicloud.com"
    assert creds.project == "ap-southeast-3"


def test_none_is_a_usage_error_naming_the_ways():
    with pytest.raises(UsageError, match="CODEARTS_TOKEN, or CODEARTS_AK and CODEARTS_SK"):
        settings()


def test_two_methods_is_a_usage_error_listing_names_not_values():
    with pytest.raises(UsageError) as caught:
        settings(token=TOKEN, ak=AK, sk=SK)
    message = str(caught.value)
    assert "token: --token/CODEARTS_TOKEN" in message
    assert "AK/SK: --ak/CODEARTS_AK" in message and "--sk/CODEARTS_SK" in message
    assert TOKEN not in message and SK not in message and AK not in message


def test_three_methods_listed():
    with pytest.raises(UsageError, match="IAM password: --iam-user"):
        settings(token=TOKEN, sk=SK, iam_user="bot")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"ak": AK}, "--sk/CODEARTS_SK"),
        ({"sk": SK}, "access key id"),
        ({"iam_user": "bot", "iam_password": PASSWORD}, "--iam-domain"),
        ({"iam_domain": "acme", "iam_password": PASSWORD}, "--iam-user"),
        ({"iam_user": "bot", "iam_domain": "acme"}, "--iam-password"),
        ({"ak": AK, "sk": SK, "project_id": "../p"}, "--project-id"),
        (
            {
                "iam_user": "b",
                "iam_password": PASSWORD,
                "iam_domain": "d",
                "iam_endpoint": "http://iam.x",
            },
            "--iam-endpoint",
        ),
    ],
)
def test_incomplete_methods_are_usage_errors(raw, words):
    with pytest.raises(UsageError, match=words):
        settings(**raw)


def test_secrets_from_files_lose_one_trailing_newline(tmp_path):
    for name, text in {"t": TOKEN + "\n", "s": SK + "\r\n", "p": PASSWORD + " \n"}.items():
        (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    assert settings(token_file=str(tmp_path / "t")).credentials.token.reveal() == TOKEN
    assert settings(ak=AK, sk_file=str(tmp_path / "s")).credentials.sk.reveal() == SK
    creds = settings(
        iam_user="u", iam_domain="d", iam_password_file=str(tmp_path / "p")
    ).credentials
    assert creds.password.reveal() == PASSWORD + " "


def test_value_and_file_together_is_a_usage_error(tmp_path):
    (tmp_path / "t").write_text(TOKEN)
    with pytest.raises(UsageError, match="not both"):
        settings(token=TOKEN, token_file=str(tmp_path / "t"))


def test_unreadable_or_empty_secret_file_never_echoes_content(tmp_path):
    missing = str(tmp_path / "missing")
    with pytest.raises(UsageError, match="cannot read the file --token-file") as caught:
        settings(token_file=missing)
    assert missing not in str(caught.value)  # the path may be a secret given by mistake
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(UsageError, match="is empty"):
        settings(token_file=str(tmp_path / "empty"))


def test_secrets_absent_from_repr_and_listed_for_masking(tmp_path):
    (tmp_path / "p").write_text(PASSWORD + "\n")
    modes = [
        {"token": TOKEN},
        {"ak": AK, "sk": SK},
        {"iam_user": "u", "iam_domain": "d", "iam_password_file": str(tmp_path / "p")},
    ]
    for raw in modes:
        s = settings(**raw)
        for secret in (TOKEN, SK, PASSWORD):
            assert secret not in repr(s) and secret not in repr(s.credentials)
        assert set(s.secrets()) <= set(raw_secrets(RawOptions(**raw)))
        assert s.secrets()


def test_huawei_cloud_variables_are_read_when_ours_are_unset(monkeypatch):
    seen = {}
    monkeypatch.setattr("gate.cli.execute", lambda raw: seen.setdefault("raw", raw) and 0)
    env = {
        "HUAWEI_CLOUD_ACCESS_KEY_ID": "HWAK",
        "HUAWEI_CLOUD_SECRET_ACCESS_KEY": SK,
        "HUAWEI_CLOUD_PROJECT_ID": "proj1",
        "HUAWEI_CLOUD_REGION": "la-north-2",
    }
    CliRunner().invoke(main, [], env=env, catch_exceptions=False)
    raw = seen["raw"]
    assert (raw.ak, raw.sk, raw.project_id, raw.region) == ("HWAK", SK, "proj1", "la-north-2")
    seen.clear()
    CliRunner().invoke(main, [], env={**env, "CODEARTS_AK": "OURS"}, catch_exceptions=False)
    assert seen["raw"].ak == "OURS"
