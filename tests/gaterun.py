"""Running the installed ``codearts-gate`` command as a subprocess, as a pipeline would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

GATE = Path(sys.executable).with_name("codearts-gate")
JOB = "2b31ed520aaaaaaebedb6e57bbbbbbbb"


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any gate, GitHub or Huawei Cloud settings."""
    prefixes = ("CODEARTS_", "GITHUB_", "HUAWEI_CLOUD_", "RUNNER_", "CI_", "GITLAB_", "CHANGE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.pop("GIT_COMMIT", None)  # Jenkins': the tests say which CI they play
    env.pop("JENKINS_URL", None)
    env.update({"NO_PROXY": "*", **extra})
    return env


@dataclass
class GateRun:
    """What one run left behind: exit code, stdout, stderr and the output files."""

    code: int
    stdout: str
    stderr: str
    folder: Path

    @property
    def junit(self) -> ET.Element:
        return ET.parse(self.folder / "junit.xml").getroot()

    @property
    def json(self) -> dict[str, object]:
        return json.loads((self.folder / "result.json").read_text(encoding="utf-8"))

    @property
    def summary(self) -> str:
        return (self.folder / "summary.md").read_text(encoding="utf-8")

    def everything(self) -> str:
        """All text the run produced: streams and every file written."""
        files = [p.read_text(encoding="utf-8") for p in self.folder.rglob("*") if p.is_file()]
        return "\n".join([self.stdout, self.stderr, *files])


def run_gate(
    folder: Path, *args: str, env: dict[str, str], timeout: float = 60, cwd: Path | None = None
) -> GateRun:
    """Run the gate with all three outputs in ``folder`` (in ``cwd``: the checkout)."""
    outputs = [f"--junit={folder}/junit.xml", f"--summary={folder}/summary.md"]
    outputs.append(f"--json={folder}/result.json")
    proc = subprocess.run(
        [str(GATE), *args, *outputs],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    return GateRun(proc.returncode, proc.stdout, proc.stderr, folder)


def parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: ``name<<DELIM`` blocks (heredoc entries only)."""
    lines, values, i = text.split("\n"), {}, 0
    while i < len(lines) and lines[i]:
        name, sep, delimiter = lines[i].partition("<<")
        assert sep, f"not a heredoc entry: {lines[i]!r}"
        end = lines.index(delimiter, i + 1)
        values[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return values
