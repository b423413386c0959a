"""Tests for gate.signing: the official SDK's vectors byte for byte, then the edge cases."""

from __future__ import annotations

import hashlib
import json
import json as jsonlib
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from httpmock import mocked

from gate.api.http import Request, Session
from gate.signing import (
    SdkHmacAuth,
    authorization,
    canonical_request,
    signature,
    string_to_sign,
)

FIXTURE = Path(__file__).parent / "fixtures" / "signing_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["vectors"]

AK = "HPUAEXAMPLEAK0000001"
SK = "ExampleSecretKey0123456789abcdefghijKLMN"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
DATE0 = "20250101T000000Z"  # T0 as X-Sdk-Date


def pinned(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def ticking(start: datetime, step: timedelta) -> Callable[[], datetime]:
    moments: Iterator[datetime] = (start + step * i for i in range(1000))
    return lambda: next(moments)


def vector_date(vector: dict[str, Any]) -> datetime:
    stamp = vector["input"]["headers"]["X-Sdk-Date"]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def expected_authorization(canonical: str, sdk_date: str) -> str:
    """Authorization for a canonical request written out literally by a test.

    The three steps after the canonical request are pinned by the SDK vectors below, so a
    literal canonical request makes an edge-case expectation independent of the signer's
    own canonicalisation.
    """
    signed = canonical.split("\n")[-2]
    return authorization(AK, signed, signature(SK, string_to_sign(canonical, sdk_date)))


def prepare(
    method: str,
    url: str,
    auth: SdkHmacAuth,
    *,
    session: Session | None = None,
    params: Any = None,
    headers: Any = None,
    data: Any = None,
    json: Any = None,
) -> Request:
    """The request the client would send, signed by ``auth`` (what its ``request`` does
    before the wire)."""
    body = jsonlib.dumps(json).encode("utf-8") if json is not None else data
    built = (session or Session()).prepare(
        method, url, params, body, headers, is_json=json is not None
    )
    return auth(built)


def sign(method: str, url: str, clock: Callable[[], datetime] | None = None, **kw: Any) -> Any:
    return prepare(method, url, SdkHmacAuth(AK, SK, clock=clock or pinned(T0)), **kw)


# --- the official SDK's vectors -----------------------------------------------------------


def test_fixture_records_its_origin() -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert "shared/signing-vectors.json" in data["origin"]
    assert "3.1.219" in data["origin"]
    assert len(VECTORS) == 3


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_pure_functions_reproduce_vector(vector: dict[str, Any]) -> None:
    given, out = vector["input"], vector["output"]
    headers = {**given["headers"], "Host": given["host"]}
    body = None if given["body"] is None else given["body"].encode("utf-8")
    query = [(k, v) for k, v in given["query"]]

    canonical, signed = canonical_request(given["method"], given["path"], query, headers, body)
    assert canonical == out["canonical_request"]
    assert signed == out["signed_headers"]
    to_sign = string_to_sign(canonical, given["headers"]["X-Sdk-Date"])
    assert to_sign == out["string_to_sign"]
    sig = signature(vector["sk"], to_sign)
    assert sig == out["signature"]
    assert authorization(vector["ak"], signed, sig) == out["authorization"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_auth_on_prepared_request_reproduces_vector(vector: dict[str, Any]) -> None:
    given, out = vector["input"], vector["output"]
    # X-Sdk-Date comes from the pinned clock and X-Project-Id from the auth, not the caller.
    headers = dict(given["headers"])
    del headers["X-Sdk-Date"]
    project_id = headers.pop("X-Project-Id", None)
    auth = SdkHmacAuth(vector["ak"], vector["sk"], project_id, clock=pinned(vector_date(vector)))
    url = f"https://{given['host']}{given['path']}"
    prepared = prepare(
        given["method"], url, auth, params=given["query"], headers=headers, data=given["body"]
    )

    assert prepared.headers["Authorization"] == out["authorization"]
    assert prepared.url == out["final_url"]
    for name, value in out["final_headers"].items():
        assert prepared.headers[name] == value
    assert prepared.body == (None if out["body"] is None else out["body"].encode("utf-8"))


# --- query strings ------------------------------------------------------------------------


def test_spaces_and_non_ascii_in_query_values() -> None:
    prepared = sign("GET", "https://example.com/v1/x", params={"q": "a b+c", "name": "é中~/"})
    query = "name=%C3%A9%E4%B8%AD~%2F&q=a%20b%2Bc"
    assert prepared.url == f"https://example.com/v1/x?{query}"
    canonical = (
        f"GET\n/v1/x/\n{query}\n"
        "content-type:application/json\nhost:example.com\nx-sdk-date:20250101T000000Z\n\n"
        f"content-type;host;x-sdk-date\n{EMPTY_SHA256}"
    )
    assert prepared.headers["Authorization"] == expected_authorization(canonical, DATE0)


def test_percent_encoded_and_plus_encoded_query_decode_to_the_same_value() -> None:
    a = sign("GET", "https://example.com/p?q=a%20b%C3%A9&blank=&flag")
    b = sign("GET", "https://example.com/p?flag=&q=a+b%c3%a9&blank")
    assert a.url == b.url == "https://example.com/p?blank=&flag=&q=a%20b%C3%A9"
    assert a.headers["Authorization"] == b.headers["Authorization"]


def test_unsorted_query_is_rewritten_sorted() -> None:
    prepared = sign("GET", "https://example.com/p?b=2&a=1&c=&a=0")
    assert prepared.url == "https://example.com/p?a=0&a=1&b=2&c="


def test_invalid_utf8_in_query_is_refused_not_replaced() -> None:
    with pytest.raises(UnicodeDecodeError):
        sign("GET", "https://example.com/p?q=%FF")


# --- canonical URI ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "canonical_uri"),
    [
        ("", "/"),
        ("/", "/"),
        ("/v1/jobs", "/v1/jobs/"),
        ("/v1/jobs/", "/v1/jobs/"),
        ("/v1/a%20b/c", "/v1/a%20b/c/"),  # already encoded: decoded then re-encoded once
        ("/v1/a b", "/v1/a%20b/"),
        ("/v1/a:b@c~d", "/v1/a%3Ab%40c~d/"),
        ("/v1/%C3%A9", "/v1/%C3%A9/"),
        ("/v1/a%2Fb", "/v1/a/b/"),  # the SDK unquotes before splitting: %2F separates
    ],
)
def test_canonical_uri(path: str, canonical_uri: str) -> None:
    canonical, _ = canonical_request("get", path, [], {"Host": "h"}, None)
    assert canonical.split("\n")[:2] == ["GET", canonical_uri]


# --- headers ------------------------------------------------------------------------------


def test_port_in_url_is_in_the_signed_host_header() -> None:
    prepared = sign("GET", "https://user:pw@example.com:8443/v1/x")
    assert prepared.headers["Host"] == "example.com:8443"
    canonical = (
        "GET\n/v1/x/\n\n"
        "content-type:application/json\nhost:example.com:8443\nx-sdk-date:20250101T000000Z\n\n"
        f"content-type;host;x-sdk-date\n{EMPTY_SHA256}"
    )
    assert prepared.headers["Authorization"] == expected_authorization(canonical, DATE0)


def test_url_without_port_gives_bare_host() -> None:
    assert sign("GET", "https://Example.COM/x").headers["Host"] == "example.com"


def test_transport_and_underscore_headers_are_sent_but_not_signed() -> None:
    session = Session()  # adds Accept-Encoding
    session.headers.update({"Accept": "*/*", "User-Agent": "ua", "Connection": "keep-alive"})
    prepared = prepare(
        "PUT",
        "https://example.com/x",
        SdkHmacAuth(AK, SK, clock=pinned(T0)),
        session=session,
        data=b"{}",
        headers={"X_Custom": "1", "X-Trace": "t1  ", "Content-Length": "2"},
    )
    auth_header = prepared.headers["Authorization"]
    assert "SignedHeaders=accept;content-type;host;user-agent;x-sdk-date;x-trace," in auth_header
    assert prepared.headers["Accept-Encoding"] == "gzip, deflate"
    assert prepared.headers["Content-Length"] == "2"
    assert prepared.headers["X_Custom"] == "1"


def test_header_values_are_stripped_in_the_canonical_request() -> None:
    canonical, signed = canonical_request("GET", "/", [], {"Host": "h", "X-A": "  v  "}, None)
    assert "\nhost:h\nx-a:v\n\nhost;x-a\n" in canonical
    assert signed == "host;x-a"


def test_same_header_twice_in_different_case_is_refused() -> None:
    with pytest.raises(ValueError, match="same name twice"):
        canonical_request("GET", "/", [], {"Host": "h", "host": "h"}, None)


def test_existing_content_type_is_kept_and_project_id_is_set() -> None:
    auth = SdkHmacAuth(AK, SK, project_id="p1", clock=pinned(T0))
    headers = {"Content-Type": "application/json;charset=utf8"}
    prepared = prepare("GET", "https://h/x", auth, headers=headers)
    assert prepared.headers["Content-Type"] == "application/json;charset=utf8"
    assert prepared.headers["X-Project-Id"] == "p1"
    signed = "SignedHeaders=content-type;host;x-project-id;x-sdk-date,"
    assert signed in prepared.headers["Authorization"]


# --- body ---------------------------------------------------------------------------------


def test_empty_body_and_json_body_hash_the_bytes_sent() -> None:
    empty = sign("PUT", "https://example.com/x")
    with_json = sign("PUT", "https://example.com/x", json={"a": "é"})
    assert empty.body is None
    assert with_json.body == b'{"a": "\\u00e9"}'
    head = (
        "PUT\n/x/\n\n"
        "content-type:application/json\nhost:example.com\nx-sdk-date:20250101T000000Z\n\n"
        "content-type;host;x-sdk-date\n"
    )
    json_hash = hashlib.sha256(with_json.body).hexdigest()
    assert json_hash != EMPTY_SHA256
    assert empty.headers["Authorization"] == expected_authorization(head + EMPTY_SHA256, DATE0)
    assert with_json.headers["Authorization"] == expected_authorization(head + json_hash, DATE0)


def test_str_body_is_sent_and_hashed_as_utf8() -> None:
    prepared = sign("PUT", "https://example.com/x", data='{"k": "é"}')
    assert prepared.body == '{"k": "é"}'.encode()
    canonical = (
        "PUT\n/x/\n\n"
        "content-type:application/json\nhost:example.com\nx-sdk-date:20250101T000000Z\n\n"
        f"content-type;host;x-sdk-date\n{hashlib.sha256(prepared.body).hexdigest()}"
    )
    assert prepared.headers["Authorization"] == expected_authorization(canonical, DATE0)


# --- re-signing and the wire --------------------------------------------------------------


def test_resigning_with_an_advancing_clock_refreshes_date_and_signature() -> None:
    auth = SdkHmacAuth(AK, SK, clock=ticking(T0, timedelta(seconds=7)))
    prepared = prepare("GET", "https://example.com/x?b=1&a=2", auth)
    first = (prepared.headers["X-Sdk-Date"], prepared.headers["Authorization"])
    auth(prepared)
    second = (prepared.headers["X-Sdk-Date"], prepared.headers["Authorization"])

    assert first[0] == "20250101T000000Z"
    assert second[0] == "20250101T000007Z"
    assert first[1] != second[1]
    # The stale Authorization is neither signed nor kept; the URL stays canonical.
    assert "authorization" not in second[1]
    assert prepared.url == "https://example.com/x?a=2&b=1"
    canonical = (
        "GET\n/x/\na=2&b=1\n"
        "content-type:application/json\nhost:example.com\nx-sdk-date:20250101T000007Z\n\n"
        f"content-type;host;x-sdk-date\n{EMPTY_SHA256}"
    )
    assert second[1] == expected_authorization(canonical, "20250101T000007Z")


def test_sent_request_carries_the_signed_url_and_headers() -> None:
    vector = VECTORS[0]
    given = vector["input"]
    auth = SdkHmacAuth(AK, SK, clock=pinned(vector_date(vector)))
    url = f"https://{given['host']}{given['path']}"
    with mocked() as mock, Session() as session:
        session.auth = auth  # no Accept/User-Agent on the session: the vector signs neither
        mock.put(url, json={"status": "success"})
        session.request("PUT", url, params=dict(given["query"]), timeout=(5, 5)).close()
        sent = mock.last_request
    assert sent.url == vector["output"]["final_url"]
    assert sent.headers["Authorization"] == vector["output"]["authorization"]


def test_default_clock_is_current_utc() -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    prepared = prepare("GET", "https://h/x", SdkHmacAuth(AK, SK))
    stamped = datetime.strptime(prepared.headers["X-Sdk-Date"], "%Y%m%dT%H%M%SZ")
    assert before <= stamped.replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc)


# --- secrets never leak -------------------------------------------------------------------


def test_repr_and_str_hide_the_secret_and_mask_the_access_key() -> None:
    auth = SdkHmacAuth(AK, SK, project_id="p1")
    for text in (repr(auth), str(auth), f"{auth!r}"):
        assert text == "SdkHmacAuth(ak='HPUA…01', sk=***)"
        assert SK not in text
        assert AK not in text


def test_short_access_key_is_fully_masked() -> None:
    assert repr(SdkHmacAuth("AK123", SK)) == "SdkHmacAuth(ak='***', sk=***)"


def _exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


def _raised_by(action: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as info:  # each case checks its own type
        action()
    return info.value


def _generator_body() -> Iterator[bytes]:
    yield SK.encode()


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        (lambda: SdkHmacAuth(AK, f"{SK}\n"), ValueError),
        (lambda: SdkHmacAuth(AK, ""), ValueError),
        (lambda: SdkHmacAuth("", SK), ValueError),
        (lambda: sign("GET", "https://h/x", clock=pinned(datetime(2025, 1, 1))), ValueError),
        (lambda: sign("PUT", "https://h/x", data=_generator_body()), TypeError),
        (lambda: SdkHmacAuth(AK, SK)(Request("GET", "", {}, None)), ValueError),
    ],
    ids=["sk-whitespace", "sk-empty", "ak-empty", "naive-clock", "streaming-body", "no-url"],
)
def test_raised_exceptions_never_contain_the_secret(
    action: Callable[[], object], kind: type[Exception]
) -> None:
    exc = _raised_by(action)
    assert type(exc) is kind
    for text in _exception_texts(exc):
        assert SK not in text
