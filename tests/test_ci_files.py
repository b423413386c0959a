"""The CI integration files, checked by the validators their ecosystems use and against
the CLI they configure: action.yml, the workflows, the examples, the Dockerfile."""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from gaterun import GATE, clean_env
from ruamel.yaml import YAML

from gate import github
from gate.core import error_verdict
from gate.errors import NetworkError
from gate.settings import OutputPaths

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CI_DOC = REPO / "README.md"
SCHEMAS = {
    "action.yml": "vendor.github-actions",
    ".github/workflows/selftest.yml": "vendor.github-workflows",
    ".github/workflows/release.yml": "vendor.github-workflows",
    "examples/github-workflow.yml": "vendor.github-workflows",
    "examples/gitlab-ci.yml": "vendor.gitlab-ci",
    "examples/github-workflow-pip.yml": "vendor.github-workflows",
    ".github/dependabot.yml": "vendor.dependabot",
}
INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([a-z0-9-]+)\s*\}\}")


def load_yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def run_tool(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120, check=False
    )


@functools.cache
def help_variables() -> set[str]:
    """The CODEARTS_* variables that ``codearts-gate --help`` lists as ``[env var: ...]``."""
    proc = run_tool(str(GATE), "--help")
    assert proc.returncode == 0, proc.stderr
    listed = re.findall(r"\[env\s+var:\s*([^\]]+)\]", proc.stdout)
    names = {name.strip() for group in listed for name in group.split(",")}
    return {name for name in names if name.startswith("CODEARTS_")}


# ---------------------------------------------------------------- validators


@pytest.mark.parametrize("relative", SCHEMAS)
def test_file_is_valid_against_its_schemastore_schema(require_tool, relative):
    proc = run_tool(
        require_tool("check-jsonschema"), "--builtin-schema", SCHEMAS[relative], relative
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("schema", "broken"),
    [
        ("vendor.github-actions", "name: x\ndescription: y\nruns:\n  using: dockr\n"),
        ("vendor.github-workflows", "on: push\njobs:\n  j:\n    runs-on: x\n    stepz: []\n"),
        ("vendor.gitlab-ci", "job:\n  script: [x]\n  artifacts:\n    when: sometimes\n"),
        ("vendor.dependabot", "version: 2\nupdates:\n  - package-ecosystem: pipx\n"),
    ],
)
def test_the_schema_validators_do_reject_a_broken_file(require_tool, tmp_path, schema, broken):
    path = tmp_path / "broken.yml"
    path.write_text(broken, encoding="utf-8")
    proc = run_tool(require_tool("check-jsonschema"), "--builtin-schema", schema, str(path))
    assert proc.returncode != 0


def test_dockerfile_is_hadolint_clean(require_tool):
    proc = run_tool(require_tool("hadolint"), "Dockerfile")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_does_flag_a_sloppy_dockerfile(require_tool, tmp_path):
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text("FROM python:latest\nRUN pip install requests\n", encoding="utf-8")
    assert run_tool(require_tool("hadolint"), str(sloppy)).returncode != 0


def test_docker_run_example_is_shellcheck_clean(require_tool):
    proc = run_tool(require_tool("shellcheck"), "examples/docker-run.sh")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------- action.yml and the CLI


FORGE_TOKENS = {"github-token": "GITHUB_TOKEN"}
"""Inputs passed under the forge's own variable name (the --comment token), not CODEARTS_*."""


def test_action_inputs_map_one_to_one_onto_the_variables_the_cli_lists():
    action = load_yaml(REPO / "action.yml")
    env = action["runs"]["env"]
    own = set(env) - set(FORGE_TOKENS.values())
    assert own == help_variables(), "runs.env and `codearts-gate --help` disagree"
    used = []
    for variable, value in env.items():
        match = INPUT_REF.fullmatch(str(value).strip())
        assert match, f"{variable} is not exactly one input: {value!r}"
        expected = FORGE_TOKENS.get(match[1], "CODEARTS_" + match[1].upper().replace("-", "_"))
        assert variable == expected
        used.append(match[1])
    assert sorted(used) == sorted(action["inputs"]), "every input reaches exactly one variable"


def test_action_runs_the_dockerfile_and_declares_the_outputs_it_writes():
    action = load_yaml(REPO / "action.yml")
    assert action["runs"]["using"] == "docker" and action["runs"]["image"] == "Dockerfile"
    written = github.output_values(error_verdict(NetworkError("x")), OutputPaths())
    assert set(action["outputs"]) == set(written)
    assert action["branding"]["icon"] and action["branding"]["color"]


def test_the_action_junit_default_is_a_relative_path():
    default = load_yaml(REPO / "action.yml")["inputs"]["junit"]["default"]
    assert default and not default.startswith("/")


def test_selftest_uses_the_local_action_on_bundled_reports():
    workflow = load_yaml(REPO / ".github/workflows/selftest.yml")
    steps = workflow["jobs"]["action"]["steps"]
    gate = next(step for step in steps if step.get("uses") == "./")
    assert gate["continue-on-error"] is True and gate["id"] == "gate"
    for case in workflow["jobs"]["action"]["strategy"]["matrix"]["include"]:
        assert (REPO / case["report"]).is_file(), case["report"]
        result = run_tool(
            str(GATE), "--report-file", case["report"], "--on-error", case["on-error"]
        )
        assert str(result.returncode) == case["want-exit-code"], case["name"]


def test_release_builds_both_architectures_and_may_push_packages():
    workflow = load_yaml(REPO / ".github/workflows/release.yml")
    assert workflow["on"]["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+"]
    job = workflow["jobs"]["image"]
    assert job["permissions"]["packages"] == "write"
    build = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("docker/build-push"))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["push"] is True


# ---------------------------------------------------------------- examples


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.is_file())


@pytest.mark.parametrize("example", example_files(), ids=lambda p: p.name)
def test_every_example_is_linked_from_the_ci_docs(example):
    assert f"](examples/{example.name})" in CI_DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", [*example_files(), CI_DOC], ids=lambda p: p.name)
def test_examples_only_use_variables_the_cli_knows(example):
    used = set(re.findall(r"\bCODEARTS_(?!GATE_)[A-Z_]*[A-Z]", example.read_text(encoding="utf-8")))
    assert used, f"{example.name} configures nothing"
    known = help_variables() | {"CODEARTS_GITLAB_TOKEN"}  # read by --comment, never a flag
    assert used <= known, used - known


def test_gitlab_example_clears_the_entrypoint_and_keeps_junit_always():
    job = load_yaml(EXAMPLES / "gitlab-ci.yml")["codearts-gate"]
    assert job["image"]["entrypoint"] == [""]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == job["variables"]["CODEARTS_JUNIT"]
    assert job["retry"]["exit_codes"] == [4]


def test_jenkinsfile_binds_the_secret_and_never_lets_groovy_interpolate_a_shell_step():
    text = (EXAMPLES / "Jenkinsfile").read_text(encoding="utf-8")
    assert "withCredentials(" in text and "junit " in text
    shell_steps = re.findall(r"\bsh\b\s*\(?\s*(?:[a-zA-Z]+:\s*\w+,\s*)*(?:script:\s*)?(\S)", text)
    assert shell_steps and set(shell_steps) == {"'"}, shell_steps
    assert '"""' not in text


def test_docker_run_example_passes_secrets_by_name_and_runs_as_the_caller():
    text = (EXAMPLES / "docker-run.sh").read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    words = shlex.split(text, comments=True)
    assert "-e" in words and "CODEARTS_TOKEN" in words
    assert not any(w.startswith("CODEARTS_TOKEN=") for w in words)
    assert '--user "$(id -u):$(id -g)"' in text and '-v "$PWD:/work" -w /work' in text
    syntax = run_tool("bash", "-n", "examples/docker-run.sh")
    assert syntax.returncode == 0, syntax.stderr


def run_docker_example(
    tmp_path: Path, docker_exits: str, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run examples/docker-run.sh with a fake ``docker`` that logs its arguments and ends
    with the shell code ``docker_exits``; the process and the logged calls."""
    calls = tmp_path / "calls"
    fake_docker = tmp_path / "docker"
    log = shlex.quote(str(calls))
    fake_docker.write_text(
        f'#!/bin/sh\necho "$*" >> {log}\nn=$(wc -l < {log})\n{docker_exits}\n', encoding="utf-8"
    )
    fake_docker.chmod(0o755)
    env = clean_env(PATH=f"{tmp_path}:/usr/bin:/bin", CODEARTS_GATE_IMAGE="gate:test", **env)
    script = EXAMPLES / "docker-run.sh"
    proc = subprocess.run(
        ["bash", "-c", f'sleep() {{ :; }}; export -f sleep; "{script}" "$@"', "-", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc, calls.read_text(encoding="utf-8").splitlines()


def test_docker_run_example_runs_and_retries_only_on_exit_4(tmp_path):
    exits = '[ "$n" -lt 2 ] && exit 4\nexit 1'
    proc, lines = run_docker_example(tmp_path, exits, "--max", "minor=5")
    assert proc.returncode == 1 and len(lines) == 2, proc.stderr
    assert lines[0].startswith("run --rm") and lines[0].endswith(f"gate:test {OUTPUT_ARGS}")


def test_docker_run_example_passes_and_mounts_the_secret_files(tmp_path):
    files = {
        "CODEARTS_SK_FILE": "/run/secrets/codearts sk",
        "CODEARTS_IAM_PASSWORD_FILE": "/run/secrets/pw",
    }
    proc, [call] = run_docker_example(tmp_path, "exit 0", **files)
    assert proc.returncode == 0, proc.stderr
    for variable, path in files.items():
        assert f"-e {variable} " in call and f"-v {path}:{path}:ro " in call
    assert "-e CODEARTS_TOKEN_FILE " in call and call.count(":ro ") == 2


OUTPUT_ARGS = (
    "--junit codearts-gate-junit.xml --summary codearts-gate-summary.md "
    "--json codearts-gate.json --max minor=5"
)


# ---------------------------------------------------------------- Dockerfile


def dockerfile_copies() -> list[str]:
    sources = []
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += words[1:-1]
    return sources


def test_dockerignore_lets_in_everything_the_dockerfile_copies():
    allowed = {
        line[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    sources = dockerfile_copies()
    assert sources and set(sources) <= allowed, set(sources) - allowed
    assert all((REPO / source).exists() for source in sources)


def test_dockerfile_final_stage_runs_as_root_with_the_gate_as_exec_entrypoint():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    final = text[text.rindex("\nFROM ") :]
    assert 'ENTRYPOINT ["codearts-gate"]' in final
    assert not re.search(r"^\s*(USER|WORKDIR)\b", final, flags=re.MULTILINE)
    assert "PYTHONUNBUFFERED=1" in final and "PYTHONDONTWRITEBYTECODE=1" in final
    bases = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert len(bases) == 2 and bases[0] == bases[1], "both stages share one interpreter"
    assert re.fullmatch(r"python:3\.\d+-slim-\w+@sha256:[0-9a-f]{64}", bases[0]), bases[0]
