"""Shared pytest fixtures."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeCodeArts
from httpmock import http_mock  # noqa: F401 - the fixture, for every test file
from hypothesis import settings
from validators import shared_schema, unavailable

# --------------------------------------------------------------------------- hypothesis
# "dev" (the default) explores anew on every run; "ci" (CI=true, or HYPOTHESIS_PROFILE=ci)
# draws fewer examples, the same ones on every run, so a red CI reproduces. Tests that name
# their own count scale it with budget.examples(n), which follows the profile.
settings.register_profile("dev", max_examples=100)
settings.register_profile("ci", max_examples=30, derandomize=True, deadline=None, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)


# --------------------------------------------------------------------------- parallel runs

TOGETHER = frozenset(
    {"tests/test_faults.py", "tests/test_container_smoke.py", "tests/test_task_defects.py"}
)
"""Test files whose tests share one costly fixture (the fault scenarios run in parallel
threads, the image's venv, a gate run of three tasks): each runs whole on one process so
that it is made once."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: more processes than cores, since many tests wait on real seconds (a gate
    subprocess polling the fake, a timeout run out) while the cores could run others. On 2
    cores, 4 processes ran the waiting tests 14% faster than 2, on a busy machine; once the
    gate started faster (no requests), 6 ran the whole suite in 95 s against 110 s for 4,
    side by side, for 6% more CPU."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(3 * (cores or 1), (cores or 1) + 4)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist load`` (test by test, to whichever process is free), except that the files
    of ``TOGETHER`` go whole to one process: what ``--dist loadgroup`` would do, were its
    marks not lost under pytest 9.2 (it rewrites a node id that pytest no longer reads)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path in TOGETHER else nodeid

    return SharedFixtureScheduling(config, log)


# --------------------------------------------------------------------------- bytecode


def pytest_configure(config: pytest.Config) -> None:
    """The gate runs as hundreds of fresh processes: let them share compiled bytecode.

    With PYTHONDONTWRITEBYTECODE set (as in the image and on CI machines) an editable
    install recompiles the whole package in every process. This session (its test
    modules, imported from here on) and the processes it starts (the xdist workers, the
    gates) cache it in a private folder instead; the checkout is left untouched."""
    if hasattr(config, "workerinput") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return  # an xdist worker (the controller set it up), or the user's own choice
    folder, kept = bytecode_folder()
    if not kept:
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    cold = not any(folder.iterdir())
    os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix = str(folder)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    if cold and len(getattr(config.option, "tx", None) or ()) > 1:
        warm_bytecode(config)


def bytecode_folder() -> tuple[Path, bool]:
    """Where this session's processes cache bytecode, and whether the folder is kept.

    In a venv (the README's set-up), a private folder inside it, kept from one run to the
    next: a cold one cost each xdist worker 5 to 6 s of CPU to compile the test modules
    (assertion rewriting), the gate and the libraries again (a folder of bytecode holds
    none of site-packages' own), about 20 s of CPU a run on 4 workers. Python checks every
    cached file against its source (time and size), so a stale one is never used, and
    writes them atomically, so the workers and gates may share the folder. Elsewhere, a
    fresh temporary folder, removed after the run."""
    venv = Path(sys.prefix)
    if sys.prefix != sys.base_prefix and os.access(venv, os.W_OK):
        folder = venv / "pycache"
        folder.mkdir(mode=0o700, exist_ok=True)
        # What earlier runs compiled under the temporary folder (copies of the gate, the
        # fakes' scripts) is never read again: dropped, so that the folder does not grow.
        temporary = Path(tempfile.gettempdir()).resolve()
        shutil.rmtree(folder / temporary.relative_to(temporary.anchor), ignore_errors=True)
        return folder, True
    return Path(tempfile.mkdtemp(prefix="codearts-gate-pycache-")), False


def warm_bytecode(config: pytest.Config) -> None:
    """Fill an empty bytecode folder before the xdist workers start: one process collects
    the tests (compiling them and all they import), and the workers then find it done,
    where each of them compiled it all at once (a new venv: CI, a fresh clone), four
    times the CPU. Its outcome is not judged: the workers collect again and report."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0"]
    command += ["-p", "no:randomly", "-p", "no:cacheprovider", *config.args]
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            command,
            cwd=config.invocation_params.dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )


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
