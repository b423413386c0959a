"""GitLab Code Quality JSON (``artifacts: reports: codequality:``), streamed, every defect.

An array of issues: description, check_name, fingerprint, severity, location with path
and line. ``[]`` when there are none; UTF-8 without a BOM, as GitLab reads it. Defects
without a file are left out (GitLab cannot place them) and counted.
"""

from __future__ import annotations

import hashlib
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


def task_fingerprint(task: str, fingerprint: str) -> str:
    """A defect's fingerprint within a step of several tasks: two tasks' identical
    defects (one shared file, one rule) never collide, and each stays the same next run."""
    return hashlib.sha256(f"{task}\0{fingerprint}".encode()).hexdigest()


def combine(handle: TextIO, parts: list[TextIO]) -> None:
    """One array of the issues of several tasks (each part written with ``task``: its
    issues each led by a comma), copied through, never read whole."""
    handle.write("[")
    first = True
    for part in parts:
        lead = part.read(1)
        if not lead:
            continue
        if not first:
            handle.write(lead)
        first = False
        while block := part.read(1 << 20):
            handle.write(block)
    handle.write("]\n")


class Writer:
    """Writes each issue as it comes; ``finish`` closes the array. A defect without a path
    is left out and counted in ``omitted``: GitLab cannot place ``"path": ""``. With
    ``task`` (a step of several tasks) it writes that task's issues alone, each led by a
    comma, for ``combine``, their fingerprints holding the task."""

    def __init__(self, handle: TextIO, *, task: str | None = None) -> None:
        self.handle, self.task = handle, task
        self.count = self.omitted = 0
        self.left_out = 0
        """Suppressed defects left out (GitLab's format has no place for them)."""
        if task is None:
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
        fingerprint = defect.fingerprint
        if self.task is not None:
            fingerprint = task_fingerprint(self.task, fingerprint)
        self.handle.write(
            f"{',' if self.count or self.task is not None else ''}"
            f'{{"description":{string(description)},'
            f'"check_name":{string(defect.rule_id)},"fingerprint":{string(fingerprint)},'
            f'"severity":"{SEVERITIES[defect.severity]}","location":{{"path":{string(defect.path)},'
            f'"lines":{{"begin":{max(defect.line, 1)}}}}}}}'
        )
        self.count += 1

    def finish(self, _info: FetchInfo) -> None:
        """Close the array (``[]`` when nothing was added; a task's part stays open)."""
        if self.task is None:
            self.handle.write("]\n")
