"""Each output format against its real consumer: Jenkins' JUnit XSD, a JSON parse, Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import xmlschema
from validators import shared_schema

from gate.core import Outcome, Verdict, error_verdict, evaluate
from gate.errors import CredentialsError, NetworkError
from gate.formats import FORMATS, render
from gate.formats.junit import xml_text
from gate.formats.markdown import md_escape
from gate.policy import Policy, Threshold
from gate.report import Report
from gate.structs import replace

POLICY = Policy((Threshold("critical", 0), Threshold("major", 0), Threshold("new", 5)))
HOSTILE = "x</failure>]]><!-- & \x00\x1b[31m\u2028|`*_[a](javascript:alert(1))"


def verdict_of(fields: dict[str, object], **extra: object) -> Verdict:
    return replace(evaluate(Report(fields), POLICY), job_id="job-1", duration=1.23456, **extra)


PASSED = {"critical": 0, "major": 0, "UNRESOLVED_ADD": 5, "CODE_SIZE": 10}
FAILED = {
    "critical": 2,
    "major": 0,
    "UNRESOLVED_ADD": 9,
    "REPORT_URL": "https://example.invalid/r?a=1&b=<2>",
    "TOOL_LIST": [HOSTILE],
}
VERDICTS = {
    "passed": verdict_of(PASSED),
    "failed": verdict_of(FAILED),
    "missing-count": verdict_of({"major": 0, "UNRESOLVED_ADD": 0}),
    "no-report": replace(error_verdict(NetworkError(f"down {HOSTILE}"), "job-1"), duration=2.5),
    "warned": replace(
        evaluate(
            Report({**PASSED, "minor": 60}),
            Policy(
                (Threshold("critical", 0), Threshold("new", 9, 2), Threshold("minor", None, 50))
            ),
        ),
        job_id="job-1",
    ),
}


@pytest.fixture(scope="module")
def junit_schema():
    return xmlschema.XMLSchema(str(shared_schema("junit-10.xsd")))


@pytest.mark.schema
@pytest.mark.parametrize("name", VERDICTS)
def test_junit_is_valid_against_jenkins_xsd(junit_schema, name):
    junit_schema.validate(render("junit", VERDICTS[name]))


def cases(verdict: Verdict) -> dict[str, ET.Element]:
    root = ET.fromstring(render("junit", verdict))
    return {case.get("name"): case for case in root.iter("testcase")}


def test_junit_counts_and_failure_details_parse_back():
    root = ET.fromstring(render("junit", VERDICTS["failed"]))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "2", "0")
    failure = cases(VERDICTS["failed"])["critical within its maximum"].find("failure")
    assert failure is not None
    assert failure.get("message") == "critical: 2 > maximum 0"
    assert cases(VERDICTS["failed"])["major within its maximum"].find("failure") is None


def test_every_failed_check_has_a_failure_with_a_message():
    for verdict in VERDICTS.values():
        by_name = cases(verdict)
        for check in verdict.checks:
            case = by_name[f"{check.metric} within its maximum"]
            bad = [e for e in case if e.tag in ("failure", "error")]
            assert bool(bad) is (not check.passed)
            assert all(e.get("message") for e in bad)


def test_no_report_is_an_error_case():
    root = ET.fromstring(render("junit", VERDICTS["no-report"]))
    assert (root.get("tests"), root.get("errors"), root.get("failures")) == ("1", "1", "0")
    error = root.find("testcase/error")
    assert error is not None and error.get("type") == "network"
    assert "down x</failure>" in error.get("message", "")


def test_unreadable_count_is_an_error_case_not_a_pass():
    root = ET.fromstring(render("junit", VERDICTS["missing-count"]))
    assert root.get("errors") == "1"
    assert cases(VERDICTS["missing-count"])["critical within its maximum"].find("error") is not None


def test_junit_times_have_three_decimals():
    root = ET.fromstring(render("junit", VERDICTS["passed"]))
    assert root.get("time") == "1.235"
    assert all(c.get("time") == "0.000" for c in root.iter("testcase"))


def test_json_shape():
    data = json.loads(render("json", VERDICTS["failed"]))
    assert data["verdict"] == "failed"
    assert data["exit_code"] == 1
    assert data["job_id"] == "job-1"
    assert data["report_url"] == "https://example.invalid/r?a=1&b=<2>"
    assert data["checks"][0] == {
        "metric": "critical",
        "actual": 2,
        "max": 0,
        "passed": False,
        "warn": None,
        "status": "fail",
    }
    assert data["counts"] == {"critical": 2, "major": 0, "new": 9}
    assert data["error"] is None


def test_json_error_and_warn():
    verdict = replace(error_verdict(CredentialsError("refused"), "j"), warn_on_error=True)
    data = json.loads(render("json", verdict))
    assert data["verdict"] == "error"
    assert data["exit_code"] == 0
    assert data["error"] == {"kind": "credentials", "message": "refused"}


def test_markdown_has_verdict_table_link_tools_size():
    text = render("summary", VERDICTS["passed"])
    assert text.startswith("## ✅ CodeArts Check gate passed")
    assert "| new (new unresolved issues) | 5 | 5 | ✅ pass |" in text
    assert "**Code size:** 10 lines" in text


def test_markdown_escapes_service_text():
    text = render("summary", VERDICTS["failed"])
    assert "<2>" not in text and "[a](javascript" not in text and "\\[a\\](" in text
    assert "\x1b" not in text and "\x00" not in text
    assert "(<https://example.invalid/r?a=1&b=%3C2%3E>)" in text
    assert md_escape("a|b") == "a\\|b"


def test_markdown_error_names_the_cause():
    text = render("summary", VERDICTS["no-report"])
    assert text.startswith("## ⚠️ CodeArts Check gate: no verdict")
    assert "**network error:**" in text


def test_markdown_never_links_non_http_urls():
    verdict = verdict_of({**PASSED, "REPORT_URL": "javascript:alert(1)"})
    assert "](" not in render("summary", verdict)


def test_console_table_and_verdict():
    text = render("console", VERDICTS["failed"])
    assert "verdict: FAILED (2 of 3 checks over their maximum)" in text
    assert text.splitlines()[1].split() == ["critical", "2", "0", "FAIL"]


def test_registry_lists_every_format():
    assert set(FORMATS) == {"console", "junit", "summary", "json"}
    for name in FORMATS:
        assert render(name, VERDICTS["passed"])
    assert VERDICTS["passed"].outcome is Outcome.PASSED


XML_CHAR = "[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
"""XML 1.0's ``Char`` production, as the specification writes it."""


def test_xml_text_replaces_exactly_what_xml_cannot_carry():
    """Every code point, lone surrogates included, in one string (C speed, ~0.1 s): what
    xml_text replaces is what the specification's Char production leaves out."""
    import re

    every = "".join(map(chr, range(0x110000)))
    expected = re.sub("[^" + XML_CHAR[1:], "\ufffd", every)
    assert xml_text(every) == expected
    # 29 C0 controls, 2,048 surrogates, U+FFFE and U+FFFF replaced; U+FFFD was there already
    assert expected.count("\ufffd") == 29 + 0x800 + 2 + 1
