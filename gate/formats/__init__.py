"""Output formats: each a small module whose ``render(verdict) -> str`` makes the text.

Modules are imported only when their format is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gate.core import Verdict

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
