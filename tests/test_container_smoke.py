"""Smoke test of the container image without a Docker engine.

A fresh venv is built exactly as the Dockerfile builds the image's (the build stage's
RUN lines, read from the Dockerfile: its venvs, the hash-checked ``pip install`` of
requirements-build.txt and docker/requirements.txt, the wheel build, with the same flags; only
where pip itself lives differs, see ``image_install_steps``), then
its ``codearts-gate`` entrypoint runs as the GitHub runner would start the action:
``GITHUB_ACTIONS=true``, ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY`` files, the
workspace as working directory, and the ``CODEARTS_*`` variables that action.yml's
``runs.env`` makes of the step's inputs. The same hash-pinned build tools then build the
sdist as the release does: its file list is checked, and a second build gives the same
bytes.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from gaterun import JOB, clean_env, parse_output_file
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([a-z0-9-]+)\s*\}\}")

pytestmark = pytest.mark.slow


def run_lines(dockerfile: Path) -> list[str]:
    """The build stage's RUN commands, continuation lines joined."""
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    build = text.split("\nFROM ")[1]  # the first stage: the final one only copies the venv
    return [line.split(None, 1)[1] for line in build.splitlines() if line.startswith("RUN ")]


IMAGE_PATH = re.compile(r"/(opt|tmp)/")


def local_path(word: str, root: Path) -> str:
    """An image path under /opt or /tmp, moved under ``root``; other words unchanged."""
    return str(root / word[1:]) if IMAGE_PATH.match(word) else word


def pip_for(venv: Path) -> list[str]:
    """The command of ``venv``'s pip: this interpreter's pip, aimed at it (``--python``)."""
    return [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]


def image_install_steps(dockerfile: Path, root: Path) -> list[list[str]]:
    """The build stage's commands (venvs, pip, build), with image paths moved under ``root``.

    Every RUN line must be replayable here: a command this cannot map fails the test
    rather than being skipped. One thing differs from the image, for speed: a venv is
    created ``--without-pip``, and its ``bin/pip`` runs as this interpreter's pip aimed
    at it (``pip --python``, the same pip code run by the venv's interpreter). Installing
    pip into each venv (ensurepip) cost more CPU than every other step together, and pip
    itself is no part of what the image runs. The pip commands, their flags, requirement
    files and hashes are the Dockerfile's own, so a broken install step still fails here.
    """
    steps = []
    for command in (shlex.split(line) for line in run_lines(dockerfile)):
        if command[:3] == ["python", "-m", "venv"]:
            venv = local_path(command[3], root)
            steps.append([sys.executable, "-m", "venv", "--without-pip", venv])
        elif command[0].endswith("/bin/pip"):
            venv = Path(local_path(command[0], root)).parents[1]
            steps.append(pip_for(venv) + [local_path(word, root) for word in command[1:]])
        else:
            assert IMAGE_PATH.match(command[0]), f"cannot replay outside the image: {command}"
            steps.append([local_path(word, root) for word in command])
    assert len(steps) >= 3, f"expected venv creation and pip installs in {dockerfile}"
    return steps


def runtime_venv(dockerfile: Path, root: Path) -> Path:
    """Where the venv that the final stage copies from the build stage was replayed."""
    text = dockerfile.read_text(encoding="utf-8")
    (copied,) = re.findall(r"^COPY --from=build (\S+) ", text, flags=re.MULTILINE)
    return Path(local_path(copied, root))


def image_env(**extra: str) -> dict[str, str]:
    """The environment of the Dockerfile's stages: its ``PYTHONDONTWRITEBYTECODE=1``, and
    not the test session's ``PYTHONPYCACHEPREFIX`` (tests/conftest.py), which would send
    the bytecode pip compiles for the venv elsewhere and leave the image's own unused."""
    env = clean_env(PYTHONDONTWRITEBYTECODE="1", **extra)
    env.pop("PYTHONPYCACHEPREFIX", None)
    return env


@pytest.fixture(scope="session")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv installed the way the Dockerfile installs the image's (once per session)."""
    root = tmp_path_factory.mktemp("image")
    for step in image_install_steps(REPO / "Dockerfile", root):
        env = image_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
        proc = subprocess.run(
            step, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert proc.returncode == 0, f"{shlex.join(step)}\n{proc.stdout}\n{proc.stderr}"
    return runtime_venv(REPO / "Dockerfile", root)


def test_the_image_venv_holds_exactly_the_locked_dependencies(image_venv):
    pip = pip_for(image_venv)
    check = subprocess.run(
        [*pip, "check"], capture_output=True, text=True, timeout=120, check=False
    )
    assert check.returncode == 0, f"docker/requirements.txt misses a dependency:\n{check.stdout}"
    frozen = subprocess.run(
        [*pip, "freeze", "--exclude", "codearts-gate"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    lock = (REPO / "docker" / "requirements.txt").read_text(encoding="utf-8").replace("\\\n", " ")
    entries = [line.split() for line in lock.splitlines() if line and line[0] not in "# "]
    pins = [entry[0] for entry in entries]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[^=\s]+", pin) for pin in pins), pins
    assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", h) for e in entries for h in e[1:])
    assert all(len(entry) > 1 for entry in entries), "every pin carries its hashes"
    assert sorted(frozen, key=str.lower) == sorted(pins, key=str.lower)


# ---------------------------------------------------------------- the sdist


def build_sdist(image_venv: Path, outdir: Path) -> Path:
    """The sdist, built as the release's dist job builds it: with the hash-pinned tools
    the image's build stage installed (replayed above), without build isolation."""
    python = image_venv.parent / "build-tools" / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-m", "build", "--sdist", "--no-isolation", "--outdir", str(outdir), "."],
        cwd=REPO,
        env=image_env(SOURCE_DATE_EPOCH="1700000000"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (sdist,) = outdir.glob("*.tar.gz")
    return sdist


def test_the_sdist_holds_the_code_and_its_papers_only_and_builds_reproducibly(image_venv, tmp_path):
    sdist = build_sdist(image_venv, tmp_path / "one")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames()}
    code = {str(p.relative_to(REPO)) for p in (REPO / "gate").rglob("*.py")}
    papers = {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO", "docker/requirements.txt"}
    assert names == code | papers | {".gitignore"}  # hatchling always adds .gitignore
    again = build_sdist(image_venv, tmp_path / "two")
    assert again.read_bytes() == sdist.read_bytes(), "SOURCE_DATE_EPOCH: the same bytes"


# ---------------------------------------------------------------- the final stage


def final_stage_runs(dockerfile: Path) -> list[str]:
    """The final stage's RUN commands, continuation lines joined."""
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    final = text.split("\nFROM ")[-1]
    return [line.split(None, 1)[1] for line in final.splitlines() if line.startswith("RUN ")]


GIT_PIN = re.compile(r"git=(1:[0-9.]+-[0-9]+\+deb12u[0-9]+)")


def test_the_final_stage_only_installs_git_from_debian_by_exact_version():
    """The one RUN line of the final stage is NOT replayed here (it needs root and apt on
    the base image's Debian): its form is checked instead, so that nothing else hides
    in the final stage and the image keeps no apt lists."""
    (run,) = final_stage_runs(REPO / "Dockerfile")
    commands = [" ".join(command.split()) for command in run.split("&&")]
    assert commands[0] == "apt-get update"
    assert re.fullmatch(
        r"apt-get install -y --no-install-recommends " + GIT_PIN.pattern, commands[1]
    )
    assert commands[2:] == ["rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log"]


def test_the_pinned_git_is_a_version_debian_bookworm_offers():
    """Checked against this machine's apt sources when it is a Debian 12 with package
    lists (the base image is bookworm); skipped, saying why, anywhere else."""
    release_file = Path("/etc/os-release")
    if shutil.which("apt-cache") is None or not release_file.is_file():
        pytest.skip("no apt-cache here: the git pin is checked on Debian 12 machines only")
    if "VERSION_CODENAME=bookworm" not in release_file.read_text(encoding="utf-8"):
        pytest.skip("not Debian bookworm: its git versions differ from the base image's")
    proc = subprocess.run(
        ["apt-cache", "madison", "git"], capture_output=True, text=True, timeout=60, check=False
    )
    offered = {line.split("|")[1].strip() for line in proc.stdout.splitlines() if "|" in line}
    if not offered:
        pytest.skip("apt has no package lists here (run apt-get update to check the git pin)")
    (match,) = GIT_PIN.finditer(final_stage_runs(REPO / "Dockerfile")[0])
    assert match[1] in offered, f"git {match[1]} is not offered by bookworm: {sorted(offered)}"


# ---------------------------------------------------------------- the runner's side


def action_env(inputs: dict[str, str]) -> dict[str, str]:
    """What the runner sets for the step: INPUT_* plus runs.env, inputs substituted."""
    action = YAML(typ="safe").load((REPO / "action.yml").read_text(encoding="utf-8"))
    unknown = set(inputs) - set(action["inputs"])
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values = {
        name: inputs.get(name, str(spec.get("default", "")))
        for name, spec in action["inputs"].items()
    }
    env = {f"INPUT_{name.upper()}": value for name, value in values.items()}
    for variable, template in action["runs"]["env"].items():
        env[variable] = INPUT_REF.sub(lambda m: values[m[1]], str(template))
    return env


@dataclass
class StepRun:
    """One run of the action's entrypoint."""

    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    workspace: Path

    def files_text(self) -> str:
        files = [p for p in self.workspace.parent.rglob("*") if p.is_file()]
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def run_step(venv: Path, tmp_path: Path, inputs: dict[str, str]) -> StepRun:
    """Start the entrypoint as the runner starts a container action."""
    workspace, commands = tmp_path / "workspace", tmp_path / "file_commands"
    workspace.mkdir()
    commands.mkdir()
    output, summary = commands / "set_output", commands / "step_summary"
    output.touch()
    summary.touch()
    env = image_env(
        PYTHONUNBUFFERED="1",  # the final stage's ENV, as PYTHONDONTWRITEBYTECODE
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_WORKSPACE=str(workspace),
        **action_env(inputs),
    )
    proc = subprocess.run(
        [str(venv / "bin" / "codearts-gate")],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outputs = parse_output_file(output.read_text(encoding="utf-8"))
    text = summary.read_text(encoding="utf-8")
    return StepRun(proc.returncode, proc.stdout, proc.stderr, outputs, text, workspace)


def gate_inputs(fake, **extra: str) -> dict[str, str]:
    return {
        "job-id": JOB,
        "endpoint": fake.url,
        "token": fake.token,
        "json": "reports/result.json",
        **extra,
    }


def assert_token_only_masked(step: StepRun, token: str) -> None:
    """The mask is the very first line, and the token appears nowhere else."""
    first, *rest = step.stdout.splitlines()
    assert first == f"::add-mask::{token}"
    everything = "\n".join([*rest, step.stderr, step.files_text()])
    assert token not in everything


# ---------------------------------------------------------------- the action in its image


def test_a_passing_report_passes_the_step_with_outputs_and_summary(
    image_venv, tmp_path, fake_api_factory
):
    fake = fake_api_factory(scenario="pass")
    step = run_step(image_venv, tmp_path, gate_inputs(fake))
    assert step.code == 0, step.stdout + step.stderr
    assert step.outputs == {
        "verdict": "passed",
        "exit-code": "0",
        "critical": "0",
        "major": "0",
        "new": "0",
        "report-url": fake.report["REPORT_URL"],
        "junit-path": "codearts-gate-junit.xml",
        "job-id": JOB,
        "tasks": "[]",  # one task: the list is for several in one step
    }
    assert (step.workspace / "codearts-gate-junit.xml").is_file()
    assert json.loads((step.workspace / "reports/result.json").read_text())["verdict"] == "passed"
    assert step.summary.startswith("## ✅ CodeArts Check gate passed")
    assert "::group::" in step.stdout and "::endgroup::" in step.stdout
    assert "::error" not in step.stdout
    assert_token_only_masked(step, fake.token)
    assert [r.header("X-Auth-Token") for r in fake.requests] == [fake.token]


def test_a_failing_report_fails_the_step_with_annotations(image_venv, tmp_path, fake_api_factory):
    fake = fake_api_factory(scenario="fail")
    inputs = gate_inputs(fake, **{"max-critical": "0", "max": "minor=200", "junit": "out/j.xml"})
    step = run_step(image_venv, tmp_path, inputs)
    assert step.code == 1, step.stdout + step.stderr
    assert (step.outputs["verdict"], step.outputs["exit-code"]) == ("failed", "1")
    assert (step.outputs["major"], step.outputs["new"]) == ("4", "122")
    assert step.outputs["junit-path"] == "out/j.xml"
    assert "<failure" in (step.workspace / "out/j.xml").read_text(encoding="utf-8")
    titles = re.findall(r"^::error title=([^:]*)::", step.stdout, flags=re.MULTILINE)
    assert titles == [
        "CodeArts Check gate%3A major over its maximum",
        "CodeArts Check gate%3A new over its maximum",
    ]
    assert step.summary.startswith("## ❌ CodeArts Check gate failed")
    assert_token_only_masked(step, fake.token)


def test_no_verdict_with_on_error_warn_passes_the_step_with_a_warning(
    image_venv, tmp_path, fake_api_factory
):
    fake = fake_api_factory(scenario="hang")
    inputs = gate_inputs(fake, **{"on-error": "warn", "timeout": "1"})
    step = run_step(image_venv, tmp_path, inputs)
    assert step.code == 0, step.stdout + step.stderr
    assert (step.outputs["verdict"], step.outputs["exit-code"]) == ("error", "0")
    assert step.outputs["critical"] == ""
    assert re.search(r"^::warning title=[^:]*no verdict::timeout: ", step.stdout, re.MULTILINE)
    assert "::error" not in step.stdout
    assert_token_only_masked(step, fake.token)
