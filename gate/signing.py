"""AK/SK request signing (SDK-HMAC-SHA256), byte-compatible with huaweicloudsdkcore's signer.

The pure functions build each intermediate of the algorithm so the test vectors computed by
the official SDK can be checked one step at a time; `SdkHmacAuth` applies them to the exact
request `requests` is about to send.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gate.api.http import Request

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"

# Headers owned by the transport (hop-by-hop, or computed/rewritten by http.client or a
# proxy after signing), plus Authorization itself, which a re-sign finds from the last call.
# Signing them breaks verification as soon as anything in between touches them. The SDK never
# signs them either: it signs its own header_params before its HTTP client adds these.
_UNSIGNED = frozenset(
    {
        "authorization",
        "accept-encoding",
        "connection",
        "content-length",
        "expect",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def _url_encode(text: str) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters, as the SDK does."""
    return quote(text, safe="~")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical_uri(path: str) -> str:
    # The SDK unquotes the whole path *before* splitting, so an encoded "%2F" becomes a
    # segment separator and "%20" round-trips to "%20"; each segment is then re-encoded.
    segments = [_url_encode(seg) for seg in unquote(path).split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def _canonical_query(query: list[tuple[str, str]]) -> str:
    # Sort the decoded pairs, as the SDK does, not their encoded form (orders can differ).
    return "&".join(f"{_url_encode(k)}={_url_encode(v)}" for k, v in sorted(query))


def _is_signed(name: str) -> bool:
    # Gateways commonly drop header names containing "_", so they are never signed.
    return "_" not in name and name.lower() not in _UNSIGNED


def _canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    pairs = [(name.lower(), value.strip()) for name, value in headers.items() if _is_signed(name)]
    signed = dict(pairs)
    if len(signed) != len(pairs):
        raise ValueError("headers contain the same name twice in different letter cases")
    names = sorted(signed)
    return "".join(f"{name}:{signed[name]}\n" for name in names), ";".join(names)


def canonical_request(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes | None,
) -> tuple[str, str]:
    """Build the canonical request and the signed-header list for one request.

    `path` is the raw (possibly percent-encoded) URL path, `query` the decoded pairs and
    `headers` every header that will be sent, Host included.
    """
    header_lines, signed_headers = _canonical_headers(headers)
    parts = (method.upper(), _canonical_uri(path), _canonical_query(query), header_lines)
    payload_hash = _sha256_hex(body or b"")
    return "\n".join((*parts, signed_headers, payload_hash)), signed_headers


def string_to_sign(canonical: str, sdk_date: str) -> str:
    """Return the string to sign for a canonical request and its X-Sdk-Date value."""
    return f"{ALGORITHM}\n{sdk_date}\n{_sha256_hex(canonical.encode('utf-8'))}"


def signature(sk: str, string_to_sign: str) -> str:
    """Return the hex HMAC-SHA256 of the string to sign, keyed with the secret key."""
    mac = hmac.new(sk.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()


def authorization(ak: str, signed_headers: str, signature: str) -> str:
    """Return the Authorization header value."""
    return f"{ALGORITHM} Access={ak}, SignedHeaders={signed_headers}, Signature={signature}"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _sdk_date(moment: datetime) -> str:
    # A naive datetime is ambiguous (local or UTC?); a wrong guess signs a date the gateway
    # rejects as skewed, so refuse it instead of guessing.
    if moment.utcoffset() is None:
        raise ValueError("the signing clock must return a timezone-aware datetime")
    return moment.astimezone(timezone.utc).strftime(DATE_FORMAT)


def _body_bytes(body: object) -> bytes | None:
    # A str body is sent as UTF-8, so hashing its UTF-8 encoding hashes what is sent.
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    raise TypeError(f"cannot sign a streaming request body ({type(body).__name__})")


def _header_text(value: str | bytes) -> str:
    # A bytes header value is read by the gateway as UTF-8.
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _check_key(name: str, value: object) -> None:
    # Messages name the field only: a credential's value must never reach an exception.
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if value != value.strip():
        raise ValueError(f"{name} has leading or trailing whitespace")


def _mask(ak: str) -> str:
    return f"{ak[:4]}…{ak[-2:]}" if len(ak) >= 12 else "***"


class SdkHmacAuth:
    """The client's auth hook that signs each request with AK/SK (SDK-HMAC-SHA256).

    Every call stamps a fresh X-Sdk-Date, so re-sending a request through the auth again
    (a retry) re-signs it rather than replaying a stale signature.
    """

    def __init__(
        self,
        ak: str,
        sk: str,
        project_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Keep the credentials; `clock` returns the aware signing time (default: now, UTC)."""
        _check_key("ak", ak)
        _check_key("sk", sk)
        self._ak = ak
        self._sk = sk
        self._project_id = project_id
        self._clock = clock or _utc_now

    def __repr__(self) -> str:
        """Show a masked AK and never the SK."""
        return f"SdkHmacAuth(ak='{_mask(self._ak)}', sk=***)"

    def __call__(self, r: Request) -> Request:
        """Sign `r` in place: headers, sorted query and body are exactly what gets sent."""
        if not r.url:
            raise ValueError("cannot sign a request without a URL")
        url = urlsplit(r.url)
        query = parse_qsl(url.query, keep_blank_values=True, errors="strict")
        # Send the query in canonical order so the signed query is the sent query.
        r.url = urlunsplit(url._replace(query=_canonical_query(query)))
        r.body = _body_bytes(r.body)
        sdk_date = self._set_headers(r, url.netloc.rpartition("@")[2].lower())
        headers = {name: _header_text(value) for name, value in r.headers.items()}
        canonical, signed = canonical_request(r.method or "", url.path, query, headers, r.body)
        to_sign = string_to_sign(canonical, sdk_date)
        r.headers["Authorization"] = authorization(self._ak, signed, signature(self._sk, to_sign))
        return r

    def _set_headers(self, r: Request, host: str) -> str:
        sdk_date = r.headers["X-Sdk-Date"] = _sdk_date(self._clock())
        r.headers.setdefault("Content-Type", "application/json")
        r.headers["Host"] = host
        if self._project_id:
            r.headers["X-Project-Id"] = self._project_id
        return sdk_date
