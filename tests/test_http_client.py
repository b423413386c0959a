"""The gate's HTTP client (gate/api/http.py) against real servers on loopback: kept
connections, gzip answers, proxies (a forwarding proxy and a CONNECT tunnel to the TLS
fake), NO_PROXY, and the failures each path can end in."""

from __future__ import annotations

import base64
import gzip
import http.server
import select
import socket
import ssl
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
import trustme
from fakeapi import FakeCodeArts
from gaterun import JOB, clean_env, run_gate
from hypothesis import given
from hypothesis import strategies as st

from gate.api import http as client
from gate.api.http import Headers, Session, bypassed, environment_proxy
from gate.api.transport import Deadline, send, trust_context
from gate.errors import GateError, NetworkError, TransientNetworkError

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class Server:
    """A small HTTP/1.1 server on loopback: ``answer`` writes each answer; it records the
    connections (client ports) that requests came on."""

    def __init__(self, answer: Handler) -> None:
        outer = self

        class Handle(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                outer.ports.append(self.client_address[1])
                outer.lines.append(self.requestline)
                outer.headers.append(dict(self.headers))
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                answer(self)

            do_GET = do_PUT = do_POST = do_CONNECT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.ports: list[int] = []
        self.lines: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], Server]]:
    servers: list[Server] = []

    def start(answer: Handler) -> Server:
        servers.append(Server(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def body_answer(body: bytes, **headers: str) -> Handler:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def get(url: str, limit: int = 10 * 1024 * 1024, session: Session | None = None) -> bytes:
    if session is not None:
        return send(session, url, Deadline(10), method="GET", max_body=limit).body
    with Session(env={}) as http:
        return send(http, url, Deadline(10), method="GET", max_body=limit).body


# --------------------------------------------------------------------------- connections


def test_a_kept_connection_serves_the_next_call(serve):
    server = serve(body_answer(b'{"a": 1}'))
    with Session(env={}) as http:
        assert get(f"{server.url}/one", session=http) == b'{"a": 1}'
        assert get(f"{server.url}/two", session=http) == b'{"a": 1}'  # the same connection
    assert len(server.ports) == 2 and server.ports[0] == server.ports[1]


def test_a_connection_the_server_closed_is_not_reused(serve):
    def answer_and_close(handler: http.server.BaseHTTPRequestHandler) -> None:
        body_answer(b"{}")(handler)
        handler.close_connection = True  # no "Connection: close": the client finds out

    server = serve(answer_and_close)
    with Session(env={}) as http:
        for _ in range(3):
            assert send(http, f"{server.url}/x", Deadline(10), method="GET").status == 200
    assert len(set(server.ports)) == 3


def test_a_kept_connection_dropped_under_a_get_is_replaced_once(serve):
    """The server lets a kept connection go just as the next request arrives: an
    idempotent call goes again on a new connection, and is answered."""
    answered: set[int] = set()

    def once_per_connection(handler: http.server.BaseHTTPRequestHandler) -> None:
        port = handler.client_address[1]
        if port in answered:
            handler.close_connection = True  # closes without a word: the client sees EOF
            return
        answered.add(port)
        body_answer(b"{}")(handler)

    server = serve(once_per_connection)
    with Session(env={}) as http:
        assert get(f"{server.url}/one", session=http) == b"{}"
        assert get(f"{server.url}/two", session=http) == b"{}"
    first, dropped, again = server.ports
    assert first == dropped != again  # the second request went twice, once per connection


def test_a_post_never_rides_a_kept_connection(serve):
    server = serve(body_answer(b"{}"))
    with Session(env={}) as http:
        for _ in range(2):
            assert send(http, f"{server.url}/run", Deadline(10), method="POST").status == 200
    assert server.ports[0] != server.ports[1]
    assert server.lines == ["POST /run HTTP/1.1"] * 2


def test_a_post_whose_connection_drops_is_not_sent_again(serve):
    def drop(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.close_connection = True

    server = serve(drop)
    with Session(env={}) as http, pytest.raises(GateError):
        send(http, f"{server.url}/run", Deadline(10), method="POST")
    assert server.lines == ["POST /run HTTP/1.1"]


def test_chunked_answers_are_read_whole(serve):
    def chunked(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for piece in (b'{"a": ', b"[1, 2]", b"}"):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        handler.wfile.write(b"0\r\n\r\n")

    server = serve(chunked)
    with Session(env={}) as http:
        assert get(f"{server.url}/x", session=http) == b'{"a": [1, 2]}'
        assert get(f"{server.url}/y", session=http) == b'{"a": [1, 2]}'
    assert server.ports[0] == server.ports[1]  # a chunked answer read whole keeps it too


def test_a_refused_connection_was_never_sent():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    with Session(env={}) as http, pytest.raises(client.ConnectError):
        http.request("GET", f"http://127.0.0.1:{port}/x")


def test_a_url_the_client_cannot_call_is_an_error():
    with Session(env={}) as http, pytest.raises(client.HttpError, match="ftp://"):
        http.request("GET", "ftp://127.0.0.1/x")


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("identity", lambda data: data),
    ],
)
def test_compressed_answers_are_decoded(serve, encoding, pack):
    data = b'{"defects": [' + b'{"x": 1},' * 2000 + b'{"x": 2}]}'
    server = serve(body_answer(pack(data), **{"Content-Encoding": encoding}))
    assert get(f"{server.url}/x") == data
    assert server.headers[0]["Accept-Encoding"] == "gzip, deflate"


def test_a_compressed_bomb_stops_at_the_limit_without_growing(serve):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # 50 MiB in about 50 KiB
    server = serve(body_answer(bomb, **{"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(NetworkError, match="larger than 1 MiB"):
            get(f"{server.url}/x", limit=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # decoded in steps: never the 50 MiB at once


@pytest.mark.parametrize(
    ("encoding", "body", "words"),
    [
        ("gzip", b"not gzip at all", "corrupt"),
        ("br", b"\x0b\x02\x80{}\x03", "'br'"),
    ],
)
def test_a_body_the_client_cannot_decode_is_a_network_error(serve, encoding, body, words):
    server = serve(body_answer(body, **{"Content-Encoding": encoding}))
    with pytest.raises(GateError) as caught:
        get(f"{server.url}/x")
    assert isinstance(caught.value, TransientNetworkError)
    assert words in str(caught.value.__context__)


def test_headers_are_read_in_any_case_and_repeats_are_joined():
    headers = Headers([("Link", "<a>"), ("X-Next-Page", "2"), ("link", "<b>")])
    assert headers["LINK"] == "<a>, <b>" and headers.get("x-next-page") == "2"
    assert "x-NEXT-page" in headers and 5 not in headers and len(headers) == 2
    assert sorted(headers) == ["X-Next-Page", "link"]


# --------------------------------------------------------------------------- proxies


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypass"),
    [
        ("api.corp", 443, "*", True),
        ("api.corp", 443, "corp", True),
        ("api.corp", 443, ".corp", True),
        ("api.corp", 443, " other , .corp ", True),
        ("corp", 443, ".corp", True),
        ("notcorp", 443, "corp", False),
        ("api.corp", 443, "api.corp:443", True),
        ("api.corp", 8443, "api.corp:443", False),
        ("10.1.2.3", 443, "10.0.0.0/8", True),
        ("11.1.2.3", 443, "10.0.0.0/8", False),
        ("::1", 443, "::1", True),
        ("::1", 8443, "[::1]:8443", True),
        ("api.corp", 443, "", False),
        ("api.corp", 443, "not a network/99", False),
    ],
)
def test_no_proxy_entries(host, port, no_proxy, bypass):
    assert bypassed(host, port, no_proxy) is bypass


def test_the_environment_chooses_the_proxy_as_curl_does():
    env = {
        "https_proxy": "http://lower:1",
        "HTTPS_PROXY": "http://upper:1",
        "ALL_PROXY": "http://all:1",
    }
    assert environment_proxy("https://h/x", env) == "http://lower:1"
    assert environment_proxy("http://h/x", env) == "http://all:1"
    assert environment_proxy("https://h/x", {**env, "NO_PROXY": "h"}) is None
    cgi = {"HTTP_PROXY": "http://from-a-header:1", "REQUEST_METHOD": "GET"}
    assert environment_proxy("http://h/x", cgi) is None


@given(st.text(alphabet="abc.:,/*[]0189 ", max_size=30), st.integers(0, 70000))
def test_any_no_proxy_text_is_read_without_error(no_proxy, port):
    assert bypassed("a.b", port, no_proxy) in (True, False)


class Forwarding(http.server.BaseHTTPRequestHandler):
    """A proxy: plain http requests (an absolute URI) are forwarded; CONNECT opens a tunnel.
    It records what it saw."""

    protocol_version = "HTTP/1.0"
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_CONNECT(self) -> None:
        self.seen.append((self.requestline, self.headers.get("Proxy-Authorization")))
        host, _, port = self.path.rpartition(":")
        with socket.create_connection((host, int(port))) as upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            pipe(self.connection, upstream)

    def _forward(self) -> None:
        self.seen.append((self.requestline, self.headers.get("Proxy-Authorization")))
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with socket.create_connection((target.hostname, target.port)) as upstream:
            head = f"{self.command} {target.path}?{target.query} HTTP/1.0\r\n"
            names = [
                n for n in self.headers if n.lower() not in ("proxy-authorization", "connection")
            ]
            head += "".join(f"{n}: {self.headers[n]}\r\n" for n in names) + "\r\n"
            upstream.sendall(head.encode("latin-1") + body)
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)

    do_GET = do_PUT = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


def pipe(one: socket.socket, other: socket.socket) -> None:
    sockets = [one, other]
    while True:
        readable, _, _ = select.select(sockets, [], [], 10)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (other if source is one else one).sendall(data)


@pytest.fixture
def proxy() -> Iterator[str]:
    Forwarding.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forwarding)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


BASIC = "Basic " + base64.b64encode(b"corp:pr0xy PW").decode()


def proxied_env(api: FakeCodeArts, variable: str, proxy_url: str) -> dict[str, str]:
    """A job's refresh on ``api``, through the proxy ``variable`` names."""
    return clean_env(
        CODEARTS_ENDPOINT=api.url,
        CODEARTS_TOKEN=api.token,
        CODEARTS_JOB_ID=JOB,
        NO_PROXY="",
        **{variable: proxy_url},
    )


def test_a_plain_http_call_goes_through_the_proxy_with_its_login(fake_api, proxy, tmp_path):
    env = proxied_env(fake_api, "HTTP_PROXY", f"http://corp:pr0xy%20PW@{proxy}")
    run = run_gate(tmp_path, "-v", env=env)
    assert run.code in (0, 1), run.stderr
    [(line, login)] = Forwarding.seen
    assert line.startswith(f"PUT {fake_api.url}/v1/jobs/{JOB}/result/refresh") and login == BASIC
    assert "Proxy-Authorization" not in fake_api.requests[0].headers  # the proxy kept it
    assert "pr0xy" not in run.everything()


def test_an_https_call_is_tunnelled_and_verified(proxy, tmp_path):
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with FakeCodeArts(tls=context) as api:
        env = proxied_env(api, "HTTPS_PROXY", f"http://corp:pr0xy%20PW@{proxy}")
        run = run_gate(tmp_path, "--ca-bundle", str(bundle), env=env)
        assert run.code in (0, 1), run.stderr
        assert len(api.requests) == 1
    [(line, login)] = Forwarding.seen
    assert line == f"CONNECT 127.0.0.1:{api.port} HTTP/1.0" and login == BASIC


@pytest.mark.parametrize("proxy_url", ["socks5://127.0.0.1:1080", "https://127.0.0.1:3129"])
def test_a_proxy_the_client_cannot_use_is_a_usage_error(fake_api, tmp_path, proxy_url):
    run = run_gate(tmp_path, env=proxied_env(fake_api, "HTTPS_PROXY", proxy_url))
    assert run.code == 2 and "HTTPS_PROXY is not a proxy URL" in run.stderr
    assert len(fake_api.requests) == 0


# --------------------------------------------------------------------------- trust


def test_the_trust_store_adds_the_environments_bundle_folder(tmp_path):
    ca = trustme.CA()
    folder = tmp_path / "certs"
    folder.mkdir()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    context = trust_context(None, {"REQUESTS_CA_BUNDLE": str(folder)})
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_an_unreadable_environment_bundle_is_a_usage_error(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(GateError, match="holds no readable PEM"):
        trust_context(None, {"CURL_CA_BUNDLE": str(junk)})
