"""GitLab Code Quality JSON (``artifacts: reports: codequality:``), streamed, every defect.

An array of issues: description, check_name, fingerprint, severity, location with path
and line. ``[]`` when there are none; UTF-8 without a BOM, as GitLab reads it. Defects
without a file are left out (GitLab cannot place them) and counted.
"""

from __future__ import annotations

from json.encoder import encode_basestring as string
from typing import Any, TextIO

from gate.defects import Defect, FetchInfo

SEVERITIES = {"critical": "critical", "major": "major", "minor": "minor", "suggestion": "info"}


def issue_of(defect: Defect) -> dict[str, Any]:
    """One Code Quality issue."""
    description = f"{defect.rule}: {defect.message}" if defect.rule else defect.text()
    return {
        "description": description,
        "check_name": defect.rule_id,
        "fingerprint": defect.fingerprint,
        "severity": SEVERITIES[defect.severity],
        "location": {"path": defect.path, "lines": {"begin": max(defect.line, 1)}},
    }


class Writer:
    """Writes each issue as it comes; ``finish`` closes the array. A defect without a path
    is left out and counted in ``omitted``: GitLab cannot place ``"path": ""``."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.count = self.omitted = 0
        self.left_out = 0
        """Suppressed defects left out (GitLab's format has no place for them)."""
        handle.write("[")

    def add(self, defect: Defect) -> None:
        """Write one issue (built by hand: the same JSON as ``issue_of``, 3 times faster);
        a defect without a file, or suppressed, is left out (and counted)."""
        if defect.suppressed is not None:
            self.left_out += 1
            return
        if not defect.path:
            self.omitted += 1
            return
        description = f"{defect.rule}: {defect.message}" if defect.rule else defect.text()
        self.handle.write(
            f'{"," if self.count else ""}{{"description":{string(description)},'
            f'"check_name":{string(defect.rule_id)},"fingerprint":{string(defect.fingerprint)},'
            f'"severity":"{SEVERITIES[defect.severity]}","location":{{"path":{string(defect.path)},'
            f'"lines":{{"begin":{max(defect.line, 1)}}}}}}}'
        )
        self.count += 1

    def finish(self, _info: FetchInfo) -> None:
        """Close the array (``[]`` when nothing was added)."""
        self.handle.write("]\n")
