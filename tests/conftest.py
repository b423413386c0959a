"""Shared pytest fixtures."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeCodeArts
from validators import shared_schema, unavailable


@pytest.fixture(autouse=True)
def _forget_run_secrets() -> Iterator[None]:
    """A run declares its secrets process-wide (gate.text): none carry over between tests."""
    from gate import text

    text.use_secrets(())
    yield
    text.use_secrets(())


@pytest.fixture
def fake_api() -> Iterator[FakeCodeArts]:
    """A FakeCodeArts with default credentials and the ``pass`` scenario, stopped after."""
    with FakeCodeArts() as api:
        yield api


@pytest.fixture
def fake_api_factory() -> Iterator[Callable[..., FakeCodeArts]]:
    """Build FakeCodeArts instances with custom keywords; all are stopped after the test."""
    made: list[FakeCodeArts] = []

    def make(**kwargs: Any) -> FakeCodeArts:
        api = FakeCodeArts(**kwargs)
        made.append(api)
        return api

    yield make
    for api in made:
        api.stop()


@pytest.fixture(scope="session")
def junit_xsd() -> Any:
    """Jenkins' JUnit XSD from ../shared, or None when absent, so that only the XSD part of
    a broader test is left out (the schema tests themselves skip visibly, or fail in CI)."""
    import xmlschema

    try:
        return xmlschema.XMLSchema(str(shared_schema("junit-10.xsd")))
    except pytest.skip.Exception:
        return None


# --------------------------------------------------------------------------- CI tools


def tool_path(name: str) -> str | None:
    """A command from this interpreter's bin folder (the venv), else from PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """``require_tool(name)``: the tool's path; skip when it is missing, or fail when
    CODEARTS_GATE_REQUIRE_VALIDATORS=1 (CI) says validators must run."""

    def require(name: str) -> str:
        path = tool_path(name)
        if path is None:
            unavailable(f"{name} not found next to {sys.executable} nor on PATH")
        assert path is not None
        return path

    return require


# --------------------------------------------------------------------------- reliability
# Owned by tests/test_faults.py. docs/reliability.md is written only on demand:
#   .venv/bin/python -m pytest tests/test_faults.py --write-reliability
# A plain run checks that the committed file is up to date, and never writes it.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--write-reliability",
        action="store_true",
        help="rewrite docs/reliability.md from this run's fault scenarios (all must run)",
    )


@pytest.fixture(scope="session")
def reliability_log(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Collects the fault-scenario rows of this session; with ``--write-reliability``,
    writes docs/reliability.md at the end (only when every scenario ran)."""
    import reliability

    log = reliability.ReliabilityLog()
    yield log
    if request.config.getoption("--write-reliability"):
        log.publish()


@pytest.fixture
def clean_runner(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A click ``CliRunner`` in an environment without gate, GitHub or Huawei Cloud variables."""
    import os

    from click.testing import CliRunner

    for name in list(os.environ):
        if name.startswith(("CODEARTS_", "GITHUB_", "HUAWEI_CLOUD_")):
            monkeypatch.delenv(name)
    return CliRunner()
