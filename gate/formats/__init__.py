"""Output formats: each a small module whose ``render(verdict) -> str`` makes the text.

Modules are imported only when their format is asked for.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol, TextIO

    from gate.core import Verdict
    from gate.defects import Defect, FetchInfo

FORMATS: dict[str, str] = {
    "console": "gate.formats.console",
    "junit": "gate.formats.junit",
    "summary": "gate.formats.markdown",
    "json": "gate.formats.jsonfmt",
}


def render(name: str, verdict: Verdict) -> str:
    """Render ``verdict`` in the format registered as ``name``."""
    module = importlib.import_module(FORMATS[name])
    text: str = module.render(verdict)
    return text


DEFECT_FORMATS: dict[str, str] = {
    "sarif": "gate.formats.sarif",
    "codequality": "gate.formats.codequality",
    "junit-defects": "gate.formats.junit_defects",
}
"""Per-defect formats: each module's ``Writer(handle)`` streams the defects into a file."""


if TYPE_CHECKING:  # a type only (typing is not imported at run time: startup)

    class DefectWriter(Protocol):
        """Takes the defects one by one, then writes what is left on ``finish``."""

        def add(self, defect: Defect) -> None:
            """Take one defect."""

        def finish(self, info: FetchInfo) -> None:
            """Complete the document (empty but valid when nothing was added)."""


def defect_writer(
    name: str, handle: TextIO, task: str | None = None, tasks: int = 1
) -> DefectWriter:
    """A writer of the per-defect format registered as ``name``, writing to ``handle``;
    with ``task`` (one of ``tasks`` gated in one step), that task's part of the file, for
    ``combine_defect_parts``."""
    module = importlib.import_module(DEFECT_FORMATS[name])
    if task is None:
        writer: DefectWriter = module.Writer(handle)
    elif name == "sarif":  # the runs of one file share GitHub's size limit
        writer = module.Writer(handle, task=task, runs=tasks)
    else:
        writer = module.Writer(handle, task=task)
    return writer


def combine_defect_parts(name: str, handle: TextIO, parts: list[TextIO]) -> None:
    """Write the per-defect file ``name`` of several tasks from each task's part."""
    module = importlib.import_module(DEFECT_FORMATS[name])
    module.combine(handle, parts)
