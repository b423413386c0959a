"""Report parsing is total: any body ends in a verdict or a ``GateError``, never a traceback.

Hypothesis feeds thousands of generated bodies (the example reports mutated: fields
deleted, retyped, nulled, huge or negative numbers, floats, NaN/Infinity literals, deep
nesting, unicode, lone surrogates, truncation, random bytes, non-JSON) through the pure
path ``decode_json`` -> ``report_from_payload`` -> ``evaluate`` with random policies, and
every renderer, then a smaller set through the CLI.

Bugs these tests found have their own regression tests at the end (``test_regression_*``).
"""

from __future__ import annotations

import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from budget import examples
from click.testing import CliRunner
from hypothesis import HealthCheck, currently_in_test_context, event, given, note, settings
from hypothesis import strategies as st
from validators import REPO, shared_schema, unsafe_text

from gate.cli import main
from gate.core import Check, Outcome, Verdict, error_verdict, evaluate
from gate.errors import ExitCode, GateError
from gate.formats import render
from gate.metrics import METRICS
from gate.policy import Policy, build_policy
from gate.report import Report, decode_json, report_from_payload
from gate.structs import replace

FORMATS = ("console", "junit", "summary", "json")
EXAMPLES = {
    p.name: json.loads(p.read_bytes()) for p in sorted(REPO.glob("examples/reports/*.json"))
}
FIELDS = sorted({f for m in METRICS.values() for f in m.fields})
ENVELOPE_KEYS = ["status", "httpStatus", "result", "error_code", "error_msg", "request_id"]
TEXT_KEYS = ["REPORT_URL", "TOOL_LIST"]
MAX_STR_DIGITS = 4300  # CPython's default limit for int(str)
PURE_EXAMPLES = examples(2500)
CLI_EXAMPLES = examples(400)


def record(text: str, label: str) -> None:
    """A note for a failing example and a statistics label, inside Hypothesis only."""
    if currently_in_test_context():
        if text:
            note(text)
        event(label)


# --------------------------------------------------------------------------- strategies

HUGE = [10**400, -(10**400), 2**63, 2**64 + 1, -1, -0, 10**4299]
# fmt: off
COUNT_STRINGS = [
    "", "0", "3", "-3", "+3", " 3", "3 ", "3.0", "1e3", "0x10", "٣", "³", "Ⅻ", "NaN", "Infinity",
    "null", "true", "1" * 40, "1" * (MAX_STR_DIGITS + 1),
]
TEXT_STRINGS = [
    "", "\x00", "\x1b[31m", "\u2028", "::set-env name=X::1", "\n::add-mask::x", "%0A::warning::x",
    "x ##[set-env name=X;]1", "###[error]x",
    "<script>", "]]>", "javascript:alert(1)", "http://[", "https://a\uff03b/", "https://[::1",
    "https://ok.example/r?a=1&b=<2>", "\ud800", "a\udfffb", "x" * 3000,
]
# fmt: on
STRANGE_STRINGS = COUNT_STRINGS + TEXT_STRINGS
RAW_NUMBERS = ["NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" * 4400, "-0", "0.0"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=200),
    st.integers(),
    st.sampled_from(HUGE),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(STRANGE_STRINGS),
    st.from_regex(r"\A[0-9]{1,25}\Z"),
)
keys = st.one_of(st.sampled_from(FIELDS + ENVELOPE_KEYS + TEXT_KEYS), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def _nested(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


MUTATIONS = ["delete", "set", "set", "add", "hostile", "hostile", "hostile", "nest", "status"]
MUTATIONS += ["replace"]


@st.composite
def payloads(draw: st.DrawFn) -> Any:
    """A decoded body: an example report (envelope or bare result) with mutations."""
    payload = copy.deepcopy(EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))])
    if isinstance(payload.get("result"), dict) and draw(st.booleans()):
        payload = payload["result"]  # the bare result, as --report-file accepts
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        result = payload.get("result")
        target = result if isinstance(result, dict) and draw(st.booleans()) else payload
        op = draw(st.sampled_from(MUTATIONS))
        names = sorted(target, key=str)
        if op == "delete" and names:
            del target[draw(st.sampled_from(names))]
        elif op == "set" and names:
            target[draw(st.sampled_from(names))] = draw(json_values)
        elif op == "add":
            target[draw(keys)] = draw(json_values)
        elif op == "hostile":  # into the report itself, where the gate reads it
            report = result if isinstance(result, dict) else payload
            if draw(st.booleans()):
                report[draw(st.sampled_from(FIELDS))] = draw(st.sampled_from(COUNT_STRINGS))
            else:
                name, value = draw(st.sampled_from(TEXT_KEYS)), draw(st.sampled_from(TEXT_STRINGS))
                report[name] = [value, "ok"] if name == "TOOL_LIST" else value
        elif op == "nest" and names:
            name = draw(st.sampled_from(names))
            target[name] = _nested(target[name], draw(st.integers(min_value=1, max_value=50)))
        elif op == "status":
            payload["status"] = draw(st.sampled_from(["success", "failed", "", None, 0, "SUCCESS"]))
        elif op == "replace":
            payload = draw(json_values)
            break
    return payload


def _encode(payload: Any, ensure_ascii: bool) -> bytes:
    text = json.dumps(payload, ensure_ascii=ensure_ascii, allow_nan=True)  # NaN as a raw literal
    return text.encode("utf-8", "surrogatepass")


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """The bytes of an answer: mostly mutated JSON, sometimes anything at all."""
    kind = draw(st.sampled_from(["json"] * 6 + ["raw", "text", "deep", "encoding"]))
    if kind == "raw":
        return draw(st.binary(max_size=200))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8")
    if kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=100_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        tail = closer * depth if draw(st.booleans()) else ""
        return (opener * depth + "0" + tail).encode()
    body = _encode(draw(payloads()), ensure_ascii=draw(st.booleans()))
    if kind == "encoding":
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-8-sig"]))
        return body.decode("utf-8", "surrogatepass").encode(codec, "surrogatepass")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        body = draw(_text_mutation(body))
    return body


NUMBER = re.compile(rb"(?<=: )-?[0-9]+")
FIRST_KEY = re.compile(rb'\{("[^"\\]*"): ')
STRING = re.compile(rb'(?<=: )"[^"\\]*"')


@st.composite
def _text_mutation(draw: st.DrawFn, body: bytes) -> bytes:
    """A raw-text edit of a JSON body: NaN literals, cuts, lone surrogates, garbage."""
    op = draw(st.sampled_from(["number", "surrogate", "truncate", "splice", "duplicate"]))
    numbers, strings = list(NUMBER.finditer(body)), list(STRING.finditer(body))
    keys = list(FIRST_KEY.finditer(body))
    if op == "duplicate" and keys:  # the same key again in the same object: ambiguous
        m = draw(st.sampled_from(keys))
        value = draw(st.sampled_from([b"0", b"7", b'"x"', b"null", b'"success"']))
        return body[: m.start() + 1] + m.group(1) + b": " + value + b", " + body[m.start() + 1 :]
    if op == "number" and numbers:
        m = draw(st.sampled_from(numbers))
        return body[: m.start()] + draw(st.sampled_from(RAW_NUMBERS)).encode() + body[m.end() :]
    if op == "surrogate" and strings:
        m = draw(st.sampled_from(strings))
        escape = draw(st.sampled_from([rb"\ud800", rb"\udfff", rb"\ud83d", rb"\u0000", rb"\u001b"]))
        return body[: m.start() + 1] + escape + body[m.start() + 1 :]
    if op == "truncate" and body:
        return body[: draw(st.integers(min_value=0, max_value=len(body) - 1))]
    at = draw(st.integers(min_value=0, max_value=len(body)))
    return body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]


maximums = st.one_of(st.integers(min_value=0, max_value=200), st.sampled_from([0, 10**400, 2**63]))
COMMON = ["critical", "major", "new", "minor", "suggestion", "code-size", "new-all"]


def with_fitting_warnings(
    pairs: list[tuple[str, int | None]], warns: list[tuple[str, int | None]]
) -> Policy:
    """A policy whose warn levels are at most their maximums (above is a usage error)."""
    chosen = dict(pairs)
    fitting = [(m, w) for m, w in warns if w is None or chosen.get(m) is None or w <= chosen[m]]
    return build_policy(pairs, fitting)


_pairs = st.lists(
    st.tuples(st.sampled_from(COMMON) | st.sampled_from(sorted(METRICS)), maximums | st.none()),
    max_size=6,
)
policies = st.builds(with_fitting_warnings, _pairs, _pairs)
"""Maximums, some off, and warn levels: checks that fail, warn, pass or only warn."""


# --------------------------------------------------------------------------- oracles

UNREADABLE = object()
EITHER = object()


def expected_count(fields: dict[str, Any], metric: str) -> Any:
    """What a fail-closed reader must make of a metric: an int, UNREADABLE, or EITHER."""
    for name in METRICS[metric].fields:
        value = fields.get(name)
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            return value if value >= 0 else UNREADABLE
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value) if len(value) <= MAX_STR_DIGITS else EITHER
        return UNREADABLE
    return UNREADABLE


def limit(check: Check) -> float:
    """A check's maximum; a check with none (it only warns) can never fail."""
    return float("inf") if check.maximum is None else check.maximum


def check_verdict(verdict: Verdict, fields: dict[str, Any], policy: Policy) -> None:
    """The outcome follows from the checks, and the checks from the report: fail closed."""
    assert [(c.metric, c.maximum) for c in verdict.checks] == [
        (t.metric, t.maximum) for t in policy.thresholds
    ]
    for check in verdict.checks:
        wanted = expected_count(fields, check.metric)
        if wanted is UNREADABLE:
            assert check.actual is None, (check, fields.get(check.metric))
        elif wanted is not EITHER:
            assert check.actual == wanted, check
        assert check.actual is None or (type(check.actual) is int and check.actual >= 0)
    unreadable = any(c.actual is None for c in verdict.checks)
    over = any(c.actual is not None and c.actual > limit(c) for c in verdict.checks)
    for check in verdict.checks:
        level = check.warn if check.warn is not None else limit(check)
        assert check.warned is (check.actual is not None and level < check.actual <= limit(check))
    if verdict.outcome is Outcome.PASSED:
        assert all(type(c.actual) is int and c.actual <= limit(c) for c in verdict.checks)
        assert verdict.error is None and verdict.exit_code is ExitCode.PASSED
    elif verdict.outcome is Outcome.FAILED:
        assert over and (verdict.error is not None) is unreadable
        assert verdict.exit_code is ExitCode.GATE_FAILED
        warned = replace(verdict, warn_on_error=True)  # a known failure is never warned away
        assert warned.exit_code is ExitCode.GATE_FAILED
    else:
        assert unreadable and not over, "an error verdict names an unreadable count, no failure"
    if unreadable:
        assert verdict.outcome is (Outcome.FAILED if over else Outcome.ERROR)
        assert verdict.exit_code is (ExitCode.GATE_FAILED if over else ExitCode.NO_VERDICT)
        assert verdict.error is not None and verdict.error.kind == "report"
    assert all(type(v) is int and v >= 0 for v in verdict.counts.values())


def check_junit(text: str, verdict: Verdict, xsd: xmlschema.XMLSchema | None) -> None:
    root = ET.fromstring(text)
    cases = root.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    assert root.tag == "testsuite" and root.get("tests") == str(len(cases))
    assert root.get("failures") == str(len(failures)) == str(len(verdict.failed_checks))
    assert root.get("errors") == str(len(errors))
    assert bool(errors) is (verdict.error is not None)
    notes = [c for c in cases if c.find("system-out") is not None]
    assert len(notes) == len(verdict.warned_checks)  # a warning is a note on a passed case
    assert all(c.find("failure") is None and c.find("error") is None for c in notes)
    if xsd is not None:
        xsd.validate(text)


def check_json(text: str, verdict: Verdict) -> None:
    data = json.loads(text)
    error = verdict.error
    assert {key: data.get(key) for key in _JSON_KEYS} == {
        "verdict": verdict.outcome.value,
        "exit_code": int(verdict.exit_code),
        "job_id": verdict.job_id,
        "report_url": verdict.report_url,
        "checks": [
            {"metric": c.metric, "actual": c.actual, "max": c.maximum, "passed": c.passed}
            | {"warn": c.warn, "status": c.status}
            for c in verdict.checks
        ],
        "counts": verdict.counts,
        "tools": list(verdict.tools),
        "error": None if error is None else {"kind": error.kind, "message": error.message},
    }


_JSON_KEYS = ("verdict", "exit_code", "job_id", "report_url", "checks", "counts", "tools", "error")


def check_renders(verdict: Verdict, xsd: xmlschema.XMLSchema | None) -> None:
    """Render every format and check each."""
    for name in FORMATS:
        text = render(name, verdict)
        text.encode("utf-8")  # the gate writes every output as UTF-8
        if name == "junit":
            check_junit(text, verdict, xsd)
        elif name == "json":
            check_json(text, verdict)
        else:
            assert unsafe_text(text) is None, (name, unsafe_text(text), text[:200])


# --------------------------------------------------------------------------- properties


class _Repeated(Exception):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise _Repeated
    return dict(pairs)


def has_duplicate_keys(body: bytes) -> bool:
    """True when the body is JSON with some object naming a key twice."""
    try:
        json.loads(body, object_pairs_hook=_unique)
    except _Repeated:
        return True
    except (ValueError, RecursionError):
        return False
    return False


def judge_body(body: bytes, policy: Policy, xsd: xmlschema.XMLSchema | None) -> None:
    """The whole pure path for one body, with every property checked."""
    ambiguous = has_duplicate_keys(body)
    try:
        report = report_from_payload(decode_json(body), allow_bare=True)
        verdict = evaluate(report, policy)
    except GateError as err:
        assert err.exit_code in (ExitCode.CREDENTIALS_REFUSED, ExitCode.NO_VERDICT), err
        assert str(err)
        verdict = error_verdict(err, job_id="2b31ed520aaaaaaebedb6e57bbbbbbbb")
        assert verdict.outcome is Outcome.ERROR and not verdict.checks
        assert verdict.exit_code in (ExitCode.CREDENTIALS_REFUSED, ExitCode.NO_VERDICT)
    else:
        assert not ambiguous, "an answer with a key twice must not reach a verdict"
        check_verdict(verdict, dict(report.fields), policy)
    record("", f"outcome: {verdict.outcome.value}, exit {int(verdict.exit_code)}")
    check_renders(verdict, xsd)


@settings(
    max_examples=PURE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=bodies(), policy=policies)
def test_any_body_ends_in_a_verdict_or_a_gate_error(body, policy, junit_xsd):
    judge_body(body, policy, junit_xsd)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("policy", [Policy(()), build_policy([("critical", 0), ("major", 5)])])
def test_the_unmutated_examples_hold_the_properties(name, policy, junit_xsd):
    judge_body(json.dumps(EXAMPLES[name]).encode(), policy, junit_xsd)


@pytest.mark.schema
def test_junit_xsd_is_available_for_the_property_tests():
    """Visible skip (or failure in CI) when the generated JUnit cannot be XSD-checked."""
    assert shared_schema("junit-10.xsd").is_file()


# --------------------------------------------------------------------------- the CLI

CLEARED_ENV = {
    k: None
    for k in os.environ
    if k.startswith(("CODEARTS_", "GITHUB_", "HUAWEI_CLOUD_", "RUNNER_"))
}


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module", autouse=True)
def _restore_gate_logger():
    """The CLI points the ``gate`` logger at CliRunner's stream: put it back after."""
    import logging

    logger = logging.getLogger("gate")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def invoke(body: bytes, folder: Path) -> Any:
    for old in folder.iterdir():
        old.unlink()
    outputs = [f"--junit={folder}/j.xml", f"--summary={folder}/s.md", f"--json={folder}/r.json"]
    return CliRunner().invoke(
        main, ["--report-file", "-", *outputs], input=body, env=CLEARED_ENV, catch_exceptions=True
    )


@settings(
    max_examples=CLI_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=bodies())
def test_cli_on_any_body_exits_by_the_contract_without_traceback(body, cli_folder):
    result = invoke(body, cli_folder)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    data = json.loads((cli_folder / "r.json").read_text(encoding="utf-8"))
    # 3 only for a saved error answer refusing the credentials (CC.00050010, APIGW.0301...)
    refused = result.exit_code == 3 and (data.get("error") or {}).get("kind") == "credentials"
    # 2 only for a file that holds no report at all (empty, not JSON, not an object...)
    no_report = result.exit_code == 2 and "--report-file - (standard input)" in result.stderr
    assert result.exit_code in (0, 1, 4) or refused or no_report, (result.exit_code, result.stderr)
    record("", f"exit {result.exit_code}")
    assert "Traceback" not in result.stdout + result.stderr
    assert data["exit_code"] == result.exit_code
    assert data["verdict"] == {0: "passed", 1: "failed"}.get(result.exit_code, "error")
    ET.parse(cli_folder / "j.xml")
    summary = (cli_folder / "s.md").read_text(encoding="utf-8")
    for text in (summary, result.stdout):
        assert unsafe_text(text) is None, (unsafe_text(text), text[:200])
    if result.exit_code in (2, 3, 4):
        assert "codearts-gate: error:" in result.stderr


# --------------------------------------------------------------------------- regressions


DEFAULT = build_policy([("critical", 0), ("major", 0), ("new", 0)])
CLEAN = {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}


def test_regression_count_as_a_huge_digit_string_is_a_report_error():
    body = json.dumps({**CLEAN, "critical": "1" * (MAX_STR_DIGITS + 1)}).encode()
    try:
        verdict = evaluate(report_from_payload(decode_json(body), allow_bare=True), DEFAULT)
    except GateError as err:
        assert err.exit_code is ExitCode.NO_VERDICT
        return
    assert verdict.outcome is not Outcome.PASSED


def test_regression_a_huge_digit_string_in_an_unchecked_field_is_harmless():
    body = json.dumps({**CLEAN, "CODE_SIZE": "9" * 5000}).encode()
    verdict = evaluate(report_from_payload(decode_json(body), allow_bare=True), DEFAULT)
    assert verdict.outcome is Outcome.PASSED


@pytest.mark.parametrize("url", ["http://[", "https://[::1/x", "https://a\uff03b/report"])
def test_regression_report_url_that_urlsplit_rejects_still_renders(url):
    verdict = evaluate(Report({**CLEAN, "REPORT_URL": url}), DEFAULT)
    assert verdict.outcome is Outcome.PASSED
    for name in FORMATS:
        assert render(name, verdict)


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": "failed", "error_code": "CC.00050006", "error_msg": "bad \\ud800"}',
        b'{"critical": 0, "major": 0, "UNRESOLVED_ADD": 0, "REPORT_URL": "https://x/\\udfff"}',
        b'{"critical": 0, "major": 0, "UNRESOLVED_ADD": 0, "TOOL_LIST": ["\\ud83d"]}',
    ],
    ids=["error_msg", "REPORT_URL", "TOOL_LIST"],
)
def test_regression_lone_surrogate_in_service_text_can_be_written_as_utf8(body):
    try:
        verdict = evaluate(report_from_payload(decode_json(body), allow_bare=True), DEFAULT)
    except GateError as err:
        verdict = error_verdict(err)
    for name in FORMATS:
        render(name, verdict).encode("utf-8")


def test_regression_cli_error_answer_with_lone_surrogate_exits_4_not_1(cli_folder):
    body = b'{"status": "failed", "error_code": "CC.00050006", "error_msg": "bad \\ud800"}'
    result = invoke(body, cli_folder)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 4
    assert json.loads((cli_folder / "r.json").read_text(encoding="utf-8"))["exit_code"] == 4
