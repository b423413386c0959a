"""Canned answers for the gate's HTTP client (``gate.api.http``), in the words of
requests-mock: ``http_mock.put(URL, json=...)``, a list of answers taken in turn (the last
one repeated), ``exc=`` for a transport failure, ``call_count``, ``last_request``.

Only the wire is replaced (``Session.send``): the request is built, signed and read by the
client's own code, and the answer goes through its bounded, decoding reader.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from gate.api import http
from gate.api.http import Headers, Request, Response


class FakeRaw:
    """What ``Response`` reads of an ``http.client.HTTPResponse``."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self._headers = headers
        self._body = io.BytesIO(body)
        self.length: int | None = len(body)
        self.will_close = False

    def getheaders(self) -> list[tuple[str, str]]:
        return list(self._headers)

    def read1(self, size: int) -> bytes:
        chunk = self._body.read(size)
        if self.length is not None:
            self.length -= len(chunk)
        return chunk

    def close(self) -> None:
        self._body.close()


@dataclass
class Sent:
    """One request as the client sent it."""

    method: str
    url: str
    headers: Headers
    body: bytes | None

    @property
    def hostname(self) -> str | None:
        return urlsplit(self.url).hostname

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def qs(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def text(self) -> str:
        return (self.body or b"").decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Route:
    """Answers for one method and URL, taken in turn; the last one repeats."""

    method: str
    url: str
    answers: list[dict[str, Any]]
    taken: int = 0

    def matches(self, request: Request) -> bool:
        want, got = urlsplit(self.url), urlsplit(request.url)
        same = (want.scheme, want.netloc.lower(), want.path) == (
            got.scheme,
            got.netloc.lower(),
            got.path,
        )
        asked = set(parse_qsl(got.query, keep_blank_values=True))
        return self.method == request.method and same and set(parse_qsl(want.query)) <= asked

    def next_answer(self) -> dict[str, Any]:
        answer = self.answers[min(self.taken, len(self.answers) - 1)]
        self.taken += 1
        return answer


@dataclass
class HttpMock:
    """The registered routes and the requests sent, newest last."""

    routes: list[Route] = field(default_factory=list)
    request_history: list[Sent] = field(default_factory=list)

    def register_uri(self, method: str, url: str, answers: Any = None, **answer: Any) -> None:
        listed = answers if isinstance(answers, list) else [answer]
        self.routes.insert(0, Route(method.upper(), url, listed))

    def get(self, url: str, answers: Any = None, **answer: Any) -> None:
        self.register_uri("GET", url, answers, **answer)

    def put(self, url: str, answers: Any = None, **answer: Any) -> None:
        self.register_uri("PUT", url, answers, **answer)

    def post(self, url: str, answers: Any = None, **answer: Any) -> None:
        self.register_uri("POST", url, answers, **answer)

    @property
    def call_count(self) -> int:
        return len(self.request_history)

    @property
    def called(self) -> bool:
        return bool(self.request_history)

    @property
    def last_request(self) -> Sent:
        return self.request_history[-1]

    def send(self, request: Request) -> Response:
        headers = Headers(list(request.headers.items()))
        self.request_history.append(Sent(request.method, request.url, headers, request.body))
        route = next((r for r in self.routes if r.matches(request)), None)
        if route is None:
            raise AssertionError(f"no canned answer for {request.method} {request.url}")
        answer = route.next_answer()
        if "exc" in answer:
            raise answer["exc"]
        return Response(raw_of(answer), lambda _reusable: None)  # type: ignore[arg-type]


def raw_of(answer: dict[str, Any]) -> FakeRaw:
    """The answer's status, headers and body from ``json``, ``text`` or ``content``."""
    body: bytes = b""
    if "json" in answer:
        body = json.dumps(answer["json"]).encode("utf-8")
    elif "text" in answer:
        body = answer["text"].encode("utf-8")
    elif "content" in answer:
        body = answer["content"]
    headers = list((answer.get("headers") or {}).items())
    return FakeRaw(answer.get("status_code", 200), headers, body)


@contextlib.contextmanager
def mocked() -> Iterator[HttpMock]:
    """Inside, every ``gate.api.http.Session`` answers from the routes registered on the
    mock it yields (for a Hypothesis test, where a fixture would span all examples)."""
    mock = HttpMock()
    original = http.Session.send
    http.Session.send = lambda _session, request, _timeout: mock.send(request)  # type: ignore[method-assign]
    try:
        yield mock
    finally:
        http.Session.send = original  # type: ignore[method-assign]


@pytest.fixture
def http_mock() -> Iterator[HttpMock]:
    """Every ``gate.api.http.Session`` answers from the routes registered on this mock."""
    with mocked() as mock:
        yield mock
