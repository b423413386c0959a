"""JUnit XML: one ``<testsuite>``, one ``<testcase>`` per check, an ``<error>`` case when no
verdict was reached.

Written with the standard library to fit Jenkins' XSD exactly: testcase attributes are
only ``name``, ``classname`` and ``time``; times have three decimals; every failure
carries a message, so no consumer can render it as a pass.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gate.core import Check, Verdict

SUITE = "codearts-gate"
CLASSNAME = "CodeArts Check gate"
"""The classname of every case: the same for every job, so that Jenkins and GitLab keep
one history per check; without a dot or a file-like last part, so that publishers that
map classnames to source files (mikepenz/action-junit-report) pin nothing on a file."""
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Untrusted text made storable in XML (ElementTree escapes the rest)."""
    return _NOT_XML.sub("\ufffd", text)


def _case(parent: ET.Element, name: str, classname: str, seconds: float = 0.0) -> ET.Element:
    attrs = {"name": xml_text(name), "classname": xml_text(classname), "time": f"{seconds:.3f}"}
    return ET.SubElement(parent, "testcase", attrs)


def _check_case(suite: ET.Element, check: Check, classname: str) -> None:
    case = _case(suite, case_name(check), classname)
    if check.actual is None:
        error = ET.SubElement(case, "error", {"type": "unreadable-count"})
        error.set("message", xml_text(check.problem or "count unreadable"))
        error.text = error.get("message")
    elif not check.passed:
        message = xml_text(f"{check.metric}: {check.why_failed()}")
        failure = ET.SubElement(case, "failure", {"type": "threshold", "message": message})
        failure.text = xml_text(f"{check.description}: {check.shown()}, allowed {check.limits()}")


def case_name(check: Check) -> str:
    """A check's test name: stable across thresholds (the maximum is in the message)."""
    return f"{check.metric} within its maximum"


def _error_case(suite: ET.Element, verdict: Verdict, classname: str) -> None:
    assert verdict.error is not None
    case = _case(suite, "report obtained and judged", classname, verdict.duration)
    message = xml_text(verdict.error.message)
    error = ET.SubElement(case, "error", {"type": verdict.error.kind, "message": message})
    error.text = f"no verdict ({verdict.error.kind}): {message}"


def _properties(suite: ET.Element, verdict: Verdict) -> None:
    props = ET.SubElement(suite, "properties")
    values = {
        "verdict": verdict.outcome.value,
        "job_id": verdict.job_id,
        "report_url": verdict.report_url,
    }
    values.update(_scan_properties(verdict))
    values["baseline"] = verdict.baseline.label if verdict.baseline else verdict.baseline_note
    if verdict.suppression is not None:
        values["suppressed"] = str(verdict.suppression.total)
    for name, value in values.items():
        if value:
            ET.SubElement(props, "property", {"name": name, "value": xml_text(value)})


def _scan_properties(verdict: Verdict) -> dict[str, str | None]:
    """The gated scan: task, how it was found, and the scan's and the wait's seconds."""
    scan = verdict.scan
    if scan is None:
        return {}
    seconds = {
        "scan_seconds": scan.scan_seconds,
        "wait_seconds": scan.wait_seconds,
        "queued_seconds": scan.queued_seconds,  # waiting for another scan to end, first
    }
    return {
        "task_id": scan.task_id,
        "scan_source": scan.source,
        "scan_status": scan.status,
        "gated": scan.summary(),
        **{name: None if value is None else f"{value:.3f}" for name, value in seconds.items()},
    }


def build(verdict: Verdict) -> ET.Element:
    """The ``<testsuite>`` element for a verdict."""
    classname = CLASSNAME
    suite = ET.Element("testsuite", {"name": SUITE})
    _properties(suite, verdict)
    for check in verdict.checks:
        _check_case(suite, check, classname)
    if verdict.error is not None and not any(c.actual is None for c in verdict.checks):
        _error_case(suite, verdict, classname)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", "0")
    suite.set("time", f"{verdict.duration:.3f}")
    return suite


def render(verdict: Verdict) -> str:
    """The JUnit XML document."""
    suite = build(verdict)
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )
