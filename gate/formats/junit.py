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
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry at all, even escaped: the complement of its ``Char``
production, spelt as the few ranges it leaves out (the class of what it allows took
10 ms to compile, at every start; tests/test_formats.py checks they agree on every
code point)."""


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
    elif check.warned:  # a pass, not a failure: the note says why it warned
        ET.SubElement(case, "system-out").text = f"warning: {check.warning_text()}"


def case_name(check: Check) -> str:
    """A check's test name: stable across thresholds (the maximum is in the message)."""
    return f"{check.metric} within its maximum"


def needs_error_case(verdict: Verdict) -> bool:
    """True when no other case carries the error: no unreadable count, not CodeArts' gate."""
    error = verdict.error
    if error is None or error.kind == "codearts-gate":
        return False
    return not any(c.actual is None for c in verdict.checks)


def _codearts_case(suite: ET.Element, verdict: Verdict, classname: str) -> None:
    """CodeArts' own gate: a failure or an error only when ``--policy`` counts it; else a
    passed case whose ``system-out`` says what CodeArts concluded."""
    gate = verdict.codearts
    assert gate is not None
    case = _case(suite, "CodeArts Check's own gate", classname)
    text = xml_text(gate.summary())
    disagreement = gate.disagreement(verdict)
    note = text + (f"\n{xml_text(disagreement)}" if disagreement else "")
    if gate.decides and gate.state == "failed":
        ET.SubElement(case, "failure", {"type": "codearts-gate", "message": text}).text = note
    elif gate.decides and gate.state == "unknown":
        ET.SubElement(case, "error", {"type": "codearts-gate", "message": text}).text = note
    else:
        ET.SubElement(case, "system-out").text = note


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
    if verdict.codearts is not None:
        values["codearts_gate"] = verdict.codearts.state
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


def build(verdict: Verdict, name: str = SUITE) -> ET.Element:
    """The ``<testsuite>`` element for a verdict."""
    classname = CLASSNAME
    suite = ET.Element("testsuite", {"name": xml_text(name)})
    _properties(suite, verdict)
    for check in verdict.checks:
        _check_case(suite, check, classname)
    if verdict.codearts is not None:
        _codearts_case(suite, verdict, classname)
    if needs_error_case(verdict):
        _error_case(suite, verdict, classname)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", "0")
    suite.set("time", f"{verdict.duration:.3f}")
    return suite


def build_tasks(verdict: Verdict) -> ET.Element:
    """``<testsuites>`` for several tasks: one ``codearts-gate.<name>`` suite each (the
    task id in its properties), and the step's totals."""
    root = ET.Element("testsuites", {"name": SUITE})
    for task in verdict.tasks:
        suite = build(task.verdict, f"{SUITE}.{task.name}")
        props = suite.find("properties")
        if props is not None:
            ET.SubElement(props, "property", {"name": "task_name", "value": xml_text(task.name)})
        root.append(suite)
    for total in ("tests", "failures", "errors"):
        root.set(total, str(sum(int(suite.get(total, "0")) for suite in root)))
    root.set("time", f"{verdict.duration:.3f}")
    return root


def render(verdict: Verdict) -> str:
    """The JUnit XML document."""
    suite = build_tasks(verdict) if verdict.tasks else build(verdict)
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )
