"""A small HTTP client on the standard library: the gate's only way to the network.

Why not ``requests``: importing it (with urllib3, charset_normalizer, idna, cookiejar)
cost more than the whole offline verdict, and the gate uses a sliver of it. This module
gives that sliver with the same words (``Session.request``, ``status_code``,
``iter_content``): connections kept per origin and thread-safe, the environment's proxies
(``HTTPS_PROXY``, ``NO_PROXY``...) with ``CONNECT`` tunnels, TLS trust built once and only
for ``https://``, an auth hook that sees the exact request sent (AK/SK signing), gzip
answers decoded in bounded steps, and failures named by what they mean for a caller
(``ConnectError``: nothing was sent). Redirects are never followed. Retries, deadlines and
bounded reads stay in ``gate.api.transport``.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json as jsonlib
import os
import select
import socket
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from urllib.parse import SplitResult, unquote, urlencode, urlsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl

DEFAULT_PORTS = {"http": 80, "https": 443}
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Methods the client may send again when a kept connection was closed under it."""
DECODED = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
"""Content encodings read, with the ``wbits`` that reads each (others are refused)."""


class HttpError(Exception):
    """Any failure of an exchange: the root of this module's errors."""


class ConnectError(HttpError):
    """No connection was made (a name that does not resolve, a refusal, no answer to the
    connect): nothing was sent, so any request may be sent again."""


class ConnectTimeout(ConnectError):
    """The connection was not made in time: nothing was sent."""


class ReadTimeout(HttpError):
    """The request went out and the answer did not come in time."""


class TlsError(HttpError):
    """The TLS handshake failed (an untrusted certificate, or a server without TLS)."""


class ProxyFailure(HttpError):
    """The proxy could not be reached, or refused the tunnel (its text says the status)."""


class ProtocolFailure(HttpError):
    """The request went out, and the answer broke off or was no HTTP."""


class Headers(Mapping[str, str]):
    """Header names looked up in any letter case; repeated headers joined by ``, ``."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            before = self._items.get(key)
            self._items[key] = (name, f"{before[1]}, {value}" if before else value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({list(self._items.values())!r})"


class Request:
    """One request as it will be sent: an auth hook may change any part of it."""

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes | None):
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body


Auth = Callable[[Request], Request]


class Response:
    """An answer whose body is read on demand (``iter_content``), decoded from gzip."""

    def __init__(self, raw: http.client.HTTPResponse, release: Callable[[bool], None]) -> None:
        self.raw = raw
        self.status_code = raw.status
        self.headers = Headers(raw.getheaders())
        self._release = release
        self._done = False

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """The body in pieces of at most ``chunk_size`` bytes, decoded."""
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("", "identity"):
            yield from self._raw_chunks(chunk_size)
        elif encoding in DECODED:
            yield from _inflated(self._raw_chunks(chunk_size), DECODED[encoding], chunk_size)
        else:
            raise ProtocolFailure(
                f"the answer is encoded as {encoding[:40]!r}, which was not asked for"
            )
        self._finish(reusable=True)

    def _raw_chunks(self, chunk_size: int) -> Iterator[bytes]:
        while self.raw.length != 0:  # None: chunked, or until the server closes
            try:
                chunk = self.raw.read1(chunk_size)
            except (http.client.HTTPException, OSError, ValueError) as err:
                raise _read_failure(err, "the answer broke off") from err
            if not chunk:
                if self.raw.length:  # http.client reads a short body as a whole one
                    raise ProtocolFailure("the answer broke off (IncompleteRead)")
                break
            yield chunk
        self.raw.close()  # the whole answer is read: the connection may serve another

    def _finish(self, *, reusable: bool) -> None:
        if not self._done:
            self._done = True
            if not reusable:
                self.raw.close()  # it holds the socket open, even once the connection let go
            self._release(reusable and not self.raw.will_close)

    def close(self) -> None:
        """Give the connection back (kept only when the whole answer was read)."""
        self._finish(reusable=False)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _inflated(chunks: Iterator[bytes], wbits: int, size: int) -> Iterator[bytes]:
    """Decompress in steps of at most ``size`` bytes: a small bomb never becomes one
    large piece of memory (the caller's byte limit then stops it)."""
    inflater = zlib.decompressobj(wbits)
    try:
        for chunk in chunks:
            data = chunk
            while data:
                piece = inflater.decompress(data, size)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
        tail = inflater.flush()
    except zlib.error as err:
        raise ProtocolFailure("the compressed answer is corrupt") from err
    if tail:
        yield tail


def environment_proxy(url: str, env: Mapping[str, str] = os.environ) -> str | None:
    """The proxy URL the environment selects for ``url``, as curl and requests read it:
    ``https_proxy``/``HTTPS_PROXY`` (lower case first), else ``all_proxy``/``ALL_PROXY``;
    none when ``NO_PROXY`` names the host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if bypassed(parts.hostname or "", parts.port, _variable(env, "no_proxy") or ""):
        return None
    if scheme == "http" and "REQUEST_METHOD" in env:
        return _variable(env, "all_proxy")  # CGI: HTTP_PROXY may be a client's header
    return _variable(env, f"{scheme}_proxy") or _variable(env, "all_proxy")


def _variable(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or env.get(name.upper()) or None


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """True when ``NO_PROXY`` covers ``host``: ``*``, a domain (``.corp`` or ``corp``
    covers ``a.corp``), ``host:port``, an address or a network (``10.0.0.0/8``)."""
    host = host.lower().strip("[]")
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if entry == "*" or (entry and _covers(entry, host, port)):
            return True
    return False


def _covers(entry: str, host: str, port: int | None) -> bool:
    name, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
    if entry_port and entry_port != str(port):
        return False
    name = name.strip("[]").lstrip(".")
    if host == name or host.endswith("." + name):
        return True
    return "/" in name and _in_network(host, name)


def _has_port(entry: str) -> bool:
    head, colon, tail = entry.rpartition(":")
    return bool(colon) and tail.isdigit() and (head.endswith("]") or ":" not in head)


def _in_network(host: str, network: str) -> bool:
    import ipaddress  # noqa: PLC0415 - only for a NO_PROXY entry that is a network

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


class Session:
    """Connections to the origins called, the headers sent on every request, the auth
    hook and the TLS trust: what ``requests.Session`` was to the gate."""

    def __init__(
        self,
        *,
        trust: Callable[[], ssl.SSLContext] | None = None,
        verify: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``trust`` builds the TLS context, once and only for an ``https://`` call;
        ``verify=False`` checks no certificate (``--insecure``)."""
        self.headers: dict[str, str] = {}
        self.auth: Auth | None = None
        self.verify = verify
        self._trust = trust
        self._context: ssl.SSLContext | None = None
        self._env = os.environ if env is None else env
        self._proxies: dict[tuple[str, str], str | None] = {}
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._busy: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections kept for reuse, and cut those still in use: a call that
        outlived its deadline stops reading (its thread ends, the server sees the end)."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, {}, True
            busy = list(self._busy)
        for connections in idle.values():
            for connection in connections:
                connection.close()
        for connection in busy:
            _cut(connection)

    def proxy_for(self, url: str) -> str | None:
        """The environment's proxy for ``url``'s origin, read once per origin."""
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.lower())
        with self._lock:
            if key not in self._proxies:
                self._proxies[key] = environment_proxy(url, self._env)
            return self._proxies[key]

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | str | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
    ) -> Response:
        """Send one request and return its answer, the body not read yet (``timeout``:
        connect, then each read). A redirect is an answer like any other: never followed."""
        body = _body(data, json)
        request = self.prepare(method, url, params, body, headers, is_json=json is not None)
        if self.auth is not None:
            request = self.auth(request)
        return self.send(request, timeout)

    def prepare(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        *,
        is_json: bool = False,
    ) -> Request:
        """The request as it will go out: the session's headers under the call's."""
        if params:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(dict(params))}"
        merged = {"Accept-Encoding": "gzip, deflate", **self.headers}
        if is_json:
            merged["Content-Type"] = "application/json"
        for name, value in (headers or {}).items():
            _drop(merged, name)
            merged[name] = value
        return Request(method.upper(), url, merged, body)

    def send(self, request: Request, timeout: tuple[float, float]) -> Response:
        """Send ``request`` and read the answer's head. An idempotent request may ride a
        kept connection, and goes again on a new one when the kept one turns out closed
        before any answer (the server let it go); a POST or PATCH always opens its own:
        it is never sent twice by the client."""
        parts = urlsplit(request.url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise HttpError(f"cannot call {scheme or 'a URL without a scheme'}://")
        origin = (scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme])
        proxy = self.proxy_for(request.url)
        reuse = request.method in IDEMPOTENT
        connection, reused = self._connection(origin, proxy, timeout, reuse=reuse)
        try:
            return self._exchange(origin, connection, request, proxy)
        except ProtocolFailure as err:
            if not (reused and isinstance(err.__cause__, ConnectionError)):
                raise
        connection, _ = self._connection(origin, proxy, timeout, reuse=False)
        return self._exchange(origin, connection, request, proxy)

    def _exchange(
        self,
        origin: tuple[str, str, int],
        connection: http.client.HTTPConnection,
        request: Request,
        proxy: str | None,
    ) -> Response:
        headers, target = request.headers, _path(urlsplit(request.url))
        if proxy and origin[0] == "http":  # the proxy forwards it: the whole URL, its login
            target, authorization = request.url, _proxy_parts(proxy)[2]
            headers = (
                {**headers, "Proxy-Authorization": authorization} if authorization else headers
            )
        try:
            connection.request(request.method, target, body=request.body, headers=headers)
            raw = connection.getresponse()
        except (http.client.HTTPException, OSError, ValueError) as err:
            self._release(origin, connection, reusable=False)
            raise _read_failure(err, "no answer") from err
        except BaseException:
            self._release(origin, connection, reusable=False)
            raise
        return Response(raw, lambda reusable: self._release(origin, connection, reusable=reusable))

    def _release(
        self,
        origin: tuple[str, str, int],
        connection: http.client.HTTPConnection,
        *,
        reusable: bool,
    ) -> None:
        with self._lock:
            self._busy.discard(connection)
            if reusable and not self._closed:  # a call still running at close is not kept
                self._idle.setdefault(origin, []).append(connection)
                return
        connection.close()

    def _connection(
        self,
        origin: tuple[str, str, int],
        proxy: str | None,
        timeout: tuple[float, float],
        *,
        reuse: bool,
    ) -> tuple[http.client.HTTPConnection, bool]:
        """A kept connection to ``origin`` (when ``reuse``) or a new one; True if kept."""
        kept = self._kept(origin, timeout[1]) if reuse else None
        if kept is not None:
            return kept, True
        connection = self._connect(origin, proxy, timeout)
        with self._lock:
            self._busy.add(connection)
        return connection, False

    def _kept(
        self, origin: tuple[str, str, int], timeout: float
    ) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                kept = idle.pop()
                if _still_open(kept):
                    kept.timeout = timeout
                    if kept.sock is not None:
                        kept.sock.settimeout(timeout)
                    self._busy.add(kept)
                    return kept
                kept.close()
        return None

    def _connect(
        self, origin: tuple[str, str, int], proxy: str | None, timeout: tuple[float, float]
    ) -> http.client.HTTPConnection:
        scheme, host, port = origin
        connection = self._new_connection(scheme, host, port, proxy, timeout[0])
        try:
            connection.connect()
        except (OSError, http.client.HTTPException, ValueError) as err:
            connection.close()
            raise _connect_error(err, proxy) from err
        except BaseException:  # an interrupt: not a network failure
            connection.close()
            raise
        if connection.sock is not None:
            connection.sock.settimeout(timeout[1])
        return connection

    def _new_connection(
        self, scheme: str, host: str, port: int, proxy: str | None, timeout: float
    ) -> http.client.HTTPConnection:
        if proxy:
            proxy_host, proxy_port, authorization = _proxy_parts(proxy)
        if scheme == "http":
            if proxy:
                return http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)
            return http.client.HTTPConnection(host, port, timeout=timeout)
        context = self.context()
        if not proxy:
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        connection = http.client.HTTPSConnection(
            proxy_host, proxy_port, timeout=timeout, context=context
        )
        tunnel = {"Proxy-Authorization": authorization} if authorization else None
        connection.set_tunnel(host, port, headers=tunnel)
        return connection

    def context(self) -> ssl.SSLContext:
        """The TLS context: built on the first ``https://`` call, then kept."""
        with self._lock:
            if self._context is None:
                self._context = self._build_context()
            return self._context

    def _build_context(self) -> ssl.SSLContext:
        import ssl  # noqa: PLC0415 - only for https://: loading it costs milliseconds

        if not self.verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return self._trust() if self._trust else ssl.create_default_context()


def _drop(headers: dict[str, str], name: str) -> None:
    """Remove ``name`` in any letter case (a call's header replaces the session's)."""
    for key in [key for key in headers if key.lower() == name.lower()]:
        del headers[key]


def _body(data: bytes | str | None, json: object) -> bytes | None:
    if json is not None:
        return jsonlib.dumps(json).encode("utf-8")
    return data.encode("utf-8") if isinstance(data, str) else data


def _path(parts: SplitResult) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _proxy_parts(proxy: str) -> tuple[str, int, str | None]:
    """Host, port and ``Proxy-Authorization`` value of a proxy URL."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme.lower() != "http":
        raise ProxyFailure(f"a {parts.scheme}:// proxy is not supported (only http://)")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return parts.hostname or "", parts.port or 80, authorization


def _cut(connection: http.client.HTTPConnection) -> None:
    """Wake a thread blocked reading ``connection``: shut the socket down (closing it
    under that thread would be unsafe); the thread then closes it."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already gone
            sock.shutdown(socket.SHUT_RDWR)


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """A kept connection the server has not closed (nothing to read on an idle one)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _read_failure(err: Exception, what: str) -> HttpError:
    """A failure once the request is on its way: no answer in time, or a broken one."""
    if isinstance(err, TimeoutError):
        return ReadTimeout(str(err))
    return ProtocolFailure(f"{what} ({type(err).__name__})")


def _connect_error(err: Exception, proxy: str | None) -> HttpError:
    """What a failed connect means: a TLS handshake's failure; through a proxy, the
    proxy's failure (its tunnel refusal included); else nothing was sent."""
    ssl = sys.modules.get("ssl")  # an SSLError exists only once an https:// call loaded it
    if ssl is not None and isinstance(err, ssl.SSLError):
        return TlsError(str(err))
    if proxy:
        return ProxyFailure(str(err))
    if isinstance(err, TimeoutError):
        return ConnectTimeout(str(err))
    if isinstance(err, OSError):  # a name that does not resolve, a refusal, no route
        return ConnectError(str(err))
    return ProtocolFailure(str(err))
