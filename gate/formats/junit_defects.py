"""JUnit XML with one test case per defect, one ``<testsuite>`` per file, for CI systems
that read only JUnit (``--junit-defects``).

Cases are spooled to a temporary file as they come and grouped by file at the end, so
memory holds two numbers per defect, not the defect. Valid against Jenkins' JUnit XSD.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from array import array
from typing import TextIO

from gate.defects import Defect, FetchInfo
from gate.formats.junit import xml_text
from gate.text import one_line

SUITES = "codearts-check-defects"


def case_of(defect: Defect) -> ET.Element:
    """The failing test case of one defect; the file is its class. The name carries the
    whole fingerprint, ``#n`` included, which is unique within a run: two cases of one file
    never share a name (a consumer would merge or drop them)."""
    where = f"line {defect.line}" if defect.line else "file"
    case = ET.Element(
        "testcase",
        {
            "name": xml_text(f"{defect.rule_id} at {where} [{defect.fingerprint}]"),
            "classname": xml_text(defect.path or "(no file)"),
            "time": "0.000",
        },
    )
    message = xml_text(f"{defect.severity}: {one_line(defect.message or defect.rule, 300)}")
    failure = ET.SubElement(case, "failure", {"type": defect.severity, "message": message})
    failure.text = xml_text(f"{defect.where()}\n{defect.rule}\n{defect.text()}")
    return case


def suite_tag(name: str, tests: int, errors: int = 0) -> str:
    """The opening tag of a ``<testsuite>``, every attribute escaped."""
    attrs = {"name": xml_text(name), "tests": str(tests), "failures": str(tests - errors)}
    attrs |= {"errors": str(errors), "skipped": "0", "time": "0.000"}
    text = ET.tostring(ET.Element("testsuite", attrs), encoding="unicode")
    return text.removesuffix(" />") + ">"


class Writer:
    """Spools each case; ``finish`` writes the suites, one per file, in first-seen order."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish
        self.files: dict[str, array[int]] = {}

    def add(self, defect: Defect) -> None:
        """Spool one case and remember where it is (a suppressed defect fails nothing)."""
        if defect.suppressed is not None:
            return
        data = ET.tostring(case_of(defect), encoding="utf-8", xml_declaration=False)
        self.files.setdefault(defect.path, array("q")).extend((self.spool.tell(), len(data)))
        self.spool.write(data)

    def finish(self, info: FetchInfo) -> None:
        """Write the document: the suites of the spooled cases, or an error case."""
        tests = sum(len(spans) // 2 for spans in self.files.values())
        errors = 1 if info.error else 0
        self.handle.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.handle.write(
            f'<testsuites name="{SUITES}" tests="{tests + errors}" '
            f'failures="{tests}" errors="{errors}" time="0.000">\n'
        )
        for path, spans in self.files.items():
            self._suite(path or "(no file)", spans)
        if info.error:
            self._error_suite(info.error)
        self.handle.write("</testsuites>\n")
        self.spool.close()

    def _suite(self, name: str, spans: array[int]) -> None:
        self.handle.write(suite_tag(name, len(spans) // 2) + "\n")
        for i in range(0, len(spans), 2):
            self.spool.seek(spans[i])
            self.handle.write(self.spool.read(spans[i + 1]).decode("utf-8") + "\n")
        self.handle.write("</testsuite>\n")

    def _error_suite(self, error: str) -> None:
        attrs = {"name": "defects fetched", "classname": SUITES, "time": "0.000"}
        case = ET.Element("testcase", attrs)
        message = xml_text(one_line(error, 1000))
        ET.SubElement(case, "error", {"type": "defects", "message": message}).text = message
        self.handle.write(suite_tag(SUITES, 1, errors=1) + "\n")
        self.handle.write(ET.tostring(case, encoding="unicode") + "\n</testsuite>\n")
