"""The CI integration files, checked by the validators their ecosystems use and against
the CLI they configure: action.yml, the workflows, the examples, the Dockerfile."""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from gaterun import GATE, clean_env
from ruamel.yaml import YAML

from gate import cli, github
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
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".github/workflows/codeql.yml": "vendor.github-workflows",
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
    assert "push=true" in build["with"]["outputs"].split(",")


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
    known |= ANNOUNCED if example.name == "docker-run.sh" else set()
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


ANNOUNCED = frozenset({"CODEARTS_GITLAB_TOKEN", "CODEARTS_CONFIG"})
"""Variables of options that other branches of issue 17 add: docker-run.sh passes them
already (once they are in the CLI, the comparisons below hold without this)."""
FLAG_VARIABLES = frozenset(cli.ENV_FLAGS.values())  # --run etc.: read by the CLI itself
OTHER_SETTINGS = frozenset(
    {
        *("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY"),
        *("https_proxy", "http_proxy", "no_proxy", "all_proxy"),
        *("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"),
        *("CI_COMMIT_REF_NAME", "CHANGE_BRANCH", "BRANCH_NAME", "CHANGE_FORK", "CHANGE_TARGET"),
        *("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "CI_MERGE_REQUEST_PROJECT_ID"),
        *("CI_API_V4_URL", "CI_PROJECT_ID", "CI_PROJECT_URL", "CI_MERGE_REQUEST_IID"),
        *("CI_MERGE_REQUEST_DIFF_BASE_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "GITHUB_TOKEN"),
        *("GITHUB_EVENT_PATH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_ACTIONS"),
        *("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"),
    }
)
"""What else the gate reads from the environment (requests, the CI's branch, fork and
merge-request variables, the GitHub runner's)."""
READ_ONLY_FILES = (
    "CODEARTS_TOKEN_FILE",
    "CODEARTS_SK_FILE",
    "CODEARTS_IAM_PASSWORD_FILE",
    "CODEARTS_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CODEARTS_CONFIG",
    "GITHUB_EVENT_PATH",
)
WRITABLE_FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")


def cli_variables() -> set[str]:
    """Every variable an option of the CLI reads (``OPTIONS``), and the flag variables."""
    names: set[str] = set(FLAG_VARIABLES)
    for option in cli.OPTIONS:
        names.update(option.variables())
    return names


def script_settings() -> set[str]:
    """The names in docker-run.sh's ``settings=( ... )`` list."""
    text = (EXAMPLES / "docker-run.sh").read_text(encoding="utf-8")
    block = text[text.index("settings=(") : text.index("\n)\n", text.index("settings=("))]
    words = shlex.split(block.removeprefix("settings=("), comments=True)
    return set(words)


def test_docker_run_example_lists_every_variable_of_the_cli_and_no_other():
    listed = script_settings()
    codearts = {name for name in listed if name.startswith("CODEARTS_")}
    assert codearts == {v for v in cli_variables() if v.startswith("CODEARTS_")} | ANNOUNCED
    assert cli_variables() <= listed  # the HUAWEI_CLOUD_* names too
    by_name = {name for name in OTHER_SETTINGS if not name.startswith("GITHUB_")}
    assert by_name | {"GITHUB_TOKEN"} <= listed  # the other GITHUB_* pass by a loop


STAND_IN_DOCKER = """#!{python}
import json, os, sys
args = sys.argv[1:]
passed = {{args[i + 1]: os.environ.get(args[i + 1]) for i, a in enumerate(args) if a == "-e"}}
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps({{"argv": args, "env": passed}}) + "\\n")
with open({log!r}, encoding="utf-8") as log:
    calls = len(log.readlines())
codes = {codes!r}
sys.exit(codes[min(calls, len(codes)) - 1])
"""


def run_docker_example(
    tmp_path: Path, codes: list[int], *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """Run examples/docker-run.sh with a stand-in ``docker`` first on PATH that records its
    arguments and the environment ``-e NAME`` would pass, and exits with ``codes`` in turn;
    the process and the recorded calls. No real sleep: CODEARTS_GATE_RETRY_DELAY=0."""
    calls = tmp_path / "calls.jsonl"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    text = STAND_IN_DOCKER.format(python=sys.executable, log=str(calls), codes=codes)
    docker.write_text(text, encoding="utf-8")
    docker.chmod(0o755)
    base = {"CODEARTS_GATE_IMAGE": "gate:test", "CODEARTS_GATE_RETRY_DELAY": "0"}
    env = clean_env(PATH=f"{bin_dir}:/usr/bin:/bin", **{**base, **env})
    proc = subprocess.run(
        ["bash", str(EXAMPLES / "docker-run.sh"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []
    return proc, [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("codes", "calls", "code"),
    [
        ([4, 1], 2, 1),
        ([4, 4, 4, 0], 3, 4),  # three attempts at most
        ([4, 0], 2, 0),
        ([1], 1, 1),
        ([2], 1, 2),
        ([3], 1, 3),
        ([130], 1, 130),  # Ctrl-C: never restart what the user cancelled
        ([143], 1, 143),  # a cancelled job
        ([0], 1, 0),
    ],
)
def test_docker_run_example_retries_exit_4_only(tmp_path, codes, calls, code):
    proc, made = run_docker_example(tmp_path, codes, "--max", "minor=5")
    assert proc.returncode == code and len(made) == calls, proc.stderr
    assert proc.stderr.count("retrying in 0 s") == calls - 1
    first = " ".join(made[0]["argv"])
    assert first.startswith("run --rm") and first.endswith(f"gate:test {OUTPUT_ARGS}")


def test_docker_run_example_passes_every_setting_the_gate_reads(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    values = {name: f"value of {name}" for name in cli_variables() | ANNOUNCED | OTHER_SETTINGS}
    values |= {"GITHUB_REPOSITORY": "acme/repo", "GITHUB_RUN_ID": "42"}  # any GITHUB_*
    for name in (*READ_ONLY_FILES, *WRITABLE_FILES):
        path = files / name.lower()
        path.mkdir() if name == "SSL_CERT_DIR" else path.write_text("x", encoding="utf-8")
        values[name] = str(path)
    values |= {"CODEARTS_RUN": "true", "CODEARTS_WAIT": "false"}
    proc, [call] = run_docker_example(tmp_path, [0], **values)
    assert proc.returncode == 0, proc.stderr
    missing = {name for name, value in values.items() if call["env"].get(name) != value}
    assert not missing, sorted(missing)
    argv = call["argv"]
    for name in READ_ONLY_FILES:
        assert f"{values[name]}:{values[name]}:ro" in argv, name
    for name in WRITABLE_FILES:
        assert f"{values[name]}:{values[name]}:rw" in argv, name
    secrets = ("CODEARTS_SK", "CODEARTS_TOKEN", "CODEARTS_IAM_PASSWORD", "GITHUB_TOKEN")
    assert not any(values[name] in " ".join(argv) for name in secrets)  # by name only
    assert "-e CODEARTS_GATE_RETRY_DELAY" not in " ".join(argv)


def test_docker_run_example_mounts_only_files_that_exist(tmp_path):
    real = tmp_path / "sk file"
    real.write_text("x", encoding="utf-8")
    env = {"CODEARTS_SK_FILE": str(real), "CODEARTS_IAM_PASSWORD_FILE": "/run/secrets/absent"}
    proc, [call] = run_docker_example(tmp_path, [0], **env)
    assert proc.returncode == 0, proc.stderr
    assert f"{real}:{real}:ro" in call["argv"]
    assert call["env"]["CODEARTS_IAM_PASSWORD_FILE"] == "/run/secrets/absent"
    ours = [w for w in call["argv"] if w.startswith(str(tmp_path)) and w.endswith(":ro")]
    assert ours == [f"{real}:{real}:ro"]  # the absent file is passed by name, not mounted
    assert call["env"]["CODEARTS_TOKEN"] is None  # unset: docker passes nothing for it


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
