"""SARIF 2.1.0 for GitHub code scanning and Jenkins' Warnings Next Generation plugin.

One run, the tool ``CodeArts Check`` with each checker as a rule. GitHub refuses a run
with more than 25,000 results or an upload over 10 MB gzipped, so the writer keeps the
most severe defects up to the cap (held as it streams, never more than the cap), writes
compact JSON, stops early if the gzipped size nears the limit, and says in the run's
properties how many were left out.

What the consumers reject or merge, and what is done about it:
- GitHub refuses the *whole* upload when one result has no location: a defect without a
  file is left out and counted (``resultsWithoutLocation``), never written bare.
- Jenkins reads integers as Java ``int``: positions past 2**31 - 1 are unknown (see
  ``gate.defects.MAX_POSITION``), never clamped and then shifted past it.
- Warnings NG merges results equal on file, line, message, rule and level, and the service
  repeats rows: each result carries a ``correlationGuid`` derived from its fingerprint
  (which is unique within a run and stable across runs).
"""

from __future__ import annotations

import json
import uuid
import zlib
from typing import Any, TextIO
from urllib.parse import quote

from gate import __version__
from gate.defects import RANK, SEVERITIES, Defect, FetchInfo
from gate.text import escape_controls

CAP = 25_000
GZIP_BUDGET = 9_500_000
"""Bytes of gzipped SARIF allowed: GitHub's 10 MB limit with room for the closing part."""
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "major": "error", "minor": "warning", "suggestion": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "major": "8.0", "minor": "5.0", "suggestion": "2.0"}
"""GitHub's bands: over 9 critical, 7 to 8.9 high, 4 to 6.9 medium, below 4 low."""
FINGERPRINT = "codeartsCheck/v1"
GUID_NAMESPACE = uuid.UUID("5b0c2d3e-8f0a-4c1b-9a57-c0dea7c5ec4e")
"""The namespace of the results' ``correlationGuid`` (a UUIDv5 of the fingerprint)."""
TOOL = {
    "name": "CodeArts Check",
    # CodeArts Check reports no engine version: the driver carries the converter's, and
    # run.conversion says which converter made the log.
    "version": __version__,
    "informationUri": "https://www.huaweicloud.com/product/codecheck.html",
}
CONVERSION = {"tool": {"driver": {"name": "codearts-gate", "version": __version__}}}
SRCROOT = {
    "%SRCROOT%": {
        "description": {"text": "The root of the checkout the gate ran in (paths are relative)."}
    }
}


def dumps(value: object) -> str:
    """Compact JSON; service text is already encodable, so UTF-8 carries it as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def rule_of(defect: Defect, severity: str) -> dict[str, Any]:
    """The rule of a checker; ``severity`` is the most severe seen for it."""
    name = defect.rule or defect.rule_id
    tags = list(defect.tags)
    properties: dict[str, Any] = {}
    if defect.is_security:
        tags = tags if "security" in tags else [*tags[:19], "security"]
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    properties["tags"] = tags
    return {
        "id": defect.rule_id,
        "name": name,
        "shortDescription": {"text": name},
        "fullDescription": {"text": name},
        "help": {"text": help_text(defect)},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": properties,
    }


def help_text(defect: Defect) -> str:
    """What a reader can do about a rule: CodeArts Check's rule name and checker, and where
    its full description lives (the service's rows carry no help text of their own)."""
    checker = f" (checker {defect.checker})" if defect.checker and defect.rule else ""
    return (
        f"CodeArts Check rule {defect.rule or defect.rule_id}{checker}. The rule's description "
        "and examples are in the CodeArts Check console, under the task's rule set."
    )


def rules_of(defects: list[Defect]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One rule per checker, in order of first appearance, and each one's index."""
    first: dict[str, Defect] = {}
    worst: dict[str, str] = {}
    for defect in defects:
        first.setdefault(defect.rule_id, defect)
        if defect.rank < RANK[worst.get(defect.rule_id, "suggestion")]:
            worst[defect.rule_id] = defect.severity
    rules = [rule_of(d, worst.get(rid, d.severity)) for rid, d in first.items()]
    return rules, {rid: i for i, rid in enumerate(first)}


def location_of(defect: Defect) -> dict[str, Any]:
    """The physical location: repository-relative URI, line and columns when known."""
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": quote(defect.path, safe="/"), "uriBaseId": "%SRCROOT%"}
    }
    if defect.line > 0:
        region: dict[str, int] = {"startLine": defect.line}
        if defect.start_column is not None:
            region["startColumn"] = defect.start_column
            if defect.end_column is not None:
                region["endColumn"] = defect.end_column
        physical["region"] = region
    return {"physicalLocation": physical}


def correlation_guid(defect: Defect) -> str:
    """A GUID for the defect, the same next run: a UUIDv5 of its fingerprint."""
    return str(uuid.uuid5(GUID_NAMESPACE, defect.fingerprint))


def result_of(defect: Defect, index: dict[str, int]) -> dict[str, Any]:
    """One SARIF result (the defect has a file: see ``Writer.add``)."""
    result: dict[str, Any] = {
        "ruleId": defect.rule_id,
        "ruleIndex": index[defect.rule_id],
        "level": LEVELS[defect.severity],
        "message": {"text": escape_controls(defect.text(), keep_line_feeds=True)},
        "locations": [location_of(defect)],
        "partialFingerprints": {FINGERPRINT: defect.fingerprint},
        "correlationGuid": correlation_guid(defect),
        "properties": {"severity": defect.severity, "defectId": defect.id},
    }
    if defect.suppressed is not None:  # a [[suppress]] entry: GitHub shows it as dismissed
        justification = escape_controls(defect.suppressed, keep_line_feeds=True)
        result["suppressions"] = [{"kind": "external", "justification": justification}]
    return result


class Writer:
    """Keeps the most severe ``cap`` defects as they come; writes the log on ``finish``."""

    def __init__(self, handle: TextIO, cap: int = CAP, gzip_budget: int = GZIP_BUDGET) -> None:
        self.handle, self.cap, self.gzip_budget = handle, cap, gzip_budget
        self.buckets: dict[str, list[Defect]] = {s: [] for s in SEVERITIES}
        self.kept = self.seen = self.omitted = self.unplaced = 0

    def add(self, defect: Defect) -> None:
        """Keep ``defect`` if there is room, or if it is more severe than one kept; a defect
        without a file is counted and left out (GitHub rejects a result without a location)."""
        self.seen += 1
        if not defect.path:
            self.unplaced += 1
            return
        if self.kept < self.cap:
            self.buckets[defect.severity].append(defect)
            self.kept += 1
            return
        for severity in reversed(SEVERITIES[defect.rank + 1 :]):
            if self.buckets[severity]:
                self.buckets[severity].pop()
                self.buckets[defect.severity].append(defect)
                return

    def finish(self, info: FetchInfo) -> None:
        """Write the whole log: tool and rules, the kept results, the run's properties."""
        kept = [d for s in SEVERITIES for d in self.buckets[s]]
        rules, index = rules_of(kept)
        tool = {"driver": {**TOOL, "rules": rules}}
        head = (
            f'{{"$schema":"{SCHEMA}","version":"2.1.0","runs":[{{"tool":{dumps(tool)},'
            f'"conversion":{dumps(CONVERSION)},"originalUriBaseIds":{dumps(SRCROOT)}'
        )
        written = self._results(head + ',"results":[', kept, index)
        self.omitted = self.seen - written
        self.handle.write(f'],"properties":{dumps(self.properties(info, written))}}}]}}\n')

    def _results(self, head: str, kept: list[Defect], index: dict[str, int]) -> int:
        """Write ``head`` and the results while the gzipped size stays in budget."""
        gzip = zlib.compressobj(1, zlib.DEFLATED, 31)  # fast; compresses less than GitHub's
        size = len(gzip.compress(head.encode("utf-8")))
        self.handle.write(head)
        for written, defect in enumerate(kept):
            chunk = ("," if written else "") + dumps(result_of(defect, index))
            size += len(gzip.compress(chunk.encode("utf-8")))
            if size > self.gzip_budget:
                return written
            self.handle.write(chunk)
        return len(kept)

    def properties(self, info: FetchInfo, written: int) -> dict[str, Any]:
        """What the run does not show: defects left out, and why defects may be missing."""
        props: dict[str, Any] = {
            "defectsFetched": info.fetched,
            "defectsTotal": info.total,
            "resultsWritten": written,
            "resultsOmitted": self.seen - written,
            "resultsWithoutLocation": self.unplaced,
            "resultsCap": self.cap,
        }
        if info.error:
            props["defectsMissing"] = info.error
        if info.incomplete:
            props["defectsIncomplete"] = info.incomplete
        return props
