"""Each flow imports only what it uses: the installed gate, run as a pipeline runs it, lists
the modules it imported (``sys.modules`` when it exits; ``-X importtime`` would miss those
loaded by ``importlib.import_module``, such as the formats), and a module that a flow has no
use for fails the test, so that a slower start shows up here rather than in every pipeline.

The table ``MAY_IMPORT`` says which flows may import each costly module; a module not in
it is free for all. A new flow that imports a module lazily adds one line there (and its
command line to ``FLOWS``); ``MUST_IMPORT`` keeps each flow honest (it really ran).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fakeapi import FakeCodeArts
from gaterun import GATE, JOB, clean_env

REPO = Path(__file__).resolve().parents[1]
REPORT = str(REPO / "examples" / "reports" / "api-example.json")
TASK = "7c0ffee0000000000000000000000001"

NETWORK = {"job", "task-run", "task-defects"}
TASKS = {"task-run", "task-defects"}

MAY_IMPORT: dict[str, set[str]] = {
    # the command line: click only for what a person types by hand
    "click": {"version", "help"},
    # HTTP only for the flows that call the service, on the standard library's client
    "requests": set(),
    "urllib3": set(),
    "http.client": NETWORK,
    "gate.api.http": NETWORK,
    "ssl": NETWORK,  # http.client loads it; the trust store (certifi) only for https://
    "certifi": set(),  # the fake here speaks http://
    "email.utils": NETWORK,
    "gate.api.transport": NETWORK,
    "gate.api.refresh": NETWORK,
    "gate.api.iam": NETWORK,
    "gate.signing": NETWORK,
    "hashlib": NETWORK,  # AK/SK signatures, the defects' fingerprints
    "tempfile": set(),  # the gate writes its files without it
    "random": NETWORK,  # retry jitter, the adaptive wait
    # waiting only for a task
    "gate.waiting": TASKS,
    "gate.heartbeat": TASKS,
    "gate.api.scan": TASKS,
    "gate.api.tasks": TASKS,
    # defects only when asked for
    "gate.defect_run": {"task-defects"},
    "gate.api.defects": {"task-defects"},
    "gate.paths": {"task-defects"},
    "gate.formats.sarif": {"task-defects"},
    "gate.formats.codequality": set(),  # not asked for in any flow here
    "gate.formats.junit_defects": set(),
    # the diagnosis only with --check
    "gate.doctor": set(),
    # baselines and suppressions only where they are used (no flow here asks for them)
    "gate.baseline": TASKS,  # the task's history
    "gate.suppressions": {"task-defects"},  # the defect run keeps the suppression ledger
    "tomllib": set(),
    "datetime": NETWORK | {"version", "help"},  # email.utils, signatures, history; click
    # records are gate.structs: dataclasses (and the inspect, ast, dis it imports) only for
    # the transport's own records, and inspect for click
    "dataclasses": NETWORK,
    "inspect": NETWORK | {"version", "help"},
    # typing only for the annotations' checker (gate.structs has NamedTuple), and click,
    # requests; the secrets' HTML and base64 forms without html (its entities) or base64
    "typing": NETWORK | {"version", "help"},
    "html": set(),
    "base64": NETWORK,
}

MUST_IMPORT: dict[str, set[str]] = {
    "version": {"click"},
    "help": {"click", "gate.metrics"},
    "offline": {"gate.formats.junit", "gate.formats.markdown", "gate.formats.jsonfmt"},
    "job": {"gate.api.http", "gate.api.refresh", "gate.formats.junit"},
    "task-run": {"gate.api.scan", "gate.waiting", "gate.heartbeat"},
    "task-defects": {"gate.defect_run", "gate.api.defects", "gate.formats.sarif"},
}


LISTING = """\
import atexit, sys
listing, script = sys.argv[1:3]
atexit.register(lambda: open(listing, "w", encoding="utf-8").write("\\n".join(sys.modules)))
sys.argv = sys.argv[2:]
with open(script, encoding="utf-8") as source:
    code = compile(source.read(), script, "exec")
exec(code, {"__name__": "__main__", "__file__": script})
"""
"""Runs the console script as is, and writes the modules it left loaded when it exits
(not through runpy: it imports pkgutil, and with it typing)."""


def imported(args: list[str], env: dict[str, str], folder: Path) -> tuple[int, set[str], str]:
    """Run the installed command; its exit code, the modules it imported, its stderr."""
    listing = folder / "modules.txt"
    proc = subprocess.run(
        [sys.executable, "-c", LISTING, str(listing), str(GATE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, set(listing.read_text(encoding="utf-8").split()), proc.stderr


def flow_args(flow: str, api: FakeCodeArts, folder: Path) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of one flow, outputs into ``folder``."""
    outputs = [f"--junit={folder}/j.xml", f"--summary={folder}/s.md", f"--json={folder}/r.json"]
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token)
    args = {
        "version": ["--version"],
        "help": ["--help"],
        "offline": ["--report-file", REPORT, *outputs],
        "job": ["--job-id", JOB, *outputs],
        "task-run": ["--task-id", TASK, "--run", *outputs],
        "task-defects": ["--task-id", TASK, f"--sarif={folder}/d.sarif", *outputs],
    }[flow]
    return args, env


EXIT = {"version": 0, "help": 0, "offline": 1, "job": 0, "task-run": 0, "task-defects": 0}


@pytest.mark.parametrize("flow", sorted(MUST_IMPORT))
def test_each_flow_imports_only_what_it_uses(flow, fake_api, tmp_path):
    fake_api.add_task(TASK, length=0.0)
    args, env = flow_args(flow, fake_api, tmp_path)
    code, modules, stderr = imported(args, env, tmp_path)
    assert code == EXIT[flow], stderr
    unwanted = sorted(m for m, flows in MAY_IMPORT.items() if m in modules and flow not in flows)
    assert not unwanted, f"{flow} imports {unwanted}: import them lazily, where they are used"
    missing = sorted(MUST_IMPORT[flow] - modules)
    assert not missing, f"{flow} did not import {missing}: did the flow run at all?"


def test_the_table_names_real_modules():
    """A misspelt module in the table would never be seen imported: each one exists."""
    import importlib.util

    for name in [*MAY_IMPORT, *(m for ms in MUST_IMPORT.values() for m in ms)]:
        assert importlib.util.find_spec(name) is not None, name
