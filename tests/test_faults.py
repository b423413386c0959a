"""Fault injection, end to end: the installed gate against the local fake API serving faults.

One table (``FAULTS``) lists every scenario: what the fake serves, the gate's extra
arguments, the exit code and error kind expected, words expected on stderr, and how many
refresh requests the fake must see. Every scenario runs as a real subprocess (they run in
parallel threads, since most of their time is spent in retry back-off), and every run is
judged on the same universal checks, besides its own expectations:

- the exit code, and no traceback;
- the JUnit (valid against Jenkins' XSD when ``../shared`` is there), Markdown and JSON
  outputs exist, parse and agree with the exit code;
- the token appears nowhere: stdout, stderr, any file written (at ``-vv``);
- no request reached another origin;
- the run ended within ``--timeout`` + ``MARGIN`` seconds (a bound, not a benchmark).

The results are published as ``docs/reliability.md`` on demand (``--write-reliability``,
see ``tests/reliability.py``); a plain run checks that the committed file is up to date.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import xmlschema
from fakeapi import (
    HTML_TYPE,
    JSON_TYPE,
    OTHER_ORIGIN,
    PASS_REPORT,
    FakeCodeArts,
    Step,
    hang_step,
    json_step,
    raw_step,
    redirect_step,
    report_step,
    reset_step,
    sleep_step,
    trickle_step,
    truncated_step,
)
from gaterun import JOB, GateRun, clean_env, run_gate
from reliability import ReliabilityLog, Row, bucket
from validators import shared_schema, unsafe_text

from gate.api.transport import MAX_ATTEMPTS

MARGIN = 15.0
"""Seconds a run may take beyond its --timeout before it counts as hung."""
KILL_GRACE = 5.0
"""Seconds past that bound after which the test kills the process."""
WORKERS = 10

pytestmark = pytest.mark.slow  # the scenarios wait out retries and timeouts in real seconds


# fmt: off
@dataclass(frozen=True)
class Fault:
    """One scenario of the table."""

    name: str
    steps: tuple[Step, ...]  # served one per refresh request, the last one repeating
    code: int  # expected exit code
    kind: str | None = None  # error kind in the JSON output ("a|b": either); None: a verdict
    words: tuple[str, ...] = ()  # expected on stderr
    what: str = ""  # the fault, in words, for docs/reliability.md
    attempts: int | None = 1  # refresh requests the fake must see
    args: tuple[str, ...] = ()  # extra arguments
    timeout: float = 20.0  # --timeout
    min_wall: float = 0.0  # the run must take at least this long (Retry-After honoured)
    bug: str | None = None  # a known gate bug: the scenario is a strict xfail
    token: str = ""  # the token of the run; empty: a random one
    absent: tuple[str, ...] = ()  # texts that must appear in no output (pieces of the token)

    @property
    def expected(self) -> str:
        verdict = {0: "passed", 1: "failed"}.get(self.code, "?")
        return f"exit {self.code} ({self.kind.replace('|', ' or ') if self.kind else verdict})"


def fault(
    name: str, steps: Step | Sequence[Step], code: int, kind: str | None = None,
    *words: str, what: str, **options: Any,
) -> Any:
    """One row of the table, as a pytest param (a strict xfail when ``bug`` is given)."""
    steps = (steps,) if isinstance(steps, Step) else tuple(steps)
    row = Fault(name, steps, code, kind, words, what, **options)
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {row.bug}")] if row.bug else []
    return pytest.param(row, id=name, marks=marks)


def apigw(code: str, msg: str) -> dict[str, Any]:
    """The API gateway's error body (the fake fills in the request id)."""
    return {"error_code": code, "error_msg": msg, "request_id": None}


def failed(code: str, msg: str) -> Step:
    """HTTP 200 carrying ``status: failed`` and a CC.* code, as the service documents."""
    return json_step(200, {"status": "failed", "error_code": code, "error_msg": msg})


def nginx(status: int, reason: str) -> Step:
    """The HTML error page a proxy in front of the service answers with."""
    title = f"{status} {reason}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return raw_step(status, page.encode(), HTML_TYPE, auth=False)


RETRY_AFTER = 4
"""Seconds of the Retry-After scenarios: far above the jittered back-off (0.25 to 0.5 s
first), so the run's wall time shows that the header was honoured."""
ATTEMPTS = MAX_ATTEMPTS
CC = "HTTP 200, status failed: "
GAVE_UP = f"gave up after {MAX_ATTEMPTS} attempts"
PASS = report_step(PASS_REPORT)
SMALL_PASS = b'{"status": "success", "result": {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}}'
THROTTLED = apigw("APIGW.0308", "The throttling threshold has been reached: policy ratelimit")
LIMIT_RATE = json_step(429, THROTTLED, auth=False)
RETRY_LATER = json_step(429, THROTTLED, headers={"Retry-After": str(RETRY_AFTER)}, auth=False)
RETRY_AFTER_1 = json_step(429, THROTTLED, headers={"Retry-After": "1"}, auth=False)
RETRY_AFTER_3600 = json_step(429, THROTTLED, headers={"Retry-After": "3600"}, auth=False)
TRANSIENTS: dict[str, tuple[Step, str]] = {
    "429":             (LIMIT_RATE, "429 APIGW.0308 without Retry-After"),
    "429-retry-after": (RETRY_LATER, f"429 APIGW.0308 with Retry-After: {RETRY_AFTER}"),
    "500":             (json_step(500, apigw("CC.00050006", "x")), "500 CC.00050006 (JSON)"),
    "502":             (nginx(502, "Bad Gateway"), "502 nginx HTML page"),
    "503":             (json_step(503, apigw("APIGW.0202", "Backend down")), "503 APIGW.0202"),
    "504":             (nginx(504, "Gateway Time-out"), "504 nginx HTML page"),
}
ECHOED = "fault-token-echoed-by-the-server-0123456789"
"""The token of the scenarios whose server echoes it back (proxies' debug pages do)."""
ECHO_PAGE = b"X-Auth-Token: " + ECHOED.encode() + b"\r\n<html><body>400 Bad Request</body></html>"
ODD = 'fault/token+echoed"in=other&forms~0123456789'
"""A token that every encoding changes: the scenarios echo it URL-encoded, base64, JSON-escaped."""
B64 = base64.b64encode(f"gate:{ODD}".encode()).decode()
CUT = "x" * 150 + " token " + ODD[:25]
"""An error message that the service cut in the middle of the token."""
SPLIT_PAGE = f"<p>X-Auth-Token: <span>{ECHOED[:30]}</span><wbr><span>{ECHOED[30:]}</span>".encode()
"""An error page that wraps the echoed token with markup (issue 17)."""
OVER_AND_UNREADABLE = (
    b'{"status": "success", "result": {"critical": 0, "major": 3, "UNRESOLVED_ADD": "n/a"}}'
)
DUPLICATE_COUNT = (
    b'{"status": "success", "result": {"critical": 0, "major": 7, "major": 0, "UNRESOLVED_ADD": 0}}'
)
DUPLICATE_STATUS = (
    b'{"status": "failed", "status": "success", '
    b'"result": {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}}'
)
NULL_ERROR = json_step(200, {"status": "success", "error_code": None, "error_msg": None,
                             "result": {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}})
ABSURD_DATE = "Mon, 01 Jan 10000000000000000000 00:00:00 GMT"
"""An HTTP date whose year overflows a C long: parsing it raised OverflowError."""
COUNT_1E400 = (
    b'{"status": "success", "result": {"critical": 1e400, "major": 0, "UNRESOLVED_ADD": 0}}'
)
LEGACY_COMMANDS = "bad input ##[set-env name=EVIL;]pwned then ##[error]fake ::warning::x"


def transient(label: str, failures: int) -> Any:
    """A transient answer ``failures`` times, then a pass: retried to exit 0 within the
    budget of attempts, else exit 4 after the last attempt."""
    step, what = TRANSIENTS[label]
    pause = RETRY_AFTER if "retry-after" in label else 0
    times = {1: "once", 2: "twice"}.get(failures, f"{failures} times")
    text, slept = f"{what}, {times}, then a pass", pause * min(failures, ATTEMPTS - 1)
    common = {"what": text, "min_wall": slept, "timeout": 30.0}
    if failures < ATTEMPTS:
        return fault(f"{label}-x{failures}", [step] * failures + [PASS], 0,
                     attempts=failures + 1, **common)
    return fault(f"{label}-x{failures}", [step] * failures + [PASS], 4, "service",
                 f"HTTP {label[:3]}", GAVE_UP, attempts=ATTEMPTS, **common)


FAULTS = [
    *(transient(label, n) for label in TRANSIENTS for n in (1, 2, ATTEMPTS + 1)),
    fault("429-retry-after-beyond-deadline", RETRY_AFTER_3600, 4, "service",
          "gave up after 1 attempt", what="429 APIGW.0308 with Retry-After: 3600 (> --timeout)"),
    fault("apigw-0308-always", RETRY_AFTER_1, 4, "service", "APIGW.0308", GAVE_UP,
          what="429 APIGW.0308 with Retry-After: 1, forever", attempts=ATTEMPTS, min_wall=4),
    fault("apigw-0301", json_step(401, apigw("APIGW.0301", "Incorrect IAM auth"), auth=False),
          3, "credentials", "APIGW.0301", what="401 APIGW.0301: token refused"),
    fault("apigw-0303", json_step(401, apigw("APIGW.0303", "signature expired"), auth=False),
          3, "credentials", "APIGW.0303", what="401 APIGW.0303: signature expired"),
    # status: failed with HTTP 200, each documented CC.* code
    fault("failed-CC.00000003", failed("CC.00000003", "Authentication information expired."),
          3, "credentials", "CC.00000003", "fetch a new one", what=f"{CC}token expired"),
    fault("failed-CC.00050000", failed("CC.00050000", "Verify request parameter failed"),
          4, "service", "CC.00050000", what=f"{CC}parameters not valid"),
    fault("failed-CC.00050006", failed("CC.00050006", "service inner error"),
          4, "service", "CC.00050006", what=f"{CC}service inner error"),
    fault("failed-CC.00050007", failed("CC.00050007", "IAM authentication failed"),
          3, "credentials", "CC.00050007", what=f"{CC}IAM authentication failed"),
    fault("failed-CC.00050010", failed("CC.00050010", "No permission."),
          3, "credentials", "CC.00050010", "codeartscheck:task:getReport",
          what=f"{CC}no permission"),
    fault("failed-CC.00050012", failed("CC.00050012", "Please retry later."),
          4, "service", "CC.00050012", GAVE_UP, attempts=ATTEMPTS,
          what=f"{CC}retry later, forever"),
    fault("failed-CC.00050012-once", [failed("CC.00050012", "Please retry later."), PASS],
          0, what=f"{CC}retry later, once, then a pass", attempts=2),
    fault("failed-CC.00050013", failed("CC.00050013", "project not exist"),
          4, "service", "CC.00050013", what=f"{CC}project does not exist"),
    fault("failed-CC.00050015", failed("CC.00050015", "task is running"),
          4, "service", "CC.00050015", what=f"{CC}the scan is still running (not retried)"),
    fault("failed-CC.00000000", failed("CC.00000000", "System busy."),
          4, "service", "CC.00000000", GAVE_UP, attempts=ATTEMPTS,
          what=f"{CC}system busy, forever"),
    # transport
    fault("reset-mid-body-once", [reset_step(PASS), PASS], 0, attempts=2,
          what="headers and half the body, then RST; then a pass"),
    fault("reset-mid-body-always", reset_step(PASS), 4, "network", GAVE_UP, attempts=ATTEMPTS,
          what="headers and half the body, then RST, forever"),
    fault("short-body-always", truncated_step(PASS), 4, "network", GAVE_UP, attempts=ATTEMPTS,
          what="half the body under the full Content-Length, then FIN, forever"),
    fault("hang", hang_step(), 4, "timeout|network", timeout=3.0,
          what="accepts the request, never answers"),
    fault("slow-within-deadline", sleep_step(1.0, PASS), 0, timeout=10.0,
          what="answers a pass after 1 s"),
    fault("trickle-within-deadline", trickle_step(0.01, raw_step(200, SMALL_PASS, JSON_TYPE)),
          0, what="a small pass, one byte every 0.01 s"),
    fault("trickle-past-deadline", trickle_step(0.5, PASS), 4, "timeout|network", timeout=3.0,
          what="one byte every 0.5 s (minutes of body)"),
    fault("redirect-other-host", redirect_step(302, f"http://{OTHER_ORIGIN}:{{port}}{{target}}"),
          4, "network", "redirected", OTHER_ORIGIN, what=f"302 to http://{OTHER_ORIGIN}"),
    fault("redirect-https", redirect_step(301, "https://127.0.0.1:{port}{target}"),
          4, "network", "redirected", "https://", what="301 to the https:// form of the URL"),
    # bodies
    fault("truncated-json", raw_step(200, SMALL_PASS[:40], JSON_TYPE), 4, "report", "not",
          what="200 with half a JSON document (honest Content-Length)"),
    fault("empty-body", raw_step(200, b"", JSON_TYPE), 4, "report", "(empty)",
          what="200 with an empty body"),
    fault("html-200", raw_step(200, b"<!DOCTYPE html><p>Sign in</p>", HTML_TYPE, auth=False),
          4, "report", "text/html", what="200 HTML page (a captive portal)"),
    fault("html-proxy-502-always", nginx(502, "Bad Gateway"), 4, "service", "HTTP 502", GAVE_UP,
          attempts=ATTEMPTS, what="502 HTML page from a proxy, forever"),
    fault("oversized-body", raw_step(200, b" " * (10 * 2**20 + 1), JSON_TYPE), 4, "network",
          "10 MiB", what="200 with a body over 10 MiB"),
    fault("lone-surrogate-in-error-msg", failed("CC.00050006", "bad \ud800 text"), 4, "service",
          "CC.00050006", what="HTTP 200 CC.00050006, error_msg holding \\ud800"),
    fault("token-echoed-in-error-page", raw_step(400, ECHO_PAGE, "text/plain", auth=False), 4,
          "service", "HTTP 400", what="400 page that echoes the request's X-Auth-Token",
          token=ECHOED),
    fault("token-echoed-in-error-msg",
          json_step(401, apigw("APIGW.0301", f"token {ECHOED} is invalid"), auth=False),
          3, "credentials", "APIGW.0301", what="401 APIGW.0301 whose error_msg quotes the token",
          token=ECHOED),
    # second hardening round (issue 10)
    fault("refused-connection", PASS, 4, "network", "refused the connection", GAVE_UP,
          attempts=0, args=("--endpoint", "http://127.0.0.1:9"),
          what="nothing listens at the endpoint's port (connection refused)"),
    fault("over-max-and-unreadable", raw_step(200, OVER_AND_UNREADABLE, JSON_TYPE), 1, "report",
          "not a whole number", what="major over its maximum, the new count unreadable"),
    fault("over-max-and-unreadable-warn", raw_step(200, OVER_AND_UNREADABLE, JSON_TYPE), 1,
          "report", args=("--on-error", "warn"),
          what="the same with --on-error warn (a known failure is never warned away)"),
    fault("duplicate-count-key", raw_step(200, DUPLICATE_COUNT, JSON_TYPE), 4, "report",
          "appears twice", what="200 whose result names major twice (7, then 0)"),
    fault("duplicate-status-key", raw_step(200, DUPLICATE_STATUS, JSON_TYPE), 4, "report",
          "appears twice", what="200 whose status is failed, then success"),
    fault("error-code-null", NULL_ERROR, 0,
          what="200 success answer carrying error_code: null, error_msg: null"),
    fault("token-echoed-url-encoded",
          json_step(401, apigw("APIGW.0301", f"token {quote(ODD, safe='')} is invalid"),
                    auth=False),
          3, "credentials", what="401 whose error_msg quotes the token URL-encoded", token=ODD),
    fault("token-echoed-base64",
          json_step(401, apigw("APIGW.0301", f"Authorization: Basic {B64}"), auth=False),
          3, "credentials", what="401 whose error_msg holds base64(user:token)", token=ODD,
          absent=(B64[8:-8],)),
    fault("token-echoed-json-escaped",
          json_step(401, apigw("APIGW.0301", "header " + json.dumps({"X-Auth-Token": ODD})),
                    auth=False),
          3, "credentials", what="401 whose error_msg holds the token JSON-escaped", token=ODD),
    fault("token-cut-by-the-service",
          json_step(401, apigw("APIGW.0301", CUT), auth=False), 3, "credentials",
          what="401 whose error_msg ends in the first 25 characters of the token",
          token=ODD, absent=(ODD[:25], ODD[:12])),
    fault("token-cut-by-the-gate",
          json_step(401, apigw("APIGW.0301", "y" * 290 + " " + ODD), auth=False), 3,
          "credentials", what="401 whose error_msg holds the token across the 300-character cut",
          token=ODD, absent=(ODD[:8],)),
    fault("legacy-workflow-command-in-error-msg", failed("CC.00050006", LEGACY_COMMANDS), 4,
          "service", "CC.00050006",
          what="HTTP 200 CC.00050006 whose error_msg holds ##[set-env] and ##[error] mid-line"),
    # third hardening round (issue 17): every header and number parser is total
    fault("retry-after-absurd-date-on-a-pass",
          report_step(PASS_REPORT, headers=(("Retry-After", ABSURD_DATE),)), 0,
          what="200 pass carrying Retry-After: a date in the year 10^19"),
    fault("retry-after-absurd-date-then-pass",
          [json_step(503, apigw("APIGW.0202", "x"), headers={"Retry-After": ABSURD_DATE}), PASS],
          0, attempts=2, what="503 with Retry-After: a date in the year 10^19, then a pass"),
    fault("retry-after-5000-digits",
          json_step(503, apigw("APIGW.0202", "x"), headers={"Retry-After": "9" * 5000}), 4,
          "service", "gave up after 1 attempt",
          what="503 with Retry-After: 5,000 nines (a delay past any deadline)"),
    fault("count-1e400", raw_step(200, COUNT_1E400, JSON_TYPE), 4, "report",
          "too large to hold", what="200 whose critical count is 1e400 (overflows a double)"),
    fault("retry-after-superscript",
          [json_step(503, apigw("APIGW.0202", "x"), headers={"Retry-After": "\u00b2"}), PASS], 0,
          attempts=2, what="503 with Retry-After: \u00b2 (a superscript two), then a pass"),
    # third hardening round (issue 17): a secret split anywhere
    fault("token-wrapped-over-two-lines",
          json_step(401, apigw("APIGW.0301", f"token {ODD[:20]}\r\n{ODD[20:]} is invalid"),
                    auth=False),
          3, "credentials", what="401 whose error_msg holds the token wrapped over two lines",
          token=ODD, absent=(ODD[:20], ODD[20:])),
    fault("token-split-by-an-escaped-line-break",
          json_step(401, apigw("APIGW.0301", f"token {ODD[:9]}\\n{ODD[9:]} is invalid"),
                    auth=False),
          3, "credentials", what="401 whose error_msg holds the token split by a literal \\n",
          token=ODD, absent=(ODD[:9], ODD[9:])),
    fault("token-split-by-markup", raw_step(400, SPLIT_PAGE, "text/html", auth=False), 4,
          "service", "HTTP 400", what="400 HTML page echoing the token split by </span><span>",
          token=ECHOED, absent=(ECHOED[:30], ECHOED[30:])),
]
# fmt: on

ROWS: list[Fault] = [param.values[0] for param in FAULTS]
assert len({row.name for row in ROWS}) == len(ROWS), "scenario names must be unique"


# --------------------------------------------------------------------------- running


@dataclass
class Outcome:
    """What one scenario's run left: the run, its wall time, what the fake saw."""

    run: GateRun
    wall: float
    token: str
    attempts: int
    elsewhere: int  # requests that reached another origin
    killed: bool = False


def _text(data: bytes | str | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data or ""


def run_fault(item: Fault, folder: Path) -> Outcome:
    """Serve the scenario and run the gate against it, killing it past the bound."""
    token = item.token or f"fault-token-{secrets.token_hex(12)}"
    with FakeCodeArts(token=token, scenario=list(item.steps)) as api:
        env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=token, CODEARTS_JOB_ID=JOB)
        args = ("--timeout", f"{item.timeout:g}", "-vv", *item.args)
        started, killed = time.monotonic(), False
        try:
            run = run_gate(folder, *args, env=env, timeout=item.timeout + MARGIN + KILL_GRACE)
        except subprocess.TimeoutExpired as err:
            run, killed = GateRun(-9, _text(err.stdout), _text(err.stderr), folder), True
        wall = time.monotonic() - started
        elsewhere = sum(1 for r in api.requests if r.origin == OTHER_ORIGIN)
        return Outcome(run, wall, token, api.refresh_count, elsewhere, killed)


def _estimate(item: Fault) -> float:
    """Rough seconds a scenario takes, to start the long ones first."""
    if item.bug or item.timeout < 10:
        return item.timeout + MARGIN
    backoff = 8.0 if (item.attempts or 1) >= MAX_ATTEMPTS else 1.0
    return max(backoff, item.min_wall + 1)


def _scenario_of(item: pytest.Item) -> Fault | None:
    """The scenario a collected test item runs, if it is one of this table's."""
    callspec = getattr(item, "callspec", None)
    scenario = callspec.params.get("scenario") if callspec is not None else None
    return scenario if isinstance(scenario, Fault) else None


@pytest.fixture(scope="module")
def fault_outcomes(
    request: pytest.FixtureRequest,
    junit_xsd: xmlschema.XMLSchema | None,
    tmp_path_factory: pytest.TempPathFactory,
    reliability_log: ReliabilityLog,
) -> dict[str, Outcome]:
    """Run every selected scenario, in parallel, once per session."""
    reliability_log.expect(row.name for row in ROWS)
    reliability_log.xsd_checked = junit_xsd is not None
    scenarios = (_scenario_of(item) for item in request.session.items)
    selected = {scenario.name for scenario in scenarios if scenario is not None}
    todo = sorted((f for f in ROWS if f.name in selected), key=_estimate, reverse=True)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {f.name: pool.submit(run_fault, f, tmp_path_factory.mktemp(f.name)) for f in todo}
        return {name: future.result() for name, future in futures.items()}


# --------------------------------------------------------------------------- judging


def _check_json(item: Fault, run: GateRun) -> list[str]:
    data = run.json
    problems = []
    verdict = {0: "passed", 1: "failed"}.get(run.code, "error")
    if data.get("verdict") != verdict or data.get("exit_code") != run.code:
        problems.append(f"JSON says {data.get('verdict')}/{data.get('exit_code')}")
    error = data.get("error")
    kind = error.get("kind") if isinstance(error, dict) else None
    if item.kind and kind not in item.kind.split("|"):
        problems.append(f"JSON error kind {kind!r}, expected {item.kind!r}")
    if not item.kind and error is not None:
        problems.append(f"JSON has an error: {kind}")
    return problems


def _check_junit(run: GateRun, xsd: xmlschema.XMLSchema | None) -> list[str]:
    root = run.junit
    path = run.folder / "junit.xml"
    problems = []
    if root.tag != "testsuite":
        problems.append(f"JUnit root is {root.tag}")
    errors, failures = int(root.get("errors", "-1")), int(root.get("failures", "-1"))
    if run.code in (3, 4) and errors < 1:
        problems.append("JUnit has no error case for a run without a verdict")
    if run.code == 0 and (errors, failures) != (0, 0):
        problems.append("JUnit has failures or errors for a pass")
    if xsd is not None:
        invalid = next(iter(xsd.iter_errors(str(path))), None)
        if invalid is not None:
            problems.append(f"JUnit fails the XSD: {invalid.reason}")
    return problems


def check_outputs(item: Fault, run: GateRun, xsd: xmlschema.XMLSchema | None) -> list[str]:
    """The three outputs exist, parse, are valid and agree with the exit code."""
    missing = [
        n for n in ("junit.xml", "summary.md", "result.json") if not (run.folder / n).is_file()
    ]
    if missing:
        return [f"missing output {', '.join(missing)}"]
    problems = []
    try:
        problems += _check_json(item, run)
        problems += _check_junit(run, xsd)
        summary = run.summary
    except (ValueError, ET.ParseError, UnicodeDecodeError) as err:
        return [*problems, f"an output does not parse ({type(err).__name__})"]
    if not summary.startswith("## "):
        problems.append("the summary has no headline")
    for name, text in (("summary", summary), ("stdout", run.stdout), ("stderr", run.stderr)):
        unsafe = unsafe_text(text)
        if unsafe:
            problems.append(f"{name}: {unsafe}")
    return problems


def judge(item: Fault, outcome: Outcome, xsd: xmlschema.XMLSchema | None) -> list[str]:
    """Every way the run broke its word, as stable short phrases (empty: all kept)."""
    run, bound = outcome.run, item.timeout + MARGIN
    problems = []
    if outcome.killed:
        problems.append(f"still running past --timeout {item.timeout:g} s + {MARGIN:g} s: killed")
    elif outcome.wall >= bound:
        problems.append(f"ended past --timeout {item.timeout:g} s + {MARGIN:g} s")
    if run.code != item.code:
        problems.append(f"exit {run.code}, expected {item.code}")
    if "Traceback (most recent call last)" in run.stderr:
        problems.append("a traceback on stderr")
    try:
        leaked = outcome.token in run.everything()
    except UnicodeDecodeError:
        leaked = outcome.token.encode() in b"".join(
            p.read_bytes() for p in run.folder.rglob("*") if p.is_file()
        )
    if leaked:
        problems.append("the token appears in the output")
    text = _everything(run)
    forms = [*encoded_forms(outcome.token), *item.absent]
    if any(form in text for form in forms):
        problems.append("the token appears encoded or cut in the output")
    problems += check_outputs(item, run, xsd)
    problems += [f"stderr lacks {w!r}" for w in item.words if w not in run.stderr]
    if item.attempts is not None and outcome.attempts != item.attempts:
        problems.append(f"{outcome.attempts} attempts, expected {item.attempts}")
    if outcome.elsewhere:
        problems.append("a request reached another origin")
    if outcome.wall < item.min_wall:
        problems.append(f"waited less than the {item.min_wall:g} s that Retry-After asked")
    return problems


def encoded_forms(token: str) -> list[str]:
    """The token as a service may echo it: URL-encoded, base64, JSON-escaped."""
    forms = {quote(token, safe=""), quote_plus(token), json.dumps(token)[1:-1]}
    forms.add(base64.b64encode(token.encode()).decode().rstrip("="))
    return [form for form in forms if form != token]


def _everything(run: GateRun) -> str:
    files = [
        p.read_bytes().decode("utf-8", "replace") for p in run.folder.rglob("*") if p.is_file()
    ]
    return "\n".join([run.stdout, run.stderr, *files])


def _result(item: Fault, outcome: Outcome, problems: list[str]) -> str:
    if not problems:
        kind = outcome.run.json.get("error") or {}
        word = kind.get("kind") if isinstance(kind, dict) else None
        verdict = word or {0: "passed", 1: "failed"}.get(outcome.run.code, "?")
        return f"ok: exit {outcome.run.code} ({verdict})"
    label = "known bug (xfail)" if item.bug else "FAILED"
    return f"{label}: {'; '.join(problems)}"


def scenario_row(
    scenario: Fault, outcome: Outcome, xsd: xmlschema.XMLSchema | None
) -> tuple[Row, list[str]]:
    """The scenario's row of docs/reliability.md, and the problems of its run."""
    problems = judge(scenario, outcome, xsd)
    row = Row(
        scenario=scenario.name,
        fault=scenario.what,
        expected=scenario.expected,
        result=_result(scenario, outcome, problems),
        attempts=str(outcome.attempts),
        timeout=f"{scenario.timeout:g} s",
        wall="killed" if outcome.killed else bucket(outcome.wall),
    )
    return row, problems


@pytest.mark.parametrize("scenario", FAULTS)
def test_fault_scenario(
    scenario: Fault,
    fault_outcomes: dict[str, Outcome],
    junit_xsd: xmlschema.XMLSchema | None,
    reliability_log: ReliabilityLog,
) -> None:
    outcome = fault_outcomes[scenario.name]
    row, problems = scenario_row(scenario, outcome, junit_xsd)
    reliability_log.record(row)
    assert not problems, (
        f"{scenario.name}: {problems} (wall {outcome.wall:.1f} s)\n"
        f"stdout: {outcome.run.stdout[-2000:]}\nstderr: {outcome.run.stderr[-2000:]}"
    )


def test_reliability_document_is_up_to_date(
    fault_outcomes: dict[str, Outcome],
    junit_xsd: xmlschema.XMLSchema | None,
    reliability_log: ReliabilityLog,
    request: pytest.FixtureRequest,
) -> None:
    """docs/reliability.md shows what this run found (read, never written, by a test run).
    The rows come from the runs themselves, whichever order the tests run in."""
    if request.config.getoption("--write-reliability"):
        pytest.skip("--write-reliability: the document is rewritten at the end of this run")
    for scenario in ROWS:
        if scenario.name in fault_outcomes:
            reliability_log.record(
                scenario_row(scenario, fault_outcomes[scenario.name], junit_xsd)[0]
            )
    if not reliability_log.complete():
        pytest.skip("only some fault scenarios ran: the document cannot be compared")
    stale = reliability_log.stale()
    assert not stale, (
        "docs/reliability.md is out of date; refresh it with "
        "`.venv/bin/python -m pytest tests/test_faults.py --write-reliability`:\n"
        + "\n".join(stale)
    )


@pytest.mark.schema
def test_junit_xsd_is_available_for_the_fault_suite() -> None:
    """Visible skip (or failure in CI) when the scenarios' JUnit cannot be XSD-checked."""
    assert shared_schema("junit-10.xsd").is_file()
