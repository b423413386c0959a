"""One version: gate/__init__.py. The package metadata, `--version`, the User-Agent and the
release tag (scripts/release.py) all read it from there."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
from pathlib import Path

import pytest
from gaterun import GATE, clean_env

import gate

REPO = Path(__file__).resolve().parents[1]


def test_the_version_is_a_plain_release_number():
    assert re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", gate.__version__)


def test_the_package_metadata_takes_its_version_from_gate_init():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["dynamic"] == ["version"] and "version" not in project["project"]
    assert project["tool"]["hatch"]["version"]["path"] == "gate/__init__.py"


def test_the_installed_distribution_reports_the_same_version():
    # A mismatch here means this venv was installed from an older checkout: reinstall.
    assert importlib.metadata.version("codearts-gate") == gate.__version__


def test_the_command_prints_exactly_its_name_and_version():
    proc = subprocess.run(
        [str(GATE), "--version"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"codearts-gate, version {gate.__version__}\n"
