"""scripts/release.py: the tag check, the floating tags and the action.yml pin that the
release workflow (.github/workflows/release.yml) relies on, and the steps that make a
release re-runnable after a failure at any point (docs/releasing.md, "When a job fails"):
the plan that finds what an earlier attempt did, the release commit made through the Git
Data API, the PyPI check and the atomic, leased tag push. Git steps run real git on real
repositories; the GitHub and PyPI APIs are small HTTP servers on 127.0.0.1."""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


release = load_script()


def yaml(text: str) -> dict:
    return YAML(typ="safe").load(text)


def run_script(*args: str, stdin: str = "", env=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={**os.environ, "GH_TOKEN": "", **(env or {})},
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


def test_a_release_commit_is_told_from_a_commit_of_main():
    original = (REPO / "action.yml").read_text(encoding="utf-8")
    assert release.pinned_image(original) is None
    pinned = release.pin_action(original, release.image_reference(IMAGE, DIGEST), "v1.2.3")
    assert release.pinned_image(pinned) == (IMAGE, DIGEST)
    with pytest.raises(release.ReleaseError, match="no 'image: Dockerfile'"):
        release.pinned_image("name: x\nruns:\n  using: docker\n  image: docker://busybox:1\n")


# ---------------------------------------------------------------- real repositories

SOURCE_VERSION = "1.2.3"
PYPROJECT = '[project]\nname = "codearts-gate"\n\n[project.urls]\nHomepage = "https://github.com/OWNER/codearts-gate"\n'
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.org",
    "GIT_COMMITTER_NAME": "Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch):
    """Every git call (the tests' and release.py's) sees one identity and no user config."""
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)


def sh(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"git {args}: {proc.stderr}"
    return proc.stdout.strip()


@dataclass
class Project:
    """A bare 'origin' and a clone of it holding main at ``source``, tagged SOURCE_VERSION."""

    origin: Path
    clone: Path
    source: str

    def commit(self, message: str, files: dict[str, str], parent_ref: str = "HEAD") -> str:
        for name, text in files.items():
            (self.clone / name).parent.mkdir(parents=True, exist_ok=True)
            (self.clone / name).write_text(text, encoding="utf-8")
        sh(self.clone, "add", *files)
        sh(self.clone, "commit", "-q", "-m", message)
        return sh(self.clone, "rev-parse", "HEAD")

    def release_commit(self, digest: str = DIGEST) -> str:
        """A release commit on top of ``source`` (as commit-action makes it), on no branch."""
        sh(self.clone, "checkout", "-q", "--detach", self.source)
        text = release.pin_action(
            (self.clone / "action.yml").read_text(encoding="utf-8"),
            release.image_reference(IMAGE, digest),
            f"v{SOURCE_VERSION}",
        )
        sha = self.commit("Release", {"action.yml": text})
        sh(self.clone, "checkout", "-q", "main")
        return sha

    def remote_tags(self) -> dict[str, str]:
        return {
            name: tag.commit
            for name, tag in release.parse_ls_remote(
                sh(self.clone, "ls-remote", "--tags", "origin")
            ).items()
        }


@pytest.fixture
def project(tmp_path) -> Project:
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    sh(tmp_path, "clone", "-q", str(origin), str(clone))
    repo = Project(origin, clone, "")
    repo.commit(
        "first",
        {
            "gate/__init__.py": '__version__ = "1.2.2"\n',
            "README.md": "x\n",
            "pyproject.toml": PYPROJECT.replace("OWNER", "example-org"),
        },
    )
    repo.source = repo.commit(
        "bump",
        {
            "gate/__init__.py": f'__version__ = "{SOURCE_VERSION}"\n',
            "action.yml": (REPO / "action.yml").read_text(encoding="utf-8"),
        },
    )
    sh(clone, "tag", "-a", "-m", "signed, say", f"v{SOURCE_VERSION}")
    sh(clone, "push", "-q", "origin", "main", f"v{SOURCE_VERSION}")
    return repo


def outputs(lines: list[str]) -> dict[str, str]:
    return dict(line.split("=", 1) for line in lines)


def test_plan_of_a_fresh_tag_builds_everything(project):
    planned = outputs(release.plan_lines(project.clone, "v1.2.3", project.source, "origin/main"))
    epoch = sh(project.clone, "log", "-1", "--format=%ct", project.source)
    assert planned == {
        "skip": "false",
        "version": SOURCE_VERSION,
        "tag": "v1.2.3",
        "source-sha": project.source,
        "release-sha": "",
        "released-digest": "",
        "epoch": epoch,
        "minor-tag": "v1.2",
        "major-tag": "v1",
        "tags": "v1.2.3 v1.2 v1",
    }


def test_plan_after_the_tag_moved_resumes_from_the_tagged_commit(project):
    """A failure after the tags moved: a re-run (same event sha) and a dispatch (none)
    both find the source commit and the image of the earlier attempt."""
    released = project.release_commit()
    sh(project.clone, "tag", "-f", "v1.2.3", released)
    for event_sha in (project.source, ""):
        planned = outputs(release.plan_lines(project.clone, "v1.2.3", event_sha, "origin/main"))
        assert planned["source-sha"] == project.source
        assert planned["release-sha"] == released
        assert planned["released-digest"] == DIGEST
        assert planned["version"] == SOURCE_VERSION


def test_plan_skips_the_run_that_its_own_tag_move_started(project):
    released = project.release_commit()
    sh(project.clone, "tag", "-f", "v1.2.3", released)
    assert release.plan_lines(project.clone, "v1.2.3", released, "origin/main") == ["skip=true"]


def test_plan_refuses_a_tag_cut_again_since_the_run_started(project):
    other = project.commit("fix", {"README.md": "y\n"})
    sh(project.clone, "push", "-q", "origin", "main")
    sh(project.clone, "tag", "-f", "-a", "-m", "again", "v1.2.3", other)
    with pytest.raises(release.ReleaseError, match="cut again; start the workflow by hand"):
        release.plan_lines(project.clone, "v1.2.3", project.source, "origin/main")
    assert (
        outputs(release.plan_lines(project.clone, "v1.2.3", "", "origin/main"))["source-sha"]
        == other
    )


def test_plan_refuses_a_tag_off_the_default_branch(project):
    sh(project.clone, "checkout", "-q", "-b", "side")
    side = project.commit("side", {"README.md": "side\n"})
    sh(project.clone, "tag", "-f", "v1.2.3", side)
    with pytest.raises(release.ReleaseError, match=r"is not on origin/main"):
        release.plan_lines(project.clone, "v1.2.3", "", "origin/main")


def test_plan_refuses_a_tag_that_is_not_the_version(project):
    sh(project.clone, "tag", "v1.2.4", project.source)
    with pytest.raises(release.ReleaseError, match=r"does not match the package version 1\.2\.3"):
        release.plan_lines(project.clone, "v1.2.4", "", "origin/main")


def test_plan_refuses_metadata_that_still_names_the_placeholder_owner(project):
    placeholder = project.commit("urls", {"pyproject.toml": PYPROJECT})
    sh(project.clone, "push", "-q", "origin", "main")
    sh(project.clone, "tag", "-f", "v1.2.3", placeholder)
    with pytest.raises(release.ReleaseError, match=r"\[project\.urls\] still say OWNER"):
        release.plan_lines(project.clone, "v1.2.3", "", "origin/main")


def test_plan_refuses_a_pinned_commit_it_did_not_make(project):
    released = project.release_commit()
    sh(project.clone, "checkout", "-q", "--detach", released)
    again = project.commit("pinned twice", {"README.md": "z\n"})
    sh(project.clone, "tag", "-f", "v1.2.3", again)
    with pytest.raises(release.ReleaseError, match="not a release commit made by this workflow"):
        release.plan_lines(project.clone, "v1.2.3", "", "origin/main")


def test_plan_keeps_floating_tags_on_a_newer_release(project):
    sh(project.clone, "tag", "v1.3.0", project.source)
    planned = outputs(release.plan_lines(project.clone, "v1.2.3", "", "origin/main"))
    assert (planned["minor-tag"], planned["major-tag"], planned["tags"]) == (
        "v1.2",
        "",
        "v1.2.3 v1.2",
    )


def test_plan_on_the_command_line(project):
    proc = run_script("--repo", str(project.clone), "plan", "v1.2.3", "--event-sha", project.source)
    assert proc.returncode == 0, proc.stderr
    assert outputs(proc.stdout.splitlines())["source-sha"] == project.source
    refused = run_script("--repo", str(project.clone), "plan", "v9.9.9")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("release.py: error: no tag v9.9.9 in ")


# ---------------------------------------------------------------- moving the tags


def test_tags_move_together_to_the_release_commit_and_only_once(project):
    released = project.release_commit()
    moved = release.move_tags(project.clone, "origin", released, ["v1.2.3", "v1.2", "v1"])
    assert moved == [f"moved {tag} to {released}" for tag in ("v1.2.3", "v1.2", "v1")]
    assert project.remote_tags() == {"v1.2.3": released, "v1.2": released, "v1": released}
    again = release.move_tags(project.clone, "origin", released, ["v1.2.3", "v1.2", "v1"])
    assert again == [f"v1.2.3 v1.2 v1 already point at {released}"]


def test_a_resumed_push_moves_only_what_is_left(project):
    released = project.release_commit()
    sh(project.clone, "push", "-q", "-f", "origin", f"{released}:refs/tags/v1.2.3")
    moved = release.move_tags(project.clone, "origin", released, ["v1.2.3", "v1"])
    assert moved == [f"moved v1 to {released}"]
    assert project.remote_tags() == {"v1.2.3": released, "v1": released}


def test_the_release_commit_is_fetched_when_the_clone_lacks_it(project, tmp_path):
    """commit-action makes the commit on GitHub only: the final job fetches it by sha."""
    released = project.release_commit()
    sh(project.clone, "push", "-q", "origin", f"{released}:refs/heads/scratch")
    fresh = tmp_path / "fresh"
    sh(tmp_path, "clone", "-q", "--no-tags", str(project.origin), str(fresh))
    sh(project.clone, "push", "-q", "origin", "--delete", "scratch")
    release.move_tags(fresh, "origin", released, ["v1.2.3"])
    assert project.remote_tags()["v1.2.3"] == released


def test_a_tag_moved_by_someone_else_meanwhile_stops_the_whole_push(project):
    """The push is atomic and every ref is leased at what was read: a concurrent move of
    one tag leaves all of them where they were."""
    released = project.release_commit()
    stale = release.parse_ls_remote(sh(project.clone, "ls-remote", "--tags", "origin"))
    arguments = release.tag_updates(released, ["v1.2.3", "v1"], stale)
    sh(project.clone, "push", "-q", "origin", f"{project.source}:refs/tags/v1")
    before = project.remote_tags()
    leases = [arg for arg in arguments if arg.startswith("--")]
    proc = subprocess.run(
        ["git", "push", "--atomic", *leases, "origin", *arguments[len(leases) :]],
        cwd=project.clone,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0 and "stale info" in proc.stderr
    assert project.remote_tags() == before == {"v1.2.3": project.source, "v1": project.source}


def test_tag_updates_lease_each_ref_at_its_object():
    remote = release.parse_ls_remote(
        f"{'a' * 40}\trefs/tags/v1.2.3\n{'b' * 40}\trefs/tags/v1.2.3^{{}}\n"
        f"{'c' * 40}\trefs/tags/v1\n{'d' * 40}\trefs/heads/main\n"
    )
    assert remote == {
        "v1.2.3": release.RemoteTag("a" * 40, "b" * 40),
        "v1": release.RemoteTag("c" * 40, "c" * 40),
    }
    assert release.tag_updates("e" * 40, ["v1.2.3", "v1.2", "v1"], remote) == [
        f"--force-with-lease=refs/tags/v1.2.3:{'a' * 40}",
        "--force-with-lease=refs/tags/v1.2:",
        f"--force-with-lease=refs/tags/v1:{'c' * 40}",
        f"{'e' * 40}:refs/tags/v1.2.3",
        f"{'e' * 40}:refs/tags/v1.2",
        f"{'e' * 40}:refs/tags/v1",
    ]
    assert release.tag_updates("b" * 40, ["v1.2.3"], remote) == []


@pytest.mark.parametrize(
    ("commit", "tags", "message"),
    [
        ("main", ["v1"], "full sha"),
        ("a" * 40, ["latest"], "not a release or floating tag"),
        ("a" * 40, ["v1.2.3.4"], "not a release or floating tag"),
    ],
)
def test_move_tags_refuses_odd_input_before_touching_git(tmp_path, commit, tags, message):
    with pytest.raises(release.ReleaseError, match=message):
        release.move_tags(tmp_path, "origin", commit, tags)


def test_move_tags_on_the_command_line(project):
    released = project.release_commit()
    args = ["--repo", str(project.clone), "move-tags", "--commit", released, "--tags", "v1.2.3 v1"]
    proc = run_script(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"moved v1.2.3 to {released}", f"moved v1 to {released}"]
    assert run_script(*args).stdout.strip() == f"v1.2.3 v1 already point at {released}"


# ---------------------------------------------------------------- the API fakes


class FakeService:
    """A JSON HTTP service on 127.0.0.1 whose ``answer(method, path, body)`` returns
    (status, object) or (status, object, headers); every request is logged with its
    headers."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[tuple[str, str, dict, object]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                service.requests.append((method, self.path, dict(self.headers), body))
                status, payload, *headers = service.answer(method, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (headers[0] if headers else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self.handle_one("GET")

            def do_POST(self) -> None:
                self.handle_one("POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service():
    made: list[FakeService] = []

    def make(answer) -> FakeService:
        made.append(FakeService(answer))
        return made[-1]

    yield make
    for fake in made:
        fake.close()


def git_data_api(bare: Path):
    """GitHub's Git Data API (commits, blobs, trees) for one repository, backed by a real
    bare repository: the objects it makes are real git objects."""
    prefix = "/repos/example-org/codearts-gate/git/"

    def run(*args: str, stdin: str = "") -> str:
        proc = subprocess.run(
            ["git", *args], cwd=bare, input=stdin, capture_output=True, text=True, check=True
        )
        return proc.stdout.strip()

    def answer(method: str, path: str, body):
        what = path.removeprefix(prefix)
        if method == "GET" and what.startswith("commits/"):
            return 200, {"sha": what[8:], "tree": {"sha": run("rev-parse", f"{what[8:]}^{{tree}}")}}
        if (method, what) == ("POST", "blobs"):
            return 201, {"sha": run("hash-object", "-w", "--stdin", stdin=body["content"])}
        if (method, what) == ("POST", "trees"):
            replaced = {entry["path"]: entry for entry in body["tree"]}
            lines = [
                line
                for line in run("ls-tree", body["base_tree"]).splitlines()
                if line.split("\t")[1] not in replaced
            ]
            lines += [f"{e['mode']} {e['type']} {e['sha']}\t{e['path']}" for e in replaced.values()]
            return 201, {"sha": run("mktree", stdin="\n".join(lines) + "\n")}
        if (method, what) == ("POST", "commits"):
            parents = [arg for parent in body["parents"] for arg in ("-p", parent)]
            sha = run("commit-tree", body["tree"], *parents, "-m", body["message"])
            return 201, {"sha": sha, "verification": {"verified": True, "reason": "valid"}}
        return 404, {"message": "Not Found"}

    return answer


def commit_action(project: Project, api_url: str, token: str = "t0ken-for-the-job"):
    env = {"GH_TOKEN": token} if token else {}
    args = [
        "--repo", str(project.clone), "commit-action", "--source", project.source,
        "--image", IMAGE, "--digest", DIGEST, "--tag", "v1.2.3",
        "--api-url", api_url, "--repository", "example-org/codearts-gate",
    ]  # fmt: skip
    return run_script(*args, env=env)


def test_the_release_commit_is_made_through_the_api_on_top_of_the_source(project, service):
    api = service(git_data_api(project.origin))
    proc = commit_action(project, api.url)
    assert proc.returncode == 0, proc.stderr
    made = outputs(proc.stdout.splitlines())
    assert made["signed"] == "true"
    released = made["release-sha"]
    assert sh(project.origin, "rev-parse", f"{released}^") == project.source
    changed = sh(project.origin, "diff", "--name-only", project.source, released)
    assert changed == "action.yml"
    pinned = sh(project.origin, "show", f"{released}:action.yml")
    assert release.pinned_image(pinned) == (IMAGE, DIGEST)
    assert sh(project.origin, "for-each-ref", "--contains", released) == ""  # no ref moved
    assert {headers["Authorization"] for _, _, headers, _ in api.requests} == {
        "Bearer t0ken-for-the-job"
    }
    # The commit the next attempt's plan finds, once the tags point at it.
    sh(project.clone, "fetch", "-q", "origin", released)
    sh(project.clone, "tag", "-f", "v1.2.3", released)
    planned = outputs(release.plan_lines(project.clone, "v1.2.3", "", "origin/main"))
    assert (planned["release-sha"], planned["released-digest"]) == (released, DIGEST)


def test_an_unsigned_release_commit_is_said(project, service):
    answer = git_data_api(project.origin)

    def unsigned(method, path, body):
        status, payload = answer(method, path, body)
        payload.pop("verification", None)
        return status, payload

    proc = commit_action(project, service(unsigned).url)
    assert proc.returncode == 0, proc.stderr
    assert outputs(proc.stdout.splitlines())["signed"] == "false"


def test_an_api_error_stops_commit_action_with_its_status(project, service):
    api = service(lambda method, path, body: (422, {"message": "tree.sha is not valid"}))
    proc = commit_action(project, api.url)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == (
        f"release.py: error: GET git/commits/{project.source}: HTTP 422 Unprocessable Entity"
    )


def test_a_redirect_is_refused_so_the_token_goes_nowhere_else(project, service):
    """urllib would repeat the Authorization header to wherever a redirect points."""
    elsewhere = service(git_data_api(project.origin))
    api = service(lambda method, path, body: (307, {}, {"Location": elsewhere.url + path}))
    proc = commit_action(project, api.url)
    assert proc.returncode == 1 and "HTTP 307" in proc.stderr
    assert len(api.requests) == 1 and elsewhere.requests == []


def test_an_answer_without_a_sha_is_an_error(project, service):
    api = service(lambda method, path, body: (200, {"tree": {"sha": "not-a-sha"}}))
    proc = commit_action(project, api.url)
    assert proc.returncode == 1 and "has no object sha" in proc.stderr


def test_commit_action_needs_a_token_and_sends_it_only_over_https(project, service):
    api = service(git_data_api(project.origin))
    assert "GH_TOKEN is not set" in commit_action(project, api.url, token="").stderr
    plain = commit_action(project, "http://api.example.org")
    assert plain.returncode == 1 and "refusing to send the token" in plain.stderr
    assert api.requests == []


# ---------------------------------------------------------------- PyPI


def pypi_api(files: dict[str, str] | None, status: int = 200):
    """PyPI's JSON API for codearts-gate 1.2.3: ``files`` name -> sha256, None: no such
    version."""

    def answer(method: str, path: str, body):
        if status != 200:
            return status, {"message": "down"}
        if path != "/pypi/codearts-gate/1.2.3/json" or files is None:
            return 404, {"message": "Not Found"}
        urls = [{"filename": n, "digests": {"sha256": d}} for n, d in files.items()]
        return 200, {"info": {"version": "1.2.3"}, "urls": urls}

    return answer


@pytest.fixture
def dist(tmp_path) -> Path:
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "codearts_gate-1.2.3.tar.gz").write_bytes(b"sdist bytes")
    (folder / "codearts_gate-1.2.3-py3-none-any.whl").write_bytes(b"wheel bytes")
    return folder


def digests(dist: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in dist.iterdir()}


SDIST, WHEEL = "codearts_gate-1.2.3.tar.gz", "codearts_gate-1.2.3-py3-none-any.whl"


@pytest.mark.parametrize(
    ("published", "state"),
    [
        (None, "absent"),
        ([], "absent"),
        ([SDIST], "partial"),  # the wheel's upload failed
        ([SDIST, WHEEL], "complete"),
    ],
)
def test_pypi_state_says_what_is_left_to_upload(service, dist, published, state):
    sums = digests(dist)
    real = None if published is None else {name: sums[name] for name in published}
    api = service(pypi_api(real))
    assert release.pypi_state(api.url, "1.2.3", dist) == state


def test_a_different_file_on_pypi_stops_the_release(service, dist):
    sums = digests(dist)
    sums[WHEEL] = "0" * 64
    api = service(pypi_api(sums))
    with pytest.raises(release.ReleaseError, match=r"PyPI has codearts_gate-1\.2\.3-py3-none-any"):
        release.pypi_state(api.url, "1.2.3", dist)


def test_pypi_unreadable_or_no_files_is_an_error_never_an_upload(service, dist, tmp_path):
    with pytest.raises(release.ReleaseError, match="HTTP 503"):
        release.pypi_state(service(pypi_api({}, status=503)).url, "1.2.3", dist)
    with pytest.raises(release.ReleaseError, match="not https"):
        release.pypi_state("http://pypi.example.org", "1.2.3", dist)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(release.ReleaseError, match="holds no files"):
        release.pypi_state("https://pypi.org", "1.2.3", empty)


def test_pypi_state_on_the_command_line(service, dist):
    api = service(pypi_api(digests(dist)))
    args = ["pypi-state", "--version", "1.2.3", "--dist", str(dist), "--index-url", api.url]
    proc = run_script(*args)
    assert proc.returncode == 0, proc.stderr
    assert outputs(proc.stdout.splitlines()) == {"state": "complete", "publish": "false"}
