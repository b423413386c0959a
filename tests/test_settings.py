"""Validating the raw options: identifiers, endpoints, timeouts, credentials, secrecy."""

from __future__ import annotations

import pytest

from gate.errors import UsageError
from gate.settings import RawOptions, build_settings, endpoint_of, is_loopback

TOKEN = "tok-SECRET-value-123"
BASE = {"job_id": "2b31ed520aaaaaaebedb6e57bbbbbbbb", "token": TOKEN}


def settings(**changes: object):
    return build_settings(RawOptions(**{**BASE, **changes}))


def test_minimal_settings():
    s = settings()
    assert s.endpoint == "https://codearts-check.cn-north-4.myhuaweicloud.com"
    assert s.task_id == ""
    assert s.timeout == 300.0
    assert s.warn_on_error is False


def test_region_derives_endpoint():
    assert settings(region="ap-southeast-3").endpoint == (
        "https://codearts-check.ap-southeast-3.myhuaweicloud.com"
    )


def test_explicit_endpoint_wins_and_loses_trailing_slash():
    s = settings(endpoint="https://check.eu-west-101.myhuaweicloud.eu/", region="cn-north-1")
    assert s.endpoint == "https://check.eu-west-101.myhuaweicloud.eu"


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://codearts-check.cn-north-4.myhuaweicloud.com",
        "ftp://x",
        "codearts-check.cn-north-4.myhuaweicloud.com",
        "https://user:pw@host",
        "https://host/?q=1",
        "http://10.0.0.1:8080",
    ],
)
def test_unsafe_or_malformed_endpoints_are_refused(endpoint):
    with pytest.raises(UsageError, match="--endpoint"):
        endpoint_of(endpoint, None)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "localhost", "::1"])
def test_loopback_hosts(host):
    assert is_loopback(host)


def test_plain_http_allowed_for_loopback():
    assert endpoint_of("http://127.0.0.1:8080", None) == "http://127.0.0.1:8080"


@pytest.mark.parametrize("job_id", ["../x", "a?b", "%2e%2e", "a/b", "x" * 65, "a b", "ä"])
def test_hostile_job_ids_are_usage_errors(job_id):
    with pytest.raises(UsageError, match="--job-id"):
        settings(job_id=job_id)


@pytest.mark.parametrize("task_id", ["x" * 33, "a&async=true", "a#b"])
def test_bad_task_ids_are_usage_errors(task_id):
    with pytest.raises(UsageError, match="--task-id"):
        settings(task_id=task_id)


def test_missing_job_id_is_usage_error():
    with pytest.raises(UsageError, match="no job id"):
        settings(job_id=None)


def test_missing_credentials_is_usage_error():
    with pytest.raises(UsageError, match="no credentials"):
        settings(token=None)


def test_report_file_needs_neither_job_id_nor_credentials():
    s = build_settings(RawOptions(report_file="r.json"))
    assert s.credentials is None and s.job_id is None


@pytest.mark.parametrize("timeout", ["0", "-5", "abc", "nan", "inf", "86401"])
def test_bad_timeouts(timeout):
    with pytest.raises(UsageError, match="--timeout"):
        settings(timeout=timeout)


def test_on_error_values():
    assert settings(on_error="WARN").warn_on_error is True
    with pytest.raises(UsageError, match="--on-error"):
        settings(on_error="ignore")


def test_token_never_in_repr_of_settings_or_raw_options():
    s = settings()
    assert TOKEN not in repr(s) and TOKEN not in str(s)
    assert TOKEN not in repr(RawOptions(**BASE))
    assert s.secrets() == (TOKEN,)
