"""Where the real consumers' schemas and tools are, and what to do when they are absent.

A user's clone has no ../shared: those tests skip with a visible reason. CI sets
CODEARTS_GATE_REQUIRE_VALIDATORS=1, which turns every such skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_SCHEMAS = REPO.parent / "shared" / "schemas"


def required() -> bool:
    """True when missing validators must fail the run instead of skipping."""
    return os.environ.get("CODEARTS_GATE_REQUIRE_VALIDATORS") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when validators are required."""
    if required():
        pytest.fail(f"{reason} (CODEARTS_GATE_REQUIRE_VALIDATORS=1)")
    pytest.skip(reason)


def shared_schema(name: str) -> Path:
    """The path of a schema in ../shared/schemas, or skip/fail when it is not there."""
    path = SHARED_SCHEMAS / name
    if not path.is_file():
        unavailable(f"schema {name} not found at {path}: validation against it skipped")
    return path
