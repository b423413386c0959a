"""A faithful fake of the CodeArts Check refresh API and of IAM password login.

The fake follows ../shared/codearts-api.md: the refresh call
``PUT /v1/jobs/{job_id}/result/refresh?task_id=..&async=false`` behind an API-gateway
that checks ``X-Auth-Token`` or an ``SDK-HMAC-SHA256`` signature (recomputed here
independently from the bytes received), and ``POST /v3/auth/tokens``. The defect
endpoints ``GET /v2/tasks/{task_id}/defects-detail`` and ``/defects-statistic`` serve
``FakeCodeArts.defect_api`` (a ``DefectApi``: the rows, the meaning of ``offset``, and
injected duplicates, faults and latency; see the end of this file).

What the refresh call answers is driven by a *scenario*: a sequence of steps (response
recipes) of which the last one repeats. Pick a named one from ``SCENARIOS`` or pass a
list of steps built with the ``*_step`` helpers, at construction or at any time later::

    with FakeCodeArts(scenario="flaky_503_then_pass") as api:
        run_gate("--endpoint", api.url, ...)
        api.scenario = [json_step(429, {...}), report_step(PASS_REPORT)]

Standard library only. Every blocking behaviour (``hang``, ``sleep``, ``trickle``)
waits on an event that ``stop()`` sets, and never longer than ``MAX_WAIT`` seconds.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import re
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlsplit

MAX_WAIT = 60.0
"""Upper bound, in seconds, of any wait inside a handler (hang, sleep, trickle)."""

CLOCK_SKEW = 15 * 60
"""Largest accepted distance, in seconds, between X-Sdk-Date and the server clock."""

BAD_SIGNATURE_LOCK = 5
"""Bad signatures in a row after which the AK is locked (the gateway's documented rule)."""

LOCK_SECONDS = 5 * 60

OTHER_ORIGIN = "127.0.0.2"
"""Another origin: 127.0.0.0/8 is all loopback, but a socket bound to 127.0.0.1 does not
answer 127.0.0.2, so for a client ``http://127.0.0.2:PORT`` is a different host. The fake
also listens there (same port, when free) and records what arrives, so a test can see
whether a client followed a cross-origin redirect and what credentials it carried."""

JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html; charset=utf-8"
REFRESH_PATH = re.compile(r"/v1/jobs/([^/]+)/result/refresh")
IAM_PATH = "/v3/auth/tokens"
SEVERITIES = ("critical", "major", "minor", "suggestion")
LEGACY_SEVERITIES = ("FATAL", "CRITICAL", "GENERAL", "PROMPT")

EXAMPLE_REPORT: dict[str, Any] = {
    "CODE_SIZE": 991,
    "UCC_NBNC": 803,
    "FILE_TOTAL": 41,
    "FATAL": 0,
    "CRITICAL": 4,
    "GENERAL": 108,
    "PROMPT": 10,
    "NEW": 122,
    "UNRESOLVED": 122,
    "UNRESOLVED_ADD": 122,
    "STANDARD_NEW": 122,
    "STANDARD_FIXED": 0,
    "STANDARD_DISMISSED": 0,
    "RESOLVED": 0,
    "FIX": 0,
    "IGNORE": 0,
    "COMFIRM": 0,
    "DELAYSTATUS_COUNT": 0,
    "critical": 0,
    "major": 4,
    "minor": 108,
    "suggestion": 10,
    "delay_critical": 0,
    "delay_major": 0,
    "delay_minor": 0,
    "delay_suggestion": 0,
    "REPORT_URL": (
        "https://devcloud.cn-north-4.huaweicloud.com/codecheck/project/x/codecheck/task/y/detail"
    ),
    "TOOL_LIST": ["fixbotengine-cxx", "clangtidy", "codemars"],
}
"""The documented example: FAILS default limits (CRITICAL 4 is the legacy name of major)."""

_NO_ISSUES = dict.fromkeys(
    (*SEVERITIES, *LEGACY_SEVERITIES, "NEW", "UNRESOLVED", "UNRESOLVED_ADD", "STANDARD_NEW"), 0
)
PASS_REPORT: dict[str, Any] = {**EXAMPLE_REPORT, **_NO_ISSUES}
"""A report within default limits: every severity 0 and UNRESOLVED_ADD 0."""

LEGACY_ONLY_REPORT: dict[str, Any] = {
    k: v for k, v in EXAMPLE_REPORT.items() if k not in SEVERITIES and not k.startswith("delay_")
}
"""The example with only the upper-case legacy names (CRITICAL 4 means major 4)."""

MISSING_COUNT_REPORT: dict[str, Any] = {
    k: v for k, v in PASS_REPORT.items() if k not in ("critical", "FATAL")
}
"""A passing report that lacks the critical count under both namings: cannot be judged."""

STRING_COUNTS_REPORT: dict[str, Any] = {
    k: str(v) if isinstance(v, int) else v for k, v in EXAMPLE_REPORT.items()
}
"""The example with every count as a decimal string ("4")."""

BAD_COUNT_REPORT: dict[str, Any] = {**PASS_REPORT, "major": -1, "CRITICAL": -1}
"""A passing report except a negative major count (both namings)."""

FRACTIONAL_COUNT_REPORT: dict[str, Any] = {**PASS_REPORT, "major": 0.5, "CRITICAL": 0.5}
"""A passing report except a fractional major count (both namings)."""


# --------------------------------------------------------------------------- signing


def canonical_uri(path: str) -> str:
    """Canonical URI: each segment ``quote(seg, safe="~")``, always ending in ``/``."""
    uri = "/".join(quote(unquote(seg), safe="~") for seg in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query: str) -> str:
    """Canonical query: (key, value) pairs as decoded, sorted, re-encoded, ``&``-joined."""
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)


def canonical_request(
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    signed_headers: str,
) -> str:
    """Canonical request of section 4, built from what the server received."""
    lower = {k.lower(): v for k, v in headers.items()}
    names = signed_headers.split(";")
    lines = "".join(f"{name}:{lower.get(name, '').strip()}\n" for name in names)
    payload = hashlib.sha256(body).hexdigest()
    query = canonical_query(raw_query)
    return f"{method.upper()}\n{canonical_uri(path)}\n{query}\n{lines}\n{signed_headers}\n{payload}"


def string_to_sign(canonical: str, sdk_date: str) -> str:
    """``SDK-HMAC-SHA256\\n{X-Sdk-Date}\\n{hex sha256(canonical request)}``."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"SDK-HMAC-SHA256\n{sdk_date}\n{digest}"


def expected_signature(
    sk: str,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    signed_headers: str,
) -> str:
    """The signature the server expects for a request, as hex HMAC-SHA256 keyed by ``sk``.

    ``path`` and ``raw_query`` are as received (percent-encoded), ``headers`` the received
    headers (any case), ``signed_headers`` the ``SignedHeaders=`` list (``a;b;c``).
    """
    sdk_date = {k.lower(): v for k, v in headers.items()}.get("x-sdk-date", "")
    canonical = canonical_request(method, path, raw_query, headers, body, signed_headers)
    to_sign = string_to_sign(canonical, sdk_date.strip())
    return hmac.new(sk.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> dict[str, str] | None:
    """Split ``SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..``; None if malformed."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != "SDK-HMAC-SHA256":
        return None
    parts = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    wanted = ("Access", "SignedHeaders", "Signature")
    if not all(parts.get(key) for key in wanted):
        return None
    return {key: parts[key].strip() for key in wanted}


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Step:
    """One response recipe of a scenario.

    kind: ``report`` (the envelope around ``report``, or the server's ``report`` when
    None), ``json`` (``body`` serialised), ``raw`` (``body`` bytes as ``content_type``),
    ``hang`` (never answer until stop, at most MAX_WAIT) or ``redirect`` (``status`` with
    ``Location`` = ``location`` formatted with ``port`` and ``target``, the request target).
    delivery: ``normal``, ``reset`` (half the body then RST), ``truncated`` (half the body
    under the full Content-Length, then FIN) or ``trickle`` (one byte every ``interval``).
    delay: seconds to sleep before answering. auth: check credentials (and, for
    ``report``, the request shape) first, as the gateway and the service would.
    """

    kind: str = "report"
    status: int = 200
    body: Any = None
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    report: Mapping[str, Any] | None = None
    http_status: Any = "OK"
    delay: float = 0.0
    delivery: str = "normal"
    interval: float = 0.5
    location: str = ""
    auth: bool = True


@dataclass(frozen=True)
class Scenario:
    """Steps served one per refresh request, the last one repeating; ``iam`` drives login."""

    steps: tuple[Step, ...]
    iam: str = "ok"
    doc: str = ""
    name: str = "custom"

    def step(self, index: int) -> Step:
        """The step for the ``index``-th refresh request (0-based)."""
        return self.steps[min(index, len(self.steps) - 1)]


def report_step(report: Mapping[str, Any] | None = None, **kw: Any) -> Step:
    """Serve the success envelope around ``report`` (None: the server's ``report``)."""
    return Step(kind="report", report=report, **kw)


def json_step(
    status: int, body: Any, *, headers: Mapping[str, str] | None = None, **kw: Any
) -> Step:
    """Serve ``body`` as JSON; a ``request_id`` key set to None is filled with the request id."""
    return Step(kind="json", status=status, body=body, headers=tuple((headers or {}).items()), **kw)


def raw_step(status: int, body: bytes, content_type: str, **kw: Any) -> Step:
    """Serve raw bytes with a content type."""
    return Step(kind="raw", status=status, body=body, content_type=content_type, **kw)


def hang_step() -> Step:
    """Accept the request and never answer (until stop, or MAX_WAIT, then close)."""
    return Step(kind="hang", auth=False)


def sleep_step(seconds: float, then: Step | None = None) -> Step:
    """Sleep ``seconds`` (stop-aware), then answer as ``then`` (default: the server's report)."""
    return replace(then or report_step(), delay=seconds)


def reset_step(then: Step | None = None) -> Step:
    """Send the headers and half the body of ``then``, then reset the connection (RST)."""
    return replace(then or report_step(), delivery="reset")


def truncated_step(then: Step | None = None) -> Step:
    """Announce the full Content-Length, send half the body of ``then``, then close."""
    return replace(then or report_step(), delivery="truncated")


def trickle_step(interval: float = 0.5, then: Step | None = None) -> Step:
    """Send the body of ``then`` one byte every ``interval`` seconds (at most MAX_WAIT)."""
    return replace(then or report_step(), delivery="trickle", interval=interval)


def redirect_step(status: int, location: str) -> Step:
    """Redirect; ``location`` may use ``{port}`` and ``{target}`` (path and query)."""
    return Step(kind="redirect", status=status, location=location, auth=False)


def _apigw_body(code: str, msg: str) -> dict[str, Any]:
    return {"error_code": code, "error_msg": msg, "request_id": None}


def _cc_body(code: str, msg: str, *, failed: bool = True) -> dict[str, Any]:
    body = {"error_code": code, "error_msg": msg}
    return {"status": "failed", **body} if failed else body


_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Huawei Cloud</title></head>"
    b"<body><div id='app'>Loading console...</div></body></html>"
)
_PROXY_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_UNAVAILABLE = json_step(503, _apigw_body("APIGW.0202", "Backend unavailable"), auth=False)
_THROTTLED = json_step(
    429,
    _apigw_body(
        "APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit"
    ),
    headers={"Retry-After": "1"},
    auth=False,
)
_PASS = report_step(PASS_REPORT)


def _scenario(name: str, doc: str, *steps: Step, iam: str = "ok") -> tuple[str, Scenario]:
    return name, Scenario(steps=steps, iam=iam, doc=doc, name=name)


SCENARIOS: dict[str, Scenario] = dict(
    [
        _scenario("pass", "report within default limits", _PASS),
        _scenario(
            "fail", "the documented example (major 4, minor 108, ...)", report_step(EXAMPLE_REPORT)
        ),
        _scenario("report", "the server's current `report` attribute", report_step()),
        _scenario(
            "legacy_only",
            "only FATAL/CRITICAL/GENERAL/PROMPT names",
            report_step(LEGACY_ONLY_REPORT),
        ),
        _scenario("int_http_status", "httpStatus 200 (integer)", report_step(http_status=200)),
        _scenario(
            "expired_token_401",
            "token expired",
            json_step(
                401,
                _cc_body("CC.00000003", "Authentication information expired.", failed=False),
                auth=False,
            ),
        ),
        _scenario(
            "bad_request_400",
            "parameter validation failed",
            json_step(
                400, _cc_body("CC.00050000", "Verify request parameter failed", failed=False)
            ),
        ),
        _scenario(
            "error_envelope_200",
            "HTTP 200 carrying an error",
            json_step(200, _cc_body("CC.00050006", "service inner error")),
        ),
        _scenario(
            "no_permission_200",
            "HTTP 200 with error_code and no status",
            json_step(200, _cc_body("CC.00050010", "no permission", failed=False)),
        ),
        _scenario(
            "non_json", "200 text/html page", raw_step(200, _HTML_PAGE, HTML_TYPE, auth=False)
        ),
        _scenario("missing_count", "no critical/FATAL count", report_step(MISSING_COUNT_REPORT)),
        _scenario("string_counts", "counts as decimal strings", report_step(STRING_COUNTS_REPORT)),
        _scenario("bad_count", "negative major count", report_step(BAD_COUNT_REPORT)),
        _scenario(
            "fractional_count", "fractional major count", report_step(FRACTIONAL_COUNT_REPORT)
        ),
        _scenario("flaky_503_then_pass", "503 twice, then pass", _UNAVAILABLE, _UNAVAILABLE, _PASS),
        _scenario(
            "retry_later_then_pass",
            "200 CC.00050012 once, then pass",
            json_step(200, _cc_body("CC.00050012", "Please retry later.")),
            _PASS,
        ),
        _scenario("rate_limited_429", "429 APIGW.0308 Retry-After 1, then pass", _THROTTLED, _PASS),
        _scenario("always_503", "503 forever", _UNAVAILABLE),
        _scenario("slow", "sleep 30 s, then the server's report", sleep_step(30.0)),
        _scenario("hang", "never answer", hang_step()),
        _scenario("reset_mid_body", "RST after half the body", reset_step()),
        _scenario("truncated_json", "Content-Length larger than the body sent", truncated_step()),
        _scenario("trickle", "one byte every 0.5 s", trickle_step(0.5)),
        _scenario("empty_body", "200 with an empty body", raw_step(200, b"", JSON_TYPE)),
        _scenario(
            "html_proxy_502",
            "502 HTML page from a proxy",
            raw_step(502, _PROXY_502, HTML_TYPE, auth=False),
        ),
        _scenario(
            "redirect_other_host",
            f"302 to {OTHER_ORIGIN} (another origin, see OTHER_ORIGIN)",
            redirect_step(302, f"http://{OTHER_ORIGIN}:{{port}}{{target}}"),
        ),
        _scenario(
            "redirect_https",
            "301 to the https:// form of the same URL",
            redirect_step(301, "https://127.0.0.1:{port}{target}"),
        ),
        _scenario(
            "apigw_0303",
            "signature expired, whatever the request",
            json_step(
                401,
                _apigw_body(
                    "APIGW.0303", "Incorrect IAM authentication information: signature expired"
                ),
                auth=False,
            ),
        ),
        _scenario("apigw_0308_always", "throttled forever", _THROTTLED),
        _scenario("mfa_required", "refresh passes; IAM login needs MFA", _PASS, iam="mfa_required"),
        _scenario("user_locked", "refresh passes; IAM user locked", _PASS, iam="user_locked"),
    ]
)
"""Named scenarios. Gateway, proxy and transport failures skip the auth check;
service answers (report, CC.* errors) come after it."""

ScenarioSpec = str | Scenario | Step | Sequence[Step]


def as_scenario(spec: ScenarioSpec) -> Scenario:
    """A Scenario from a name in SCENARIOS, a Scenario, a Step or a sequence of Steps."""
    if isinstance(spec, str):
        if spec not in SCENARIOS:
            raise KeyError(f"unknown scenario {spec!r}; known: {', '.join(sorted(SCENARIOS))}")
        return SCENARIOS[spec]
    if isinstance(spec, Scenario):
        return spec
    steps = (spec,) if isinstance(spec, Step) else tuple(spec)
    if not steps or not all(isinstance(s, Step) for s in steps):
        raise ValueError("a scenario needs at least one Step")
    return Scenario(steps=steps)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: raw path and query, parsed query, headers, body bytes."""

    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    origin: str = "127.0.0.1"
    request_id: str = ""
    target: str = ""
    received_at: float = 0.0  # the fake's clock when the request arrived

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header value by case-insensitive name."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class RequestLog(Sequence[RecordedRequest]):
    """A thread-safe, append-only list of RecordedRequest (indexing reads a snapshot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, item: RecordedRequest) -> None:
        """Add one record."""
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the records so far."""
        with self._lock:
            return list(self._items)

    def __getitem__(self, index: Any) -> Any:
        return self.snapshot()[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())


@dataclass
class Reply:
    """A response to write: status, body, content type, extra headers, delivery mode."""

    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    delivery: str = "normal"
    interval: float = 0.5


def _json_reply(status: int, obj: Any, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    return Reply(status, json.dumps(obj).encode("utf-8"), JSON_TYPE, list(headers))


# --------------------------------------------------------------------------- tasks

TASK_PATH = re.compile(r"/v2/tasks/([^/]+)/(run|progress|stop)")
TASK_LIST_PATH = re.compile(r"/v2/([^/]+)/tasks")
LOG_PATH = re.compile(r"/v2/([^/]+)/tasks/([^/]+)/log-detail")
CHECKRECORD_PATH = re.compile(r"/v2/([^/]+)/tasks/([^/]+)/checkrecord")
DEFECT_STATUS_PATH = re.compile(r"/v2/tasks/([^/]+)/defect-status")
MAX_CHECKRECORD_LIMIT = 1000
TASK_METHODS = {"run": "POST", "progress": "GET", "stop": "POST"}
RUN_FIELDS = ("username", "access_token", "git_url", "git_branch")
FAILED_LOG: list[dict[str, Any]] = [
    {"display_name": "clone", "log": "Cloning into 'repo'...\ndone.", "level": "info",
     "analysis": "", "faq": ""},
    {"display_name": "compile", "log": "build.sh: line 3: mvn: command not found\n"
     "compile failed with exit code 127", "level": "error",
     "analysis": "the compile command failed: check the task's compile_config", "faq": ""},
]  # fmt: skip


RIVAL_BRANCH = "other-pipeline"  # the branch of the scans other pipelines start
STATE_INFO = {1: "failed", 2: "success", 3: "stopped"}  # older docs' words; newer: Chinese


def task_step() -> Step:
    """For ``FakeCodeArts.inject``: the task endpoint's own answer."""
    return Step(kind="task")


def _endpoint_of(rec: RecordedRequest) -> str | None:
    match = TASK_PATH.fullmatch(rec.path)
    if match and TASK_METHODS[match.group(2)] == rec.method:
        return match.group(2)
    if LOG_PATH.fullmatch(rec.path) and rec.method == "GET":
        return "log"
    if CHECKRECORD_PATH.fullmatch(rec.path) and rec.method == "GET":
        return "checkrecord"
    if DEFECT_STATUS_PATH.fullmatch(rec.path) and rec.method == "PUT":
        return "defect-status"
    if REFRESH_PATH.fullmatch(rec.path) and rec.method == "PUT":
        return "refresh"
    return None


def _task_id_of(rec: RecordedRequest) -> str:
    if match := TASK_PATH.fullmatch(rec.path) or DEFECT_STATUS_PATH.fullmatch(rec.path):
        return unquote(match.group(1))
    match = LOG_PATH.fullmatch(rec.path) or CHECKRECORD_PATH.fullmatch(rec.path)
    assert match is not None
    return unquote(match.group(2))


@dataclass
class FakeTask:
    """A check task: how its scans go, and what happened to them.

    ``length``: seconds from the run to the end of a scan; ``outcome``: the terminal
    status a scan reaches (1 failed, 2 succeeded, 3 stopped from elsewhere); ``ratio``:
    ``steady`` (whole percent of the time elapsed), ``none`` (null) or ``missing`` (no
    ``ratio`` key); ``status``: the state before any run here (None: never ran).
    """

    task_id: str
    length: float = 0.0
    outcome: int = 2
    ratio: str = "steady"
    status: int | None = None
    info: str | None = "检查中"
    log: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(FAILED_LOG))
    git_url: str = "git@codehub.example:acme/repo.git"
    exec_ids: list[str] = field(default_factory=list)
    branches: list[str | None] = field(default_factory=list)
    started_at: float | None = None
    ends_at: float | None = None
    stopped_at: float | None = None
    run_count: int = 0
    rivals: list[float] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    """checkrecord rows of earlier scans, served as given (times and counts in any shape)."""
    history_order: str = "newest"
    """The order checkrecord serves rows in: ``newest`` first, ``oldest`` first, ``given``."""
    run_walls: list[datetime] = field(default_factory=list)
    counts: dict[str, Any] = field(
        default_factory=lambda: dict.fromkeys(("critical", "serious", "normal", "prompt"), 0)
    )
    """The issue_counts a scan run here ends with."""

    def start(self, now: float, length: float, branch: str | None) -> str:
        """A new scan from ``now``; its exec id."""
        exec_id = uuid.uuid4().hex
        self.exec_ids.append(exec_id)
        self.run_walls.append(datetime.now(timezone.utc))
        self.branches.append(branch)
        self.started_at, self.ends_at, self.stopped_at = now, now + length, None
        return exec_id

    def running(self, now: float) -> bool:
        """A scan is under way."""
        return self.ends_at is not None and self.stopped_at is None and now < self.ends_at

    def state(self, now: float) -> int | None:
        """The task_status now."""
        if self.started_at is None:
            return self.status
        if self.stopped_at is not None:
            return 3
        return 0 if self.running(now) else self.outcome

    def succeeded(self, exec_id: str, now: float) -> bool:
        """True once the scan ``exec_id`` has ended well (earlier scans count as ended)."""
        latest = self.exec_ids[-1] if self.exec_ids else None
        return exec_id != latest or self.state(now) == 2

    def progress(self, now: float) -> dict[str, Any]:
        """The documented progress body."""
        state = self.state(now)
        ratio: str | None = None
        if state == 0 and self.ratio == "steady":
            assert self.started_at is not None and self.ends_at is not None
            share = (now - self.started_at) / max(self.ends_at - self.started_at, 1e-9)
            ratio = f"{min(99, int(share * 100))}%"
        elif state in (1, 2, 3) and self.ratio == "steady":
            ratio = "100%"
        info = self.info if state == 0 else STATE_INFO.get(state)
        details: dict[str, Any] = {"ratio": ratio, "info": info}
        if self.ratio == "missing":
            del details["ratio"]
        return {"task_status": state, "progress": details}

    def run_reply(self, rec: RecordedRequest, now: float) -> Reply:
        """Start a scan, or say the task is running (CC.00050015, HTTP 200)."""
        self.run_count += 1
        try:
            body = json.loads(rec.body or b"{}")
        except ValueError:
            body = None
        valid = isinstance(body, dict) and all(
            k in RUN_FIELDS and isinstance(v, str) for k, v in body.items()
        )
        if not valid:
            msg = "Verify request parameter failed: the body is not a RunRequestV2"
            return _json_reply(400, {"error_code": "CC.00050000", "error_msg": msg})
        if not self.running(now) and self.rivals:
            self.start(now, self.rivals.pop(0), RIVAL_BRANCH)
        if self.running(now):
            return _json_reply(200, _cc_body("CC.00050015", "task is running", failed=False))
        exec_id = self.start(now, self.length, body.get("git_branch"))
        return _json_reply(200, {"exec_id": exec_id})

    def records(self, now: float) -> list[dict[str, Any]]:
        """The checkrecord rows: the given history, then the latest scan run here (without
        ``check_end_time`` while it runs), in ``history_order``."""
        rows = [dict(row) for row in self.history]
        if self.run_walls and self.started_at is not None and self.ends_at is not None:
            start = self.run_walls[-1]
            row: dict[str, Any] = {"check_time": _wall(start), "issue_counts": dict(self.counts)}
            if not self.running(now):
                end = (self.stopped_at or self.ends_at) - self.started_at
                row["check_end_time"] = _wall(start + timedelta(seconds=end))
            rows.append(row)
        if self.history_order == "newest":
            rows.sort(key=lambda r: _when(r.get("check_time")), reverse=True)
        elif self.history_order == "oldest":
            rows.sort(key=lambda r: _when(r.get("check_time")))
        return rows

    def stop(self, now: float) -> None:
        """Stop the scan under way, if any."""
        if self.running(now):
            self.stopped_at = now

    def param_info(self) -> dict[str, Any]:
        """The scan's parameters, as log-detail shows them."""
        branch = self.branches[-1] if self.branches else None
        return {
            "url": "git@codehub.example:acme/repo.git",
            "branch": branch or "master",
            "language": "java",
            "exclude_dir": "",
            "encode": "UTF-8",
            "compile_config": "mvn package",
            "rule_template": "default",
        }


def _wall(moment: datetime) -> str:
    """A checkrecord time: UTC ``yyyy-MM-ddTHH:mm:ssZ``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(text: Any) -> datetime:
    """A time as the fake reads its own rows (``Z``, offsets, a space); unreadable: the epoch."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------- server


class FakeCodeArts:
    """The fake API on 127.0.0.1 (and 127.0.0.2, see OTHER_ORIGIN), serving from creation.

    Attributes: ``url``, ``port``, ``requests`` (RequestLog), ``report`` (served by report
    steps without their own report), ``scenario`` (settable: name, steps or Scenario),
    ``login_count``, ``token``, ``ak``, ``sk``, ``project_id``, ``iam_user``,
    ``iam_password``, ``iam_domain``. Use as a context manager or call ``stop()``.
    """

    def __init__(
        self,
        *,
        token: str = "fake-token-0123456789",
        ak: str = "HPUAFAKEAK0000000001",
        sk: str = "FakeSecretKey0123456789abcdefghijKLMNOP",
        project_id: str | None = None,
        iam_user: str = "ci-bot",
        iam_password: str = "fake-password-!@#",
        iam_domain: str = "acme",
        report: Mapping[str, Any] | None = None,
        scenario: ScenarioSpec = "pass",
        tls: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        console_project_id: str = "5e1f0c0ffee0000000000000c0dec4ec",
    ) -> None:
        self.token, self.ak, self.sk, self.project_id = token, ak, sk, project_id
        self.iam_user, self.iam_password, self.iam_domain = iam_user, iam_password, iam_domain
        self.report: dict[str, Any] = copy.deepcopy(dict(report or EXAMPLE_REPORT))
        self.requests = RequestLog()
        self.defect_api = DefectApi()  # the defects-detail/-statistic data and faults
        self.task_defects: dict[str, DefectApi] = {}  # task id -> its own (several tasks)
        self.codearts_gate_api = CodeArtsGateApi()  # defects-summary's is_access, review-data
        self.task_reports: dict[str, Step] = {}  # task id -> its refresh answer (several tasks)
        self.task_list_offset_means = "row"  # GET /v2/{project}/tasks: "row" or "page"
        self.task_list_steps: list[Step] = []  # served instead of the task list, one each
        self.login_count = 0
        self.bad_signature_streak = 0
        self._locked_until = 0.0
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._scenario_spec: ScenarioSpec = scenario
        self._scenario = as_scenario(scenario)
        self._index = 0
        self.clock = clock
        self.console_project_id = console_project_id
        self.tasks: dict[str, FakeTask] = {}
        self.injected: dict[str, list[Step]] = {}
        self.status_changes: list[tuple[list[str], str]] = []
        """What ``defect-status`` was told: (defect ids, status), in order."""
        self._main = _Server(("127.0.0.1", 0), self, "127.0.0.1")
        self.port: int = self._main.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if tls is not None:  # handshake in the handler thread, so a refused one blocks nothing
            self._main.socket = tls.wrap_socket(
                self._main.socket, server_side=True, do_handshake_on_connect=False
            )
            self.url = f"https://127.0.0.1:{self.port}"
        self._servers = [self._main, *self._other_origin()]
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self.start()

    def _other_origin(self) -> list[_Server]:
        try:
            return [_Server((OTHER_ORIGIN, self.port), self, OTHER_ORIGIN, _PASS)]
        except OSError:
            return []

    @property
    def other_origin_url(self) -> str | None:
        """``http://127.0.0.2:PORT`` when that listener could be bound, else None."""
        return f"http://{OTHER_ORIGIN}:{self.port}" if len(self._servers) > 1 else None

    # -- lifecycle

    def start(self) -> FakeCodeArts:
        """Serve in daemon threads (idempotent; the constructor already calls it)."""
        if not self._threads:
            for srv in self._servers:
                thread = threading.Thread(
                    target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Release every waiting handler, abort open connections, close the sockets."""
        if self._stopped:
            return
        self._stopped = True
        self._stop_event.set()
        for srv in self._servers:
            srv.shutdown()
        for srv in self._servers:
            srv.abort_connections(timeout=5.0)
            srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5.0)

    def __enter__(self) -> FakeCodeArts:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scenario

    @property
    def scenario(self) -> ScenarioSpec:
        """What was last set: a name from SCENARIOS, a Scenario, a Step or a list of Steps."""
        return self._scenario_spec

    @scenario.setter
    def scenario(self, spec: ScenarioSpec) -> None:
        parsed = as_scenario(spec)
        with self._lock:
            self._scenario_spec, self._scenario, self._index = spec, parsed, 0

    @property
    def refresh_count(self) -> int:
        """Refresh requests served under the current scenario."""
        return self._index

    def _next_step(self) -> Step:
        with self._lock:
            step = self._scenario.step(self._index)
            self._index += 1
            return step

    def wait_stopped(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (capped at MAX_WAIT); True when stop() was called."""
        return self._stop_event.wait(min(seconds, MAX_WAIT))

    # -- tasks (run, progress, stop, log-detail)

    def add_task(self, task_id: str, **kwargs: Any) -> FakeTask:
        """A check task the fake knows; see ``FakeTask`` for the keywords."""
        running_for = kwargs.pop("running_for", None)
        task = FakeTask(task_id, **kwargs)
        if running_for is not None:  # a scan someone else started is under way
            task.start(self.clock(), running_for, branch=RIVAL_BRANCH)
        self.tasks[task_id] = task
        return task

    def inject(self, endpoint: str, *steps: Step) -> None:
        """Serve ``steps`` for the next requests to ``endpoint`` (run, progress, stop, log;
        for ``iam``, only the step's delivery counts), one each, before the task's own
        answers resume. ``task_step()`` is the task's own
        answer (with the step's delivery, e.g. ``reset_step(task_step())``)."""
        with self._lock:
            self.injected.setdefault(endpoint, []).extend(steps)

    def task_requests(self, endpoint: str) -> list[RecordedRequest]:
        """The requests received for ``endpoint`` (run, progress, stop, log, refresh)."""
        return [r for r in self.requests if _endpoint_of(r) == endpoint]

    def task_reply(self, rec: RecordedRequest) -> Reply | None:
        """The answer to a task endpoint, or to the refresh of a scan still running; None
        for any other request."""
        endpoint = _endpoint_of(rec)
        if endpoint == "refresh":
            return self._premature_refresh(rec)
        if endpoint is None:
            return None
        with self._lock:
            queue = self.injected.get(endpoint) or []
            step = queue.pop(0) if queue else task_step()
        if step.delay:  # e.g. a run request answered late: sleep_step(s, task_step())
            self.wait_stopped(step.delay)
        if step.kind != "task":
            return self.step_reply(step, rec)
        reply = self.check_auth(rec) or self._task_answer(endpoint, rec)
        reply.delivery, reply.interval = step.delivery, step.interval
        return reply

    def _task_answer(self, endpoint: str, rec: RecordedRequest) -> Reply:
        if endpoint == "defect-status":  # the defects are the defect API's, task or not
            return self._defect_status_reply(rec)
        task_id = _task_id_of(rec)
        task = self.tasks.get(task_id)
        if task is None:
            return _json_reply(200, _cc_body("CC.00050000", f"task {task_id} does not exist"))
        now = self.clock()
        if endpoint == "run":
            return task.run_reply(rec, now)
        if endpoint == "progress":
            return _json_reply(200, task.progress(now))
        if endpoint == "stop":
            task.stop(now)
            return Reply(200, b"null", JSON_TYPE)
        if endpoint == "checkrecord":
            return self._checkrecord_reply(task, rec, now)
        return self._log_reply(task, rec)

    def _checkrecord_reply(self, task: FakeTask, rec: RecordedRequest, now: float) -> Reply:
        """``checkrecord``: the task's records whose start lies in the window, one page."""
        project = unquote(rec.path.split("/")[2])
        if project != self.console_project_id:
            return _json_reply(200, _cc_body("CC.00050013", "project not exist"))
        query = {k: v[-1] for k, v in rec.query.items()}
        offset, limit = query.get("offset", "0"), query.get("limit", "10")
        if not (offset.isdigit() and limit.isdigit()) or not 1 <= int(limit) <= 1000:
            msg = "Verify request parameter failed: offset >= 0, limit 1..1000"
            return _json_reply(400, {"error_code": "CC.00050000", "error_msg": msg})
        low = _when(query.get("start_time", "2000-01-01T00:00:00Z"))
        high = (
            _when(query.get("end_time"))
            if "end_time" in query
            else datetime.max.replace(tzinfo=timezone.utc)
        )
        rows = [r for r in task.records(now) if low <= _when(r.get("check_time")) <= high]
        page = rows[int(offset) : int(offset) + int(limit)]
        return _json_reply(200, {"total": len(rows), "data": page})

    def _defect_status_reply(self, rec: RecordedRequest) -> Reply:
        """``defect-status``: the SDK's body; the rows of the defect API change status."""
        try:
            body = json.loads(rec.body)
        except ValueError:
            body = None
        valid = isinstance(body, dict) and set(body) == {"defect_id", "defect_status"}
        if not valid or body["defect_status"] not in ("0", "1", "2"):
            msg = "Verify request parameter failed: defect_id and defect_status (0, 1, 2)"
            return _json_reply(400, {"error_code": "CC.00050000", "error_msg": msg})
        ids = set(str(body["defect_id"]).split(","))
        rows = self.defect_api.rows
        if isinstance(rows, list):
            for row in rows:
                if isinstance(row, dict) and row.get("defect_id") in ids:
                    row["defect_status"] = body["defect_status"]
        self.status_changes.append((sorted(ids), body["defect_status"]))
        return Reply(200, b"null", JSON_TYPE)

    def _log_reply(self, task: FakeTask, rec: RecordedRequest) -> Reply:
        project = unquote(rec.path.split("/")[2])
        if project != self.console_project_id:
            return _json_reply(200, _cc_body("CC.00050013", "project not exist"))
        exec_id = rec.query.get("execute_id", [None])[-1]
        if exec_id is not None and exec_id not in task.exec_ids:
            return _json_reply(200, _cc_body("CC.00050000", "execute_id not found"))
        return _json_reply(200, {"param_info": task.param_info(), "log_info": task.log})

    def task_list_reply(self, rec: RecordedRequest) -> Reply:
        """``GET /v2/{project_id}/tasks?offset=&limit=``: the project's tasks, a page of
        them (``offset`` as rows skipped, or as a page index: ``task_list_offset_means``)."""
        with self._lock:
            step = self.task_list_steps.pop(0) if self.task_list_steps else None
        if step is not None:
            return self.step_reply(step, rec)
        match = TASK_LIST_PATH.fullmatch(rec.path)
        if match is None or unquote(match.group(1)) != self.console_project_id:
            return _json_reply(200, _cc_body("CC.00050013", "project not exist"))
        offset = int((rec.query.get("offset") or ["0"])[-1] or 0)
        limit = min(int((rec.query.get("limit") or ["10"])[-1] or 10), 100)
        start = offset * limit if self.task_list_offset_means == "page" else offset
        rows = [
            {"task_id": t.task_id, "task_name": t.task_id, "git_url": t.git_url,
             "git_branch": "master", "creator_id": "u", "created_at": "", "last_check_time": ""}
            for t in self.tasks.values()
        ]  # fmt: skip
        return _json_reply(200, {"total": len(rows), "tasks": rows[start : start + limit]})

    def task_refresh_step(self, rec: RecordedRequest) -> Step | None:
        """``task_reports``' step for the refresh of a task's report (``task_id`` in the
        query) or of one of its scans (a job id it ran); None: the scenario answers."""
        task_id = (rec.query.get("task_id") or [""])[-1]
        if not task_id:
            match = REFRESH_PATH.fullmatch(rec.path)
            job = unquote(match.group(1)) if match else ""
            task_id = next((t.task_id for t in self.tasks.values() if job in t.exec_ids), "")
        return self.task_reports.get(task_id)

    def _premature_refresh(self, rec: RecordedRequest) -> Reply | None:
        """A refresh of a job whose scan has not succeeded yet. What the service answers
        then is unverified; any error catches a gate that refreshes too early."""
        match = REFRESH_PATH.fullmatch(rec.path)
        job_id = unquote(match.group(1)) if match else ""
        for task in self.tasks.values():
            if job_id in task.exec_ids and not task.succeeded(job_id, self.clock()):
                msg = "the check of this job has not succeeded"
                return self.check_auth(rec) or _json_reply(200, _cc_body("CC.00050000", msg))
        return None

    # -- refresh

    def step_reply(self, step: Step, rec: RecordedRequest) -> Reply:
        """The reply for one non-hanging step, credentials and request shape checked first."""
        if step.kind == "redirect":
            location = step.location.format(port=self.port, target=rec.target)
            return Reply(step.status, b"", None, [("Location", location)])
        if step.auth:
            error = self.check_auth(rec) or (step.kind == "report" and self.check_shape(rec))
            if error:
                return error
        reply = self._payload(step, rec)
        reply.delivery, reply.interval = step.delivery, step.interval
        return reply

    def _payload(self, step: Step, rec: RecordedRequest) -> Reply:
        if step.kind == "report":
            report = copy.deepcopy(dict(step.report if step.report is not None else self.report))
            body = {"status": "success", "httpStatus": step.http_status, "result": report}
            return _json_reply(200, body, step.headers)
        if step.kind == "json":
            body = step.body
            if isinstance(body, dict) and "request_id" in body and body["request_id"] is None:
                body = {**body, "request_id": rec.request_id}
            return _json_reply(step.status, body, step.headers)
        return Reply(step.status, bytes(step.body or b""), step.content_type, list(step.headers))

    def _apigw(self, status: int, code: str, msg: str, rec: RecordedRequest) -> Reply:
        return _json_reply(
            status, {"error_code": code, "error_msg": msg, "request_id": rec.request_id}
        )

    def _auth_failed(self, rec: RecordedRequest, why: str) -> Reply:
        return self._apigw(
            401, "APIGW.0301", f"Incorrect IAM authentication information: {why}", rec
        )

    def check_auth(self, rec: RecordedRequest) -> Reply | None:
        """None when the request carries valid credentials, else the gateway's 401."""
        token = rec.header("X-Auth-Token")
        if token is not None:
            return self._check_token(rec, token)
        authorization = rec.header("Authorization")
        if authorization:
            return self._check_aksk(rec, authorization)
        return self._auth_failed(rec, "x-auth-token or authorization not found")

    def _check_token(self, rec: RecordedRequest, token: str) -> Reply | None:
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return self._auth_failed(rec, "decrypt token fail")
        project = rec.header("X-Project-Id")
        if self.project_id and project is not None and project != self.project_id:
            return self._auth_failed(rec, "token project does not match X-Project-Id")
        return None

    def _check_aksk(self, rec: RecordedRequest, authorization: str) -> Reply | None:
        parts = parse_authorization(authorization)
        if parts is None:
            return self._auth_failed(rec, "Authorization header format invalid")
        if parts["Access"] != self.ak:
            return self._auth_failed(rec, "access key not found")
        if time.monotonic() < self._locked_until:
            return self._auth_failed(rec, "access key locked after repeated signature failures")
        signed = parts["SignedHeaders"].split(";")
        if "host" not in signed or "x-sdk-date" not in signed:
            return self._auth_failed(rec, "host and x-sdk-date must be signed headers")
        return self._check_date(rec) or self._check_project(rec) or self._verify(rec, parts)

    def _check_date(self, rec: RecordedRequest) -> Reply | None:
        raw = (rec.header("X-Sdk-Date") or "").strip()
        try:
            when = datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return self._auth_failed(rec, "x-sdk-date missing or malformed")
        if abs(time.time() - when.timestamp()) > CLOCK_SKEW:
            msg = "Incorrect IAM authentication information: signature expired"
            return self._apigw(401, "APIGW.0303", msg, rec)
        return None

    def _check_project(self, rec: RecordedRequest) -> Reply | None:
        if self.project_id and rec.header("X-Project-Id") != self.project_id:
            return self._auth_failed(rec, "X-Project-Id missing or not the configured project")
        return None

    def _verify(self, rec: RecordedRequest, parts: Mapping[str, str]) -> Reply | None:
        wanted = expected_signature(
            self.sk,
            rec.method,
            rec.path,
            rec.raw_query,
            rec.headers,
            rec.body,
            parts["SignedHeaders"],
        )
        if hmac.compare_digest(wanted, parts["Signature"].lower()):
            with self._lock:
                self.bad_signature_streak = 0
            return None
        with self._lock:
            self.bad_signature_streak += 1
            if self.bad_signature_streak >= BAD_SIGNATURE_LOCK:
                self._locked_until = time.monotonic() + LOCK_SECONDS
        return self._auth_failed(rec, "verify aksk signature fail")

    def check_shape(self, rec: RecordedRequest) -> Reply | None:
        """The documented query: task_id present (<= 32 chars), async=false.

        Without ``async=false`` the real service refreshes in the background and answers
        ``{"status": "success", "httpStatus": "OK"}`` with no result: so does the fake.
        """
        task_ids = rec.query.get("task_id")
        if task_ids is None or len(task_ids[-1]) > 32:
            msg = "Verify request parameter failed: task_id missing or longer than 32 characters"
            return _json_reply(400, {"error_code": "CC.00050000", "error_msg": msg})
        mode = rec.query.get("async", ["true"])[-1]
        if mode == "true":
            return _json_reply(200, {"status": "success", "httpStatus": "OK"})
        if mode != "false":
            msg = "Verify request parameter failed: async must be true or false"
            return _json_reply(400, {"error_code": "CC.00050000", "error_msg": msg})
        return None

    # -- IAM

    def iam_reply(self, rec: RecordedRequest) -> Reply:
        """``POST /v3/auth/tokens``: 201 with X-Subject-Token, or IAM's 400/401 answers;
        delivered as the next step injected for ``iam`` says (e.g. ``trickle_step``)."""
        with self._lock:
            queue = self.injected.get("iam") or []
            step = queue.pop(0) if queue else None
        reply = self._iam_answer(rec)
        if step is not None:
            reply.delivery, reply.interval = step.delivery, step.interval
        return reply

    def _iam_answer(self, rec: RecordedRequest) -> Reply:
        with self._lock:
            self.login_count += 1
        creds = _parse_login(rec)
        if creds is None:
            return _iam_error(400, "Request body is invalid.", "Bad Request")
        user, password, domain = creds
        mode = self._scenario.iam
        if mode == "user_locked":
            return _iam_error(401, "The account is locked.", "Unauthorized")
        if domain != self.iam_domain:
            return _iam_error(
                401, "The account (domain name) does not exist or is wrong.", "Unauthorized"
            )
        ok_user = hmac.compare_digest(user.encode(), self.iam_user.encode())
        if not (ok_user and hmac.compare_digest(password.encode(), self.iam_password.encode())):
            return _iam_error(401, "The username or password is wrong.", "Unauthorized")
        if mode == "mfa_required":
            # Unverified: a user with virtual-MFA login protection must log in with methods
            # ["password", "totp"]; IAM.0101 and this wording are a plausible stand-in.
            msg = "Login protection is enabled: a virtual MFA (totp) verification code is required."
            return _json_reply(401, {"error_code": "IAM.0101", "error_msg": msg})
        return self._token_reply()

    def _token_reply(self) -> Reply:
        now = datetime.now(timezone.utc)
        stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
        token = {
            "expires_at": (now + timedelta(hours=24)).strftime(stamp),
            "issued_at": now.strftime(stamp),
            "methods": ["password"],
        }
        return _json_reply(201, {"token": token}, [("X-Subject-Token", self.token)])


def _iam_error(status: int, message: str, title: str) -> Reply:
    return _json_reply(status, {"error": {"code": status, "message": message, "title": title}})


def _exact(obj: Any, keys: set[str]) -> bool:
    return isinstance(obj, dict) and set(obj) == keys


def _parse_login(rec: RecordedRequest) -> tuple[str, str, str] | None:
    """(user, password, domain) when the body is exactly the documented shape, else None."""
    content_type = (rec.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return None
    try:
        body = json.loads(rec.body)
        auth = body["auth"]
        identity, scope = auth["identity"], auth["scope"]
        user = identity["password"]["user"]
        shape = (
            _exact(body, {"auth"}),
            _exact(auth, {"identity", "scope"}),
            _exact(identity, {"methods", "password"}) and identity["methods"] == ["password"],
            _exact(identity["password"], {"user"}),
            _exact(user, {"name", "password", "domain"}) and _exact(user["domain"], {"name"}),
            _exact(scope, {"project"}) and _exact(scope["project"], {"name"}),
        )
        values = (user["name"], user["password"], user["domain"]["name"], scope["project"]["name"])
    except (ValueError, KeyError, TypeError):
        return None
    if not all(shape) or not all(isinstance(v, str) and v for v in values):
        return None
    return values[0], values[1], values[2]


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections and handler threads for stop()."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], fake: FakeCodeArts, origin: str, fixed: Step | None = None
    ) -> None:
        self.fake, self.origin, self.fixed_step = fake, origin, fixed
        self._conn_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self._conn_lock:
            self._conns.add(request)
            self._workers = [w for w in self._workers if w.is_alive()]
            self._workers.append(worker)
        worker.start()

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def abort_connections(self, timeout: float) -> None:
        """Shut down every open connection and wait for handler threads to end."""
        with self._conn_lock:
            conns, workers = list(self._conns), list(self._workers)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Peers that vanish are part of the game; anything else is reported."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to FakeCodeArts and writes its replies with the chosen delivery."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server_version = "FakeCodeArts/1.0"
    sys_version = ""
    timeout = MAX_WAIT + 10
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def handle_one_request(self) -> None:
        """Drop TLS hellos (a client following redirect_https) and vanished peers."""
        try:
            if self.rfile.peek(1)[:1] == b"\x16":
                self.close_connection = True
                return
            super().handle_one_request()
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:
        """Every method goes through the same router."""
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self) -> None:
        fake = self.server.fake
        rec = self._record(self._read_body())
        fake.requests.append(rec)
        if rec.path == IAM_PATH and rec.method == "POST" and self.server.fixed_step is None:
            self._send(fake.iam_reply(rec), rec)
        elif (task_reply := fake.task_reply(rec)) is not None:
            self._send(task_reply, rec)
        elif (match := DEFECTS_PATH.fullmatch(rec.path)) and rec.method == "GET":
            defect_api = fake.task_defects.get(match.group(1), fake.defect_api)
            reply = defect_api.reply(fake, rec)
            if reply is not None:
                self._send(reply, rec)
        elif REFRESH_PATH.fullmatch(rec.path) and rec.method == "PUT":
            step = self.server.fixed_step or fake.task_refresh_step(rec) or fake._next_step()
            self._run_step(step, rec)
        elif (gate_reply := fake.codearts_gate_api.reply(fake, rec)) is not None:
            self._send(gate_reply, rec)
        elif TASK_LIST_PATH.fullmatch(rec.path) and rec.method == "GET":
            self._send(fake.check_auth(rec) or fake.task_list_reply(rec), rec)
        else:
            msg = "The API does not exist or has not been published in the environment"
            self._send(fake._apigw(404, "APIGW.0101", msg, rec), rec)

    def _record(self, body: bytes) -> RecordedRequest:
        split = urlsplit(self.path)
        return RecordedRequest(
            method=self.command,
            path=split.path,
            raw_query=split.query,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
            origin=self.server.origin,
            request_id=uuid.uuid4().hex,
            target=self.path,
            received_at=self.server.fake.clock(),
        )

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        return b"".join(chunks)

    def _run_step(self, step: Step, rec: RecordedRequest) -> None:
        fake = self.server.fake
        if step.delay and fake.wait_stopped(step.delay):
            self.close_connection = True
            return
        if step.kind == "hang":
            fake.wait_stopped(MAX_WAIT)
            self.close_connection = True
            return
        self._send(fake.step_reply(step, rec), rec)

    def _send(self, reply: Reply, rec: RecordedRequest) -> None:
        if reply.delivery != "normal":
            self.close_connection = True
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in [("X-Request-Id", rec.request_id), *reply.headers]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        getattr(self, f"_deliver_{reply.delivery}")(reply)

    def _deliver_normal(self, reply: Reply) -> None:
        self.wfile.write(reply.body)

    def _deliver_truncated(self, reply: Reply) -> None:
        self.wfile.write(reply.body[: len(reply.body) // 2])

    def _deliver_reset(self, reply: Reply) -> None:
        self.wfile.write(reply.body[: len(reply.body) // 2])
        self.server.fake.wait_stopped(0.1)
        self._reset()

    def _deliver_trickle(self, reply: Reply) -> None:
        deadline = time.monotonic() + MAX_WAIT
        for i in range(len(reply.body)):
            if self.server.fake.wait_stopped(reply.interval) or time.monotonic() > deadline:
                self._reset()
                return
            self.wfile.write(reply.body[i : i + 1])

    def _reset(self) -> None:
        """Close abruptly: SO_LINGER 0 makes close() send RST instead of FIN."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        self.rfile.close()
        self.connection.close()


# --------------------------------------------------------------------------- defects
# GET /v2/tasks/{task_id}/defects-detail and /defects-statistic (codearts-api.md section 3):
# every defect field a string, errors possible with HTTP 200, and the pager's ``offset``
# read either as a row offset or as a page index (``DefectApi.offset_means``).

DEFECTS_PATH = re.compile(r"/v2/tasks/([^/]+)/(defects-detail|defects-statistic)")
MAX_DEFECT_LIMIT = 100
MAX_DEFECT_OFFSET = 999_999


def make_defect(i: int, *, level: int | None = None, **fields: Any) -> dict[str, Any]:
    """A realistic defect row number ``i`` (strings everywhere, nested events), ``fields`` win."""
    line = 1 + (i * 7) % 500
    checker = i % 37
    row = {
        "defect_id": f"{i:032x}",
        "defect_checker_name": f"cxx_checker_{checker}",
        "defect_status": "0",
        "rule_name": f"G.RULE.{checker:02d} Avoid risky construct {checker}",
        "rule_system_tags": "security,CWE-120" if checker % 5 == 0 else "maintainability",
        "line_number": str(line),
        "defect_content": f"Value may overflow before it is used (defect {i}).",
        "defect_level": str(i % 4 if level is None else level),
        "file_path": f"demo-repo/src/module{i % 97}/file{i % 3001}.cpp",
        "created_at": "2026-11-29 10:00:00",
        "issue_key": f"key-{i}",
        "fragment": [
            {
                "line_num": str(line),
                "line_content": "    total += read(buf, n);",
                "start_offset": 4,
                "end_offset": 9,
            }
        ],
        "events": [
            {
                "description": "the value comes from here",
                "fix_suggestions": ["Check n first."],
                "line": line,
                "end_line": line,
                "main": True,
                "path": "",
                "tag": "",
                "code_context_start_line": line,
                "main_buggy_code": "",
                "code_context": "",
                "events": [],
            }
        ],
    }
    return {**row, **fields}


class GeneratedDefects(Sequence[Mapping[str, Any]]):
    """``count`` rows made on demand by ``make_defect`` (level ``i % 4``): no memory held,
    so a benchmark can page through 300,000 of them."""

    def __init__(self, count: int, levels: Sequence[int] = (0, 1, 2, 3), pad: int = 0) -> None:
        self.count, self.levels = count, tuple(sorted(levels))
        self.pad = pad
        """``pad`` > 0: a hostile service whose checker, rule and path of each row are
        ``pad`` characters long and distinct (the reader must not keep them)."""

    def index(self, k: int) -> int:
        """The row number of the ``k``-th row of this selection."""
        return (k // len(self.levels)) * 4 + self.levels[k % len(self.levels)]

    def __len__(self) -> int:
        full, rest = divmod(self.count, 4)
        return full * len(self.levels) + sum(1 for lv in self.levels if lv < rest)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return [self[k] for k in range(*key.indices(len(self)))]
        if not 0 <= key < len(self):
            raise IndexError(key)
        index = self.index(key)
        if not self.pad:
            return make_defect(index)
        filler = f"{index:08d}" * (self.pad // 8)
        return make_defect(
            index, defect_checker_name=f"c{filler}", rule_name=f"r{filler}", file_path=f"p/{filler}"
        )

    def rows_json(self, start: int, stop: int) -> str:
        """``json.dumps`` of the rows ``start:stop``, several times faster (for benchmarks)."""
        if self.pad:
            return ",".join(json.dumps(self[k]) for k in range(start, min(stop, len(self))))
        return ",".join(_generated_json(self.index(k)) for k in range(start, min(stop, len(self))))

    def select(self, levels: set[int]) -> GeneratedDefects:
        """The rows whose level is in ``levels`` (every row is pending)."""
        return GeneratedDefects(self.count, [lv for lv in self.levels if lv in levels], self.pad)


_TEMPLATE = json.dumps(make_defect(0)).replace("{", "{{").replace("}", "}}")
for _field, _slot in (
    ('"' + "0" * 32 + '"', '"{id}"'),
    ('"cxx_checker_0"', '"cxx_checker_{checker}"'),
    (
        '"G.RULE.00 Avoid risky construct 0"',
        '"G.RULE.{checker:02d} Avoid risky construct {checker}"',
    ),
    ('"security,CWE-120"', "{tags}"),
    ('"line_number": "1"', '"line_number": "{line}"'),
    ("(defect 0)", "(defect {i})"),
    ('"defect_level": "0"', '"defect_level": "{level}"'),
    ("module0/file0.cpp", "module{module}/file{file}.cpp"),
    ('"key-0"', '"key-{i}"'),
    ('"line_num": "1"', '"line_num": "{line}"'),
    ('"line": 1, "end_line": 1', '"line": {line}, "end_line": {line}'),
    ('"code_context_start_line": 1', '"code_context_start_line": {line}'),
):
    assert _TEMPLATE.count(_field) == 1, _field
    _TEMPLATE = _TEMPLATE.replace(_field, _slot)


def _generated_json(i: int) -> str:
    checker = i % 37
    tags = '"security,CWE-120"' if checker % 5 == 0 else '"maintainability"'
    return _TEMPLATE.format(
        id=f"{i:032x}",
        checker=checker,
        tags=tags,
        line=1 + (i * 7) % 500,
        i=i,
        level=i % 4,
        module=i % 97,
        file=i % 3001,
    )


def _int_list(values: list[str] | None, default: str) -> set[int] | None:
    text = (values or [default])[-1]
    parts = [p.strip() for p in text.split(",") if p.strip()] if text else []
    if not all(p.isdigit() for p in parts):
        return None
    return {int(p) for p in parts}


@dataclass
class DefectApi:
    """The defects the fake serves and the faults it injects.

    ``rows``: every defect (any status): a list of rows or a ``GeneratedDefects``.
    ``offset_means``: ``row`` (rows skipped), ``page`` (a page index) or ``ignored`` (the
    service always answers the first page). ``latency``: seconds before each answer.
    ``duplicates``: each page also carries that many rows of the page before it, and its
    own first row twice (a page holding more than ``limit`` rows). ``past_end``: what a
    page past the last one holds: ``empty`` or ``last`` (the last page again).
    ``faults``: offset -> steps served (one per request, consumed) instead of that page;
    ``request_faults``: the same by defects-detail request number (0-based).
    ``on_request(n)``: called before request ``n`` is served (change ``rows`` mid-way).
    ``statistic``: steps served by defects-statistic (consumed; the last one repeats);
    empty means the counts of ``rows``. ``claimed_total``: the ``total`` every page
    claims instead of the true one (a service that over-counts: pages past the end).
    """

    rows: Sequence[Mapping[str, Any]] = ()
    offset_means: str = "row"
    latency: float = 0.0
    duplicates: int = 0
    past_end: str = "empty"
    faults: dict[int, list[Step]] = field(default_factory=dict)
    request_faults: dict[int, list[Step]] = field(default_factory=dict)
    on_request: Any = None
    statistic: list[Step] = field(default_factory=list)
    claimed_total: int | None = None
    status_faults: dict[int, list[Step]] = field(default_factory=dict)
    """The same as ``faults``, by the one status asked for (``status_ids=2``: ignored)."""
    detail_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, fake: FakeCodeArts, rec: RecordedRequest) -> Reply | None:
        """The answer to one defects call (None: the connection was closed instead)."""
        if self.latency and fake.wait_stopped(self.latency):
            return None
        denied = fake.check_auth(rec)
        if denied is not None:
            return denied
        if rec.path.endswith("/defects-statistic"):
            return self._statistic(fake, rec)
        with self.lock:
            number, self.detail_requests = self.detail_requests, self.detail_requests + 1
        if self.on_request is not None:
            self.on_request(number)
        return self._detail(fake, rec, number)

    def _fault(self, table: dict[int, list[Step]], key: int) -> Step | None:
        with self.lock:
            steps = table.get(key)
            return steps.pop(0) if steps else None

    def _detail(self, fake: FakeCodeArts, rec: RecordedRequest, number: int) -> Reply:
        query = self._query(rec)
        if isinstance(query, Reply):
            return query
        offset, limit, statuses, levels = query
        step = self._fault(self.request_faults, number) or self._fault(self.faults, offset)
        if step is None and len(statuses) == 1:
            step = self._fault(self.status_faults, next(iter(statuses)))
        if step is not None:
            return fake.step_reply(replace(step, auth=False), rec)
        selected = self.select(statuses, levels)
        if isinstance(selected, GeneratedDefects) and self.fast_path(offset, limit, selected):
            start = offset if self.offset_means == "row" else offset * limit
            rows_json = selected.rows_json(start, start + limit)
            body = f'{{"total": {len(selected)}, "defects": [{rows_json}]}}'
            return Reply(200, body.encode("utf-8"), JSON_TYPE)
        total = len(selected) if self.claimed_total is None else self.claimed_total
        return _json_reply(200, {"total": total, "defects": self.page(selected, offset, limit)})

    def fast_path(self, offset: int, limit: int, rows: GeneratedDefects) -> bool:
        """True when a generated page needs no injected duplicates nor a past-the-end rule."""
        start = offset if self.offset_means == "row" else offset * limit
        plain = self.offset_means in ("row", "page") and not self.duplicates
        plain = plain and self.claimed_total is None
        return plain and (start < len(rows) or self.past_end == "empty")

    def _query(self, rec: RecordedRequest) -> tuple[int, int, set[int], set[int]] | Reply:
        def bad(why: str) -> Reply:
            msg = f"Verify request parameter failed: {why}"
            return _json_reply(400, {"error_code": "CC.00050000", "error_msg": msg})

        offset_text = rec.query.get("offset", ["0"])[-1]
        limit_text = rec.query.get("limit", ["10"])[-1]
        if not (offset_text.isdigit() and limit_text.isdigit()):
            return bad("offset and limit must be integers")
        offset, limit = int(offset_text), int(limit_text)
        if offset > MAX_DEFECT_OFFSET or not 1 <= limit <= MAX_DEFECT_LIMIT:
            return bad(f"offset 0..{MAX_DEFECT_OFFSET}, limit 1..{MAX_DEFECT_LIMIT}")
        statuses = _int_list(rec.query.get("status_ids"), "0")
        levels = _int_list(rec.query.get("severity"), "0,1,2,3")
        if statuses is None or levels is None or not levels <= {0, 1, 2, 3}:
            return bad("status_ids and severity are comma-separated codes")
        return offset, limit, statuses, levels

    def select(self, statuses: set[int], levels: set[int]) -> Sequence[Mapping[str, Any]]:
        """The rows of these statuses and levels, in the service's order."""
        rows = self.rows
        if isinstance(rows, GeneratedDefects):
            return rows.select(levels) if 0 in statuses else GeneratedDefects(0)
        return [
            r
            for r in rows
            if _code(r.get("defect_status")) in statuses and _code(r.get("defect_level")) in levels
        ]

    def page(self, rows: Sequence[Mapping[str, Any]], offset: int, limit: int) -> list[Any]:
        """The rows of one page under ``offset_means``, with the injected duplicates."""
        start = {"row": offset, "page": offset * limit, "ignored": 0}[self.offset_means]
        if start >= len(rows) and self.past_end == "last" and len(rows):
            start = (len(rows) - 1) // limit * limit
        page = list(rows[start : start + limit])
        if self.duplicates and page:
            page = list(rows[max(0, start - self.duplicates) : start]) + page + page[:1]
        return page

    def _statistic(self, fake: FakeCodeArts, rec: RecordedRequest) -> Reply:
        with self.lock:
            step = self.statistic[0] if self.statistic else None
            if len(self.statistic) > 1:
                self.statistic.pop(0)
        if step is not None:
            return fake.step_reply(replace(step, auth=False), rec)
        counts = {name: len(self.select({0}, {code})) for code, name in enumerate(SEVERITIES)}
        status = {"unresolved": len(self.select({0}, {0, 1, 2, 3}))}
        status |= {"resolved": len(self.select({1}, {0, 1, 2, 3}))}
        status |= {"dismissed": len(self.select({2}, {0, 1, 2, 3}))}
        return _json_reply(200, {"severity": counts, "status": status})


def _code(value: Any) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() else None


def defect_error_step(code: str = "CC.00050006", msg: str = "service inner error") -> Step:
    """An error envelope with HTTP 200, as every defects endpoint may answer."""
    return json_step(200, _cc_body(code, msg))


THROTTLED_STEP = _THROTTLED
"""429 APIGW.0308 with Retry-After 1."""
UNAVAILABLE_STEP = _UNAVAILABLE
"""503 APIGW.0202."""


# --------------------------------------------------------------------------- CodeArts' own gate
# GET /v2/tasks/{task_id}/defects-summary (SDK show_task_detail; codearts-api.md section
# 3b): the task's summary, whose ``is_access`` is CodeArts' own gate verdict for its
# latest scan. GET /v2/transmission/review-data (docs-only): the gate's thresholds.

GATE_SUMMARY_PATH = re.compile(r"/v2/tasks/([^/]+)/defects-summary")
REVIEW_DATA_PATH = "/v2/transmission/review-data"


@dataclass
class CodeArtsGateApi:
    """What the fake says about CodeArts' own gate.

    ``is_access``: the summary's value (any JSON; ``MISSING`` leaves the key out);
    ``summary_steps``: steps served instead of the summary, one per request (consumed);
    ``review``: the review-data answer: ``None`` is the gateway's 404 ``APIGW.0101`` (the
    endpoint is docs-only), else a body served with HTTP 200; ``review_steps`` likewise.
    """

    is_access: Any = "1"
    summary_delay: float = 0.0
    """Seconds before the summary is answered (a slow service: a signal lands meanwhile)."""
    summary_steps: list[Step] = field(default_factory=list)
    review: Any = None
    review_steps: list[Step] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, fake: FakeCodeArts, rec: RecordedRequest) -> Reply | None:
        """The answer to a summary or review-data GET; None for any other request."""
        summary = GATE_SUMMARY_PATH.fullmatch(rec.path)
        if rec.method != "GET" or not (summary or rec.path == REVIEW_DATA_PATH):
            return None
        if summary and self.summary_delay:
            fake.wait_stopped(self.summary_delay)
        with self.lock:
            steps = self.summary_steps if summary else self.review_steps
            step = steps.pop(0) if steps else None
        if step is not None:
            return fake.step_reply(step, rec)
        denied = fake.check_auth(rec)
        if denied is not None:
            return denied
        if summary:
            return _json_reply(200, self.summary_body(unquote(summary.group(1))))
        if self.review is None:
            msg = "The API does not exist or has not been published in the environment"
            return fake._apigw(404, "APIGW.0101", msg, rec)
        return _json_reply(200, self.review)

    def summary_body(self, task_id: str) -> dict[str, Any]:
        """The SDK's task summary: counts as strings, and ``is_access``."""
        body: dict[str, Any] = {
            "task_id": task_id,
            "task_name": "fake task",
            "git_url": "git@codehub.example:acme/repo.git",
            "git_branch": "master",
            "critical_count": "0",
            "major_count": "4",
            "minor_count": "108",
            "suggestion_count": "7",
            "is_access": self.is_access,
        }
        if self.is_access is MISSING:
            del body["is_access"]
        return body


MISSING = object()
"""``CodeArtsGateApi.is_access``: leave the key out of the summary."""
