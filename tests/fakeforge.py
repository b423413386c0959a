"""Local fakes of the GitHub and GitLab REST APIs that the gate comments through.

One ``FakeForge`` serves both on 127.0.0.1, as runners set them: GitHub at ``url``
(``GITHUB_API_URL``), GitLab at ``url + "/api/v4"`` (``CI_API_V4_URL``).

- GitHub: ``GET /repos/{o}/{r}/issues/{n}/comments`` (``per_page``/``page``, a ``Link``
  header with ``rel="next"``), ``POST`` to it, ``PATCH /repos/{o}/{r}/issues/comments/{id}``;
  ``Authorization: Bearer TOKEN``.
- GitLab: ``GET /api/v4/projects/{id}/merge_requests/{iid}/notes`` (``X-Next-Page``),
  ``POST`` to it, ``PUT .../notes/{id}``; ``PRIVATE-TOKEN: TOKEN``.

``faults`` holds scripted answers served before the real ones (consumed one per request,
optionally only for one method): status, headers, body, or ``hang`` (until stopped, at
most ``MAX_WAIT`` seconds). Every request is recorded. Standard library only.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_WAIT = 30.0
GITHUB_LIST = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments")
GITHUB_EDIT = re.compile(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)")
GITLAB_LIST = re.compile(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes")
GITLAB_EDIT = re.compile(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)")


@dataclass
class Fault:
    """A scripted answer: served instead of the real one (``hang``: no answer at all)."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    method: str | None = None
    hang: bool = False


@dataclass
class Request:
    """One request as received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeForge:
    """GitHub's and GitLab's comment endpoints over loopback."""

    def __init__(
        self,
        token: str = "ghs_fake-forge-token-0123456789",
        gitlab_token: str = "glpat-fake-gitlab-token-0123",
    ) -> None:
        self.token, self.gitlab_token = token, gitlab_token
        self.comments: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.next_id = 1000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeForge:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()

    def seed(self, key: tuple[str, str], bodies: list[str], author: str = "someone") -> None:
        """Comments already on a change request (``key``: repo or project, number)."""
        for body in bodies:
            self.add(key, body, author)

    def add(self, key: tuple[str, str], body: str, author: str = "gate") -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            item = {"id": self.next_id, "body": body, "user": {"login": author}}
            item["html_url"] = f"https://github.example/pull/{key[1]}#issuecomment-{self.next_id}"
            self.comments.setdefault(key, []).append(item)
            return item

    def of(self, key: tuple[str, str]) -> list[dict[str, Any]]:
        """The comments of a change request."""
        return self.comments.get(key, [])

    def counts(self) -> dict[str, int]:
        """Requests per method."""
        result: dict[str, int] = {}
        for request in self.requests:
            result[request.method] = result.get(request.method, 0) + 1
        return result

    def fault_for(self, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method in (None, method):
                    self.faults.remove(fault)
                    return fault
        return None

    def answer(self, request: Request) -> tuple[int, dict[str, str], Any]:
        """Route one request."""
        fault = self.fault_for(request.method)
        if fault is not None:
            if fault.hang:
                self.stopped.wait(MAX_WAIT)
            return fault.status, fault.headers, fault.body
        if GITLAB_EDIT.fullmatch(request.path) or GITLAB_LIST.fullmatch(request.path):
            if request.headers.get("PRIVATE-TOKEN") != self.gitlab_token:
                return 401, {}, {"message": "401 Unauthorized"}
            return self.gitlab(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials"}
        return self.github(request)

    def page(self, items: list[dict[str, Any]], request: Request) -> tuple[list[Any], int, int]:
        per_page = min(int(request.query.get("per_page", ["30"])[0]), 100)
        page = int(request.query.get("page", ["1"])[0])
        return items[(page - 1) * per_page : page * per_page], page, per_page

    def github(self, request: Request) -> tuple[int, dict[str, str], Any]:
        if listed := GITHUB_LIST.fullmatch(request.path):
            key = (listed.group(1), listed.group(2))
            if request.method == "POST":
                return 201, {}, self.add(key, request.body["body"])
            items, page, per_page = self.page(self.of(key), request)
            headers = {}
            if page * per_page < len(self.of(key)):
                nxt = f"{self.url}{request.path}?per_page={per_page}&page={page + 1}"
                headers["Link"] = f'<{nxt}>; rel="next", <{nxt}>; rel="last"'
            return 200, headers, items
        if (edit := GITHUB_EDIT.fullmatch(request.path)) and request.method == "PATCH":
            for item in self.all_comments():
                if item["id"] == int(edit.group(2)):
                    item["body"] = request.body["body"]
                    return 200, {}, item
        return 404, {}, {"message": "Not Found"}

    def all_comments(self) -> list[dict[str, Any]]:
        return [item for items in self.comments.values() for item in items]

    def gitlab(self, request: Request) -> tuple[int, dict[str, str], Any]:
        if (edit := GITLAB_EDIT.fullmatch(request.path)) and request.method == "PUT":
            for item in self.of((edit.group(1), edit.group(2))):
                if item["id"] == int(edit.group(3)):
                    item["body"] = request.body["body"]
                    return 200, {}, item
            return 404, {}, {"message": "404 Not found"}
        listed = GITLAB_LIST.fullmatch(request.path)
        assert listed is not None
        key = (listed.group(1), listed.group(2))
        if request.method == "POST":
            return 201, {}, self.add(key, request.body["body"])
        items, page, per_page = self.page(self.of(key), request)
        more = page * per_page < len(self.of(key))
        return 200, {"X-Next-Page": str(page + 1) if more else ""}, items


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        fake: FakeForge = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Request(
            self.command,
            split.path,
            parse_qs(split.query),
            dict(self.headers.items()),
            json.loads(raw) if raw else None,
        )
        with fake.lock:
            fake.requests.append(request)
        status, headers, body = fake.answer(request)
        data = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    do_POST = do_PUT = do_PATCH = do_GET
