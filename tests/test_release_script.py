"""scripts/release.py: the tag check, the floating tags and the action.yml pin that the
release workflow (.github/workflows/release.yml) relies on."""

from __future__ import annotations

import difflib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import gate

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "release.py"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = "ghcr.io/example-org/codearts-gate"


def load_script():
    spec = importlib.util.spec_from_file_location("release_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = load_script()


def yaml(text: str) -> dict:
    return YAML(typ="safe").load(text)


def run_script(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# ---------------------------------------------------------------- version and tags


def test_the_version_has_one_source_that_the_script_reads():
    text = (REPO / "gate" / "__init__.py").read_text(encoding="utf-8")
    assert release.source_version(text) == gate.__version__


def test_a_tag_must_name_the_package_version():
    assert release.check_tag("v1.2.3", "1.2.3") == (1, 2, 3)
    with pytest.raises(release.ReleaseError, match=r"v1\.2\.4 does not match .* 1\.2\.3"):
        release.check_tag("v1.2.4", "1.2.3")


@pytest.mark.parametrize("tag", ["1.2.3", "v1.2", "v1.2.3-rc1", "v01.2.3", "v1.2.3 ", "V1.2.3"])
def test_anything_but_a_plain_release_tag_is_refused(tag):
    with pytest.raises(release.ReleaseError, match=r"release tags look like v1\.2\.3"):
        release.parse_tag(tag)


@pytest.mark.parametrize(
    ("new", "existing", "moved"),
    [
        ((1, 0, 0), [], ["v1.0", "v1"]),
        ((1, 2, 3), ["v1.2.2", "v1.1.9", "v1.2", "v1", "v0.9.0"], ["v1.2", "v1"]),
        ((1, 2, 3), ["v1.2.3", "v1.2", "v1"], ["v1.2", "v1"]),  # the pushed tag itself
        ((1, 2, 5), ["v1.2.4", "v1.3.0"], ["v1.2"]),  # a fix for an older line
        ((1, 2, 5), ["v1.2.6", "v1.3.0"], []),
        ((1, 10, 0), ["v1.9.0", "v2.0.0"], ["v1.10", "v1"]),  # numbers, not strings
    ],
)
def test_floating_tags_never_move_backwards(new, existing, moved):
    assert release.moving_tags(new, existing) == moved


def test_plan_prints_the_release_outputs(tmp_path):
    tag = f"v{gate.__version__}"
    proc = run_script("plan", tag, "--existing-tags", "-", stdin="v0.0.1\nnot-a-tag\n")
    assert proc.returncode == 0, proc.stderr
    outputs = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    major, minor, _ = gate.__version__.split(".")
    assert outputs == {
        "version": gate.__version__,
        "tag": tag,
        "minor-tag": f"v{major}.{minor}",
        "major-tag": f"v{major}",
        "tags": f"{tag} v{major}.{minor} v{major}",
    }


def test_plan_refuses_a_tag_that_is_not_the_version():
    proc = run_script("plan", "v999.0.0")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("release.py: error: tag v999.0.0 does not match")


# ---------------------------------------------------------------- pinning action.yml


def test_pinning_the_real_action_changes_only_runs_image():
    original = (REPO / "action.yml").read_text(encoding="utf-8")
    reference = release.image_reference(IMAGE, DIGEST)
    pinned = release.pin_action(original, reference, "v1.2.3")
    before, after = yaml(original), yaml(pinned)
    assert before["runs"]["image"] == "Dockerfile"
    assert after["runs"]["image"] == f"docker://{IMAGE}@{DIGEST}"
    after["runs"]["image"] = "Dockerfile"
    assert after == before
    changed = [
        line
        for line in difflib.ndiff(original.splitlines(), pinned.splitlines())
        if line[:1] in "+-"
    ]
    assert changed == [
        "-   image: Dockerfile",
        "+   # Release v1.2.3: the prebuilt image by digest (scripts/release.py).",
        f"+   image: docker://{IMAGE}@{DIGEST}",
    ]


def test_a_pinned_action_cannot_be_pinned_again():
    original = (REPO / "action.yml").read_text(encoding="utf-8")
    pinned = release.pin_action(original, release.image_reference(IMAGE, DIGEST), "v1.2.3")
    with pytest.raises(release.ReleaseError, match="no 'image: Dockerfile' line"):
        release.pin_action(pinned, release.image_reference(IMAGE, DIGEST), "v1.2.4")


ACTION = """\
name: x
description: 'image: Dockerfile appears in text too'
inputs:
  image:
    description: not the runs block
    default: Dockerfile
runs:  # the container
  using: docker
  # image: Dockerfile (a comment is not the key)
  image: "Dockerfile"  # built on main
  args:
    - image: Dockerfile
  env:
    image: Dockerfile
outputs: {}
"""


def test_only_the_runs_image_key_is_rewritten():
    pinned = release.pin_action(ACTION, f"docker://{IMAGE}@{DIGEST}", "v2.0.0")
    data = yaml(pinned)
    assert data["runs"]["image"] == f"docker://{IMAGE}@{DIGEST}"
    assert data["runs"]["args"] == [{"image": "Dockerfile"}]
    assert data["runs"]["env"] == {"image": "Dockerfile"}
    assert data["inputs"]["image"]["default"] == "Dockerfile"
    assert "  # image: Dockerfile (a comment is not the key)" in pinned.splitlines()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nruns:\n  using: docker\n  image: docker://busybox\n", "no 'image: Dockerfile'"),
        ("name: x\nruns:\n  using: node20\n  main: index.js\n", "no 'image: Dockerfile'"),
        ("name: x\nimage: Dockerfile\n", "exactly one top-level 'runs:'"),
        ("runs:\n  image: Dockerfile\nruns:\n  image: Dockerfile\n", "exactly one top-level"),
    ],
)
def test_an_action_without_exactly_one_dockerfile_image_is_refused(text, message):
    with pytest.raises(release.ReleaseError, match=message):
        release.pin_action(text, f"docker://{IMAGE}@{DIGEST}", "v1.0.0")


@pytest.mark.parametrize(
    ("image", "digest", "message"),
    [
        ("ghcr.io/Example/codearts-gate", DIGEST, "lower-case name"),
        (f"{IMAGE}:v1", DIGEST, "without tag or digest"),
        (f"{IMAGE}@{DIGEST}", DIGEST, "without tag or digest"),
        ("codearts gate", DIGEST, "lower-case name"),
        (IMAGE, DIGEST.upper().replace("SHA256", "sha256"), "64 lower-case hex"),
        (IMAGE, DIGEST[:-1], "64 lower-case hex"),
        (IMAGE, "sha512:" + "0" * 128, "64 lower-case hex"),
        (IMAGE, "v1.2.3", "64 lower-case hex"),
    ],
)
def test_a_malformed_image_or_digest_is_refused(image, digest, message):
    with pytest.raises(release.ReleaseError, match=message):
        release.image_reference(image, digest)


def test_pin_action_rewrites_the_file_it_is_given(tmp_path):
    action = tmp_path / "action.yml"
    action.write_text((REPO / "action.yml").read_text(encoding="utf-8"), encoding="utf-8")
    args = ["--image", IMAGE, "--digest", DIGEST, "--tag", "v1.2.3", "--action", str(action)]
    proc = run_script("pin-action", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{action} now runs docker://{IMAGE}@{DIGEST}"
    assert yaml(action.read_text(encoding="utf-8"))["runs"]["image"] == f"docker://{IMAGE}@{DIGEST}"
    again = run_script("pin-action", *args)
    assert again.returncode == 1 and "already pinned" in again.stderr


def test_pin_action_refuses_a_bad_digest_and_leaves_the_file_alone(tmp_path):
    action = tmp_path / "action.yml"
    action.write_text(ACTION, encoding="utf-8")
    proc = run_script(
        "pin-action",
        "--image",
        IMAGE,
        "--digest",
        "sha256:abc",
        "--tag",
        "v1.0.0",
        "--action",
        str(action),
    )
    assert proc.returncode == 1 and "64 lower-case hex" in proc.stderr
    assert action.read_text(encoding="utf-8") == ACTION
