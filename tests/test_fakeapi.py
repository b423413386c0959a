"""Self-tests of the fake CodeArts Check API (tests/fakeapi.py), driven with plain requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from fakeapi import (
    EXAMPLE_REPORT,
    PASS_REPORT,
    SCENARIOS,
    FakeCodeArts,
    canonical_request,
    expected_signature,
    hang_step,
    json_step,
    report_step,
    sleep_step,
    string_to_sign,
    trickle_step,
)

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "signing_vectors.json").read_text())
JOB = "2b31ed520a1b4c2d8e9febedb6e57abc"
TIMEOUT = 10


def refresh_url(api: FakeCodeArts, query: str = "async=false&task_id=") -> str:
    return f"{api.url}/v1/jobs/{JOB}/result/refresh?{query}"


def put(url: str, **kw: Any) -> requests.Response:
    return requests.put(url, timeout=kw.pop("timeout", TIMEOUT), **kw)


def token_put(api: FakeCodeArts, **kw: Any) -> requests.Response:
    return put(refresh_url(api), headers={"X-Auth-Token": api.token}, **kw)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sign(
    url: str,
    ak: str,
    sk: str,
    *,
    method: str = "PUT",
    body: bytes = b"",
    extra: dict[str, str] | None = None,
    date: datetime | None = None,
) -> dict[str, str]:
    """An independent client-side signer (section 4), returning the headers to send."""
    split = urlsplit(url)
    stamp = (date or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    headers = {"Content-Type": "application/json", "X-Sdk-Date": stamp, "Host": split.netloc}
    headers.update(extra or {})
    signable = sorted((k.lower(), v) for k, v in headers.items() if "_" not in k)
    signed = ";".join(name for name, _ in signable)
    uri = "/".join(quote(seg, safe="~") for seg in split.path.split("/")) + "/"
    pairs = sorted(parse_qsl(split.query, keep_blank_values=True))
    query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
    lines = "".join(f"{name}:{value.strip()}\n" for name, value in signable)
    canonical = "\n".join([method, uri, query, lines, signed, _sha(body)])
    to_sign = f"SDK-HMAC-SHA256\n{stamp}\n{_sha(canonical.encode())}"
    sig = hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={signed}, Signature={sig}"
    )
    return headers


# ----------------------------------------------------------------- signing vectors


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_verifier_reproduces_sdk_vectors(vector: dict[str, Any]) -> None:
    out = vector["output"]
    split = urlsplit(out["final_url"])
    headers = {k: v for k, v in out["final_headers"].items() if k != "Authorization"}
    body = (out["body"] or "").encode()
    args = (
        vector["input"]["method"],
        split.path,
        split.query,
        headers,
        body,
        out["signed_headers"],
    )
    canonical = canonical_request(*args)
    assert canonical == out["canonical_request"]
    assert string_to_sign(canonical, headers["X-Sdk-Date"]) == out["string_to_sign"]
    assert expected_signature(vector["sk"], *args) == out["signature"]


def test_test_signer_matches_vectors() -> None:
    vector = VECTORS["vectors"][0]
    date = datetime.strptime(vector["input"]["headers"]["X-Sdk-Date"], "%Y%m%dT%H%M%SZ")
    headers = sign(vector["output"]["final_url"], vector["ak"], vector["sk"], date=date)
    assert headers["Authorization"] == vector["output"]["authorization"]


# ----------------------------------------------------------------- refresh + auth


def test_pass_scenario_returns_envelope(fake_api: FakeCodeArts) -> None:
    resp = token_put(fake_api)
    assert resp.status_code == 200
    assert resp.json() == {"status": "success", "httpStatus": "OK", "result": PASS_REPORT}
    assert resp.headers["X-Request-Id"] == fake_api.requests[-1].request_id
    rec = fake_api.requests[-1]
    assert (rec.method, rec.raw_query, rec.query) == (
        "PUT",
        "async=false&task_id=",
        {"async": ["false"], "task_id": [""]},
    )
    assert rec.header("x-auth-token") == fake_api.token


def test_fail_scenario_serves_documented_example(fake_api_factory: Any) -> None:
    api = fake_api_factory(scenario="fail")
    result = token_put(api).json()["result"]
    assert result == EXAMPLE_REPORT
    assert (result["CRITICAL"], result["major"], result["critical"]) == (4, 4, 0)


def test_custom_report_scenario(fake_api_factory: Any) -> None:
    api = fake_api_factory(report={"critical": 1}, scenario="report")
    assert token_put(api).json()["result"] == {"critical": 1}


@pytest.mark.parametrize(
    "headers",
    [{"X-Auth-Token": "wrong"}, {}, {"Authorization": "Bearer x"}],
    ids=["wrong-token", "none", "other-scheme"],
)
def test_bad_credentials_get_apigw_0301(fake_api: FakeCodeArts, headers: dict[str, str]) -> None:
    resp = put(refresh_url(fake_api), headers=headers)
    body = resp.json()
    assert resp.status_code == 401
    assert body["error_code"] == "APIGW.0301"
    assert body["error_msg"].startswith("Incorrect IAM authentication information")
    assert body["request_id"] == resp.headers["X-Request-Id"]


def test_aksk_signed_request_is_verified(fake_api: FakeCodeArts) -> None:
    url = refresh_url(fake_api)
    resp = put(url, headers=sign(url, fake_api.ak, fake_api.sk))
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"] == PASS_REPORT


def test_aksk_with_body_and_project(fake_api_factory: Any) -> None:
    api = fake_api_factory(project_id="0a1b2c3d")
    url = refresh_url(api)
    headers = sign(url, api.ak, api.sk, body=b"{}", extra={"X-Project-Id": "0a1b2c3d"})
    assert put(url, headers=headers, data=b"{}").status_code == 200
    headers = sign(url, api.ak, api.sk, body=b"{}")
    assert put(url, headers=headers, data=b"{}").json()["error_code"] == "APIGW.0301"


@pytest.mark.parametrize("tamper", ["signature", "ak", "body", "query", "unsigned-host"])
def test_aksk_rejections(fake_api: FakeCodeArts, tamper: str) -> None:
    url = refresh_url(fake_api)
    ak = "HPUAOTHER" if tamper == "ak" else fake_api.ak
    headers = sign(url, ak, fake_api.sk)
    if tamper == "signature":
        headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    if tamper == "unsigned-host":
        headers["Authorization"] = headers["Authorization"].replace("host;", "")
    if tamper == "query":
        url = refresh_url(fake_api, "async=false&task_id=abc")
    data = b"{}" if tamper == "body" else None
    resp = put(url, headers=headers, data=data)
    assert (resp.status_code, resp.json()["error_code"]) == (401, "APIGW.0301")


def test_aksk_clock_skew_gets_apigw_0303(fake_api: FakeCodeArts) -> None:
    url = refresh_url(fake_api)
    late = datetime.now(timezone.utc) - timedelta(minutes=16)
    resp = put(url, headers=sign(url, fake_api.ak, fake_api.sk, date=late))
    assert (resp.status_code, resp.json()["error_code"]) == (401, "APIGW.0303")
    near = datetime.now(timezone.utc) - timedelta(minutes=14)
    assert put(url, headers=sign(url, fake_api.ak, fake_api.sk, date=near)).status_code == 200


def test_five_bad_signatures_lock_the_key(fake_api: FakeCodeArts) -> None:
    url = refresh_url(fake_api)
    for _ in range(5):
        assert put(url, headers=sign(url, fake_api.ak, "wrong-sk")).status_code == 401
    resp = put(url, headers=sign(url, fake_api.ak, fake_api.sk))
    assert resp.status_code == 401
    assert "locked" in resp.json()["error_msg"]


def test_request_shape(fake_api: FakeCodeArts) -> None:
    headers = {"X-Auth-Token": fake_api.token}
    resp = put(refresh_url(fake_api, "task_id="), headers=headers)
    assert resp.json() == {"status": "success", "httpStatus": "OK"}
    resp = put(refresh_url(fake_api, "async=true&task_id="), headers=headers)
    assert "result" not in resp.json()
    resp = put(refresh_url(fake_api, "async=false"), headers=headers)
    assert (resp.status_code, resp.json()["error_code"]) == (400, "CC.00050000")


def test_unknown_route_is_apigw_0101(fake_api: FakeCodeArts) -> None:
    resp = requests.get(
        refresh_url(fake_api), headers={"X-Auth-Token": fake_api.token}, timeout=TIMEOUT
    )
    assert (resp.status_code, resp.json()["error_code"]) == (404, "APIGW.0101")


# ----------------------------------------------------------------- IAM


def login_body(
    user: str = "ci-bot", password: str = "fake-password-!@#", domain: str = "acme"
) -> dict[str, Any]:
    user_obj = {"name": user, "password": password, "domain": {"name": domain}}
    identity = {"methods": ["password"], "password": {"user": user_obj}}
    return {"auth": {"identity": identity, "scope": {"project": {"name": "cn-north-4"}}}}


def login(
    api: FakeCodeArts, body: Any, content_type: str = "application/json;charset=utf8"
) -> requests.Response:
    data = json.dumps(body).encode()
    headers = {"Content-Type": content_type}
    return requests.post(f"{api.url}/v3/auth/tokens", data=data, headers=headers, timeout=TIMEOUT)


def test_iam_login_returns_subject_token(fake_api: FakeCodeArts) -> None:
    resp = login(fake_api, login_body())
    assert resp.status_code == 201
    assert resp.headers["X-Subject-Token"] == fake_api.token
    token = resp.json()["token"]
    assert token["methods"] == ["password"]
    assert datetime.strptime(token["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ") > datetime.now()
    assert fake_api.login_count == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (login_body(password="nope"), "The username or password is wrong."),
        (login_body(user="someone"), "The username or password is wrong."),
        (login_body(domain="other"), "The account (domain name) does not exist or is wrong."),
    ],
)
def test_iam_login_rejections(fake_api: FakeCodeArts, body: Any, message: str) -> None:
    resp = login(fake_api, body)
    assert resp.status_code == 401
    assert resp.json() == {"error": {"code": 401, "message": message, "title": "Unauthorized"}}
    assert "X-Subject-Token" not in resp.headers


def test_iam_login_checks_shape_and_content_type(fake_api: FakeCodeArts) -> None:
    bad = login_body()
    bad["auth"]["identity"]["methods"] = ["password", "totp"]
    assert login(fake_api, bad).status_code == 400
    assert login(fake_api, login_body(), content_type="text/plain").status_code == 400
    assert fake_api.login_count == 2


def test_iam_scenarios(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = "mfa_required"
    assert login(fake_api, login_body()).json()["error_code"] == "IAM.0101"
    fake_api.scenario = "user_locked"
    resp = login(fake_api, login_body())
    assert (resp.status_code, resp.json()["error"]["message"]) == (401, "The account is locked.")


# ----------------------------------------------------------------- scenarios


REQUIRED = [
    "pass",
    "fail",
    "legacy_only",
    "int_http_status",
    "expired_token_401",
    "bad_request_400",
    "error_envelope_200",
    "no_permission_200",
    "non_json",
    "missing_count",
    "string_counts",
    "bad_count",
    "flaky_503_then_pass",
    "retry_later_then_pass",
    "rate_limited_429",
    "always_503",
    "slow",
    "hang",
    "reset_mid_body",
    "truncated_json",
    "trickle",
    "empty_body",
    "html_proxy_502",
    "redirect_other_host",
    "redirect_https",
    "apigw_0303",
    "apigw_0308_always",
    "mfa_required",
    "user_locked",
]


def test_all_required_scenarios_exist() -> None:
    assert set(REQUIRED) <= set(SCENARIOS)


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("expired_token_401", 401, "CC.00000003"),
        ("bad_request_400", 400, "CC.00050000"),
        ("error_envelope_200", 200, "CC.00050006"),
        ("no_permission_200", 200, "CC.00050010"),
        ("apigw_0303", 401, "APIGW.0303"),
        ("apigw_0308_always", 429, "APIGW.0308"),
        ("always_503", 503, "APIGW.0202"),
    ],
)
def test_error_scenarios(fake_api: FakeCodeArts, name: str, status: int, code: str) -> None:
    fake_api.scenario = name
    resp = token_put(fake_api)
    assert (resp.status_code, resp.json()["error_code"]) == (status, code)


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("legacy_only", lambda r: "critical" not in r and r["CRITICAL"] == 4),
        ("missing_count", lambda r: "critical" not in r and "FATAL" not in r),
        ("string_counts", lambda r: r["major"] == "4"),
        ("bad_count", lambda r: r["major"] == -1),
    ],
)
def test_report_shape_scenarios(fake_api: FakeCodeArts, name: str, check: Any) -> None:
    fake_api.scenario = name
    assert check(token_put(fake_api).json()["result"])


def test_int_http_status(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = "int_http_status"
    assert token_put(fake_api).json()["httpStatus"] == 200


@pytest.mark.parametrize(
    ("name", "status", "ctype", "length"),
    [
        ("non_json", 200, "text/html", None),
        ("html_proxy_502", 502, "text/html", None),
        ("empty_body", 200, "application/json", 0),
    ],
)
def test_non_json_scenarios(
    fake_api: FakeCodeArts, name: str, status: int, ctype: str, length: int | None
) -> None:
    fake_api.scenario = name
    resp = token_put(fake_api)
    assert resp.status_code == status
    assert resp.headers["Content-Type"].startswith(ctype)
    assert length is None or len(resp.content) == length


def test_steps_advance_and_last_repeats(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = "flaky_503_then_pass"
    assert [token_put(fake_api).status_code for _ in range(4)] == [503, 503, 200, 200]
    fake_api.scenario = [json_step(418, {"n": 1}), json_step(200, {"n": 2})]
    assert [token_put(fake_api).json() for _ in range(3)] == [{"n": 1}, {"n": 2}, {"n": 2}]


def test_rate_limited_then_pass(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = "rate_limited_429"
    first = token_put(fake_api)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert token_put(fake_api).status_code == 200


def test_unknown_scenario_rejected(fake_api: FakeCodeArts) -> None:
    with pytest.raises(KeyError):
        fake_api.scenario = "no-such-scenario"


def test_sleep_step(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = [sleep_step(0.3, report_step(PASS_REPORT))]
    start = time.monotonic()
    assert token_put(fake_api).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_trickle_delivers_slowly(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = [trickle_step(0.02, json_step(200, {"a": 1}))]
    start = time.monotonic()
    assert token_put(fake_api).json() == {"a": 1}
    assert time.monotonic() - start >= 0.15


@pytest.mark.parametrize("name", ["reset_mid_body", "truncated_json"])
def test_broken_bodies(fake_api: FakeCodeArts, name: str) -> None:
    fake_api.scenario = name
    with pytest.raises(requests.RequestException):
        token_put(fake_api)


@pytest.mark.parametrize("name", ["hang", "slow", "trickle"])
def test_stop_releases_blocked_handlers(name: str) -> None:
    api = FakeCodeArts(scenario=name)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(token_put, api, timeout=30)
        arrived = time.monotonic() + 10
        while not api.requests and time.monotonic() < arrived:  # blocked in its handler now
            time.sleep(0.01)
        start = time.monotonic()
        api.stop()
        assert time.monotonic() - start < 5
        with pytest.raises(requests.RequestException):
            future.result(timeout=10)
    assert len(api.requests) == 1


def test_hang_step_helper_is_hang() -> None:
    assert hang_step().kind == "hang" and SCENARIOS["hang"].steps == (hang_step(),)


def test_redirect_other_host(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = "redirect_other_host"
    resp = token_put(fake_api, allow_redirects=False)
    target = f"/v1/jobs/{JOB}/result/refresh?async=false&task_id="
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"http://127.0.0.2:{fake_api.port}{target}"
    if fake_api.other_origin_url is None:
        pytest.skip("127.0.0.2 could not be bound on the same port")
    # requests keeps X-Auth-Token across hosts (and turns a 302 PUT into a GET, which the
    # other origin answers 404): the other origin records the leak.
    assert token_put(fake_api).status_code == 404
    leaked = [r for r in fake_api.requests if r.origin == "127.0.0.2"]
    assert leaked and leaked[0].header("X-Auth-Token") == fake_api.token


def test_redirect_https_fails_fast(fake_api: FakeCodeArts) -> None:
    fake_api.scenario = "redirect_https"
    resp = token_put(fake_api, allow_redirects=False)
    assert resp.status_code == 301
    assert resp.headers["Location"].startswith(f"https://127.0.0.1:{fake_api.port}/v1/jobs/")
    start = time.monotonic()
    with pytest.raises(requests.exceptions.SSLError):
        token_put(fake_api)
    assert time.monotonic() - start < 5


def test_concurrent_requests_are_all_recorded(fake_api: FakeCodeArts) -> None:
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: token_put(fake_api).status_code, range(16)))
    assert codes == [200] * 16
    assert len(fake_api.requests) == 16
    assert fake_api.refresh_count == 16
