"""Where the real consumers' schemas and tools are, and what to do when they are absent.

A user's clone has no ../shared: those tests skip with a visible reason. CI sets
CODEARTS_GATE_REQUIRE_VALIDATORS=1, which turns every such skip into a failure.
"""

from __future__ import annotations

import functools
import os
import unicodedata
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


def unsafe_text(text: str) -> str | None:
    """Why a console or Markdown text could mislead a terminal or a CI runner, else None.

    The answer is a short stable phrase: the fault suite publishes it in docs/reliability.md.
    """
    for line in text.split("\n"):
        bad = [c for c in line if unicodedata.category(c) == "Cc" or c in "\u2028\u2029"]
        if bad:
            return f"raw control character {bad[0]!r}"
        if line.lstrip().startswith("::"):
            return "a line starting with '::' (a workflow command)"
        if "##[" in line:
            return "'##[' in a line (a legacy workflow command)"
    return None


@functools.cache
def json_validator(name: str):  # -> jsonschema validator
    """A validator for a JSON schema in ../shared/schemas (skip or fail when it is absent).
    Made once per process: checking the SARIF schema itself takes a quarter of a second."""
    import json

    import jsonschema

    schema = json.loads(shared_schema(name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
