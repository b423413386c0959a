"""Release helpers for the release workflow (.github/workflows/release.yml).

Every command checks whether its work is done already, so that any job of a release can
run again, in a re-run or in a run dispatched with the tag (docs/releasing.md, "When a
job fails"):

``plan TAG``
    find the commit the tag was cut from (the tag itself, or the parent of the release
    commit it was moved to), check it against the package version and the default branch,
    say which tags the release sets and what an earlier attempt already did.
``pin-action``
    rewrite action.yml so that the action runs the released image by digest.
``commit-action``
    create the release commit (action.yml pinned) through GitHub's Git Data API, so that
    GitHub signs it; no branch or tag moves.
``pypi-state``
    whether PyPI has the version already, and with the same files.
``move-tags``
    point the release tag and the floating tags at the release commit in one atomic push,
    each ref leased at the value it was read with; tags already in place are left alone.

Standard library only: the release jobs run this before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERSION_PATH = "gate/__init__.py"
ACTION_PATH = "action.yml"
PACKAGE = "codearts-gate"

RELEASE_TAG = re.compile(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
# An image name without tag or digest, lower case as OCI registries require.
IMAGE_NAME = re.compile(
    r"[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+"
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}")
# The one line main carries: the action builds the Dockerfile (quotes and a comment allowed).
DOCKERFILE_IMAGE = re.compile(r"""^(?P<indent>[ ]+)image:[ ]*(['"]?)Dockerfile\2[ ]*(?:#.*)?$""")
# The line a release commit carries instead (pin_action writes it).
PINNED_IMAGE = re.compile(
    r"^(?P<indent>[ ]+)image:[ ]*docker://(?P<image>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})[ ]*$"
)
API_TIMEOUT = 30.0

Version = tuple[int, int, int]


class ReleaseError(Exception):
    """A release input is not what the release process expects; the message says why."""


def parse_tag(tag: str) -> Version:
    """``v1.2.3`` -> (1, 2, 3); anything else (pre-releases included) is refused."""
    match = RELEASE_TAG.fullmatch(tag)
    if not match:
        raise ReleaseError(f"release tags look like v1.2.3, got {tag!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def source_version(text: str) -> str:
    """The ``__version__`` that gate/__init__.py's text declares."""
    match = VERSION_LINE.search(text)
    if not match:
        raise ReleaseError('gate/__init__.py declares no __version__ = "..."')
    return match[1]


def check_metadata(pyproject: str) -> None:
    """Refuse package metadata that still names the placeholder owner: PyPI keeps a
    version's metadata for good."""
    if "/OWNER/" in pyproject:
        raise ReleaseError(
            "pyproject.toml's [project.urls] still say OWNER: replace it with the "
            "repository's owner on main before the first release"
        )


def check_tag(tag: str, version: str) -> Version:
    """The tag's version numbers, when the tag is exactly ``v`` + the package version."""
    numbers = parse_tag(tag)
    if tag != f"v{version}":
        raise ReleaseError(
            f"tag {tag} does not match the package version {version} in gate/__init__.py: "
            "bump the version in a commit on main, then tag that commit"
        )
    return numbers


def moving_tags(release: Version, existing: Iterable[str]) -> list[str]:
    """The floating tags (``vX.Y``, ``vX``) that should point at this release.

    A floating tag moves only when no release already tagged is newer within its
    series, so that a fix released for an older line never drags ``v1`` backwards.
    """
    released = [parse_tag(tag) for tag in existing if RELEASE_TAG.fullmatch(tag)]
    major, minor, _ = release
    tags = []
    if all(other <= release for other in released if other[:2] == (major, minor)):
        tags.append(f"v{major}.{minor}")
    if all(other <= release for other in released if other[0] == major):
        tags.append(f"v{major}")
    return tags


def image_reference(image: str, digest: str) -> str:
    """``docker://IMAGE@DIGEST`` for action.yml, after checking both parts."""
    if not IMAGE_NAME.fullmatch(image):
        raise ReleaseError(
            f"image must be a lower-case name without tag or digest, e.g. "
            f"ghcr.io/owner/codearts-gate, got {image!r}"
        )
    if not DIGEST.fullmatch(digest):
        raise ReleaseError(f"digest must be sha256: and 64 lower-case hex digits, got {digest!r}")
    return f"docker://{image}@{digest}"


def runs_block(lines: list[str]) -> range:
    """Line numbers of the top-level ``runs:`` mapping's body."""
    starts = [i for i, line in enumerate(lines) if re.fullmatch(r"runs:[ ]*(?:#.*)?", line)]
    if len(starts) != 1:
        raise ReleaseError("action.yml must have exactly one top-level 'runs:' key")
    end = next(
        (i for i in range(starts[0] + 1, len(lines)) if re.match(r"[^\s#]", lines[i])),
        len(lines),
    )
    return range(starts[0] + 1, end)


def runs_key_lines(lines: list[str], pattern: re.Pattern[str]) -> list[tuple[int, re.Match[str]]]:
    """The lines directly under ``runs:`` (not nested deeper) that ``pattern`` matches."""
    block = runs_block(lines)
    keys = [lines[i] for i in block if re.match(r"[ ]+[^\s#]", lines[i])]
    depth = len(keys[0]) - len(keys[0].lstrip(" ")) if keys else 0
    return [
        (i, m) for i in block if (m := pattern.fullmatch(lines[i])) and len(m["indent"]) == depth
    ]


def dockerfile_image_line(lines: list[str]) -> tuple[int, str]:
    """Index and indentation of the ``image: Dockerfile`` key directly under ``runs:``."""
    found = runs_key_lines(lines, DOCKERFILE_IMAGE)
    if len(found) != 1:
        raise ReleaseError(
            "runs: in action.yml has no 'image: Dockerfile' line to pin (already pinned?)"
        )
    index, match = found[0]
    return index, match["indent"]


def pinned_image(text: str) -> tuple[str, str] | None:
    """(image, digest) when action.yml's ``runs.image`` names a prebuilt image by digest
    (a release commit), None when it builds the Dockerfile (a commit of main)."""
    lines = text.splitlines()
    found = runs_key_lines(lines, PINNED_IMAGE)
    if len(found) == 1:
        return found[0][1]["image"], found[0][1]["digest"]
    dockerfile_image_line(lines)  # neither form: refused with the usual message
    return None


def pin_action(text: str, reference: str, tag: str) -> str:
    """action.yml's text with ``runs.image: Dockerfile`` replaced by ``reference``.

    Only that one line changes (a comment above it names the release), so inputs,
    outputs and comments stay exactly as reviewed on main.
    """
    parse_tag(tag)
    lines = text.splitlines()
    index, indent = dockerfile_image_line(lines)
    lines[index : index + 1] = [
        f"{indent}# Release {tag}: the prebuilt image by digest (scripts/release.py).",
        f"{indent}image: {reference}",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- git


def run_git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``git args`` in ``repo``, output captured; git found on PATH."""
    executable = shutil.which("git")
    if executable is None:
        raise ReleaseError("git is not on PATH")
    return subprocess.run(
        [executable, *args], cwd=repo, capture_output=True, text=True, timeout=300, check=False
    )


def git(repo: Path, *args: str) -> str:
    """``git args`` in ``repo``; its stdout without the final newline."""
    proc = run_git(repo, *args)
    if proc.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.rstrip("\n")


def file_at(repo: Path, commit: str, path: str) -> str:
    """A file's text as committed in ``commit``."""
    return git(repo, "show", f"{commit}:{path}")


@dataclass(frozen=True)
class Source:
    """Where a release stands: the commit it is cut from and what an earlier attempt did."""

    tag: str
    source: str  # the commit the maintainer tagged (its action.yml builds the Dockerfile)
    release: str  # the release commit the tag points at already, or ""
    digest: str  # the image digest that release commit names, or ""


def locate(repo: Path, tag: str) -> Source:
    """Follow ``refs/tags/TAG``: to the tagged commit of main, or, when an earlier
    attempt moved the tag already, from the release commit to its one parent."""
    parse_tag(tag)
    try:
        tagged = git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    except ReleaseError:
        raise ReleaseError(f"no tag {tag} in {repo} (are the tags fetched?)") from None
    pinned = pinned_image(file_at(repo, tagged, ACTION_PATH))
    if pinned is None:
        return Source(tag, tagged, "", "")
    parents = git(repo, "rev-list", "--parents", "-n", "1", tagged).split()[1:]
    if len(parents) != 1 or pinned_image(file_at(repo, parents[0], ACTION_PATH)) is not None:
        raise ReleaseError(
            f"{tag} points at {tagged}, which pins the action but is not a release commit "
            "made by this workflow (one parent whose action.yml builds the Dockerfile)"
        )
    return Source(tag, parents[0], tagged, pinned[1])


def started_by_release(repo: Path, event_sha: str) -> bool:
    """True when the pushed commit is itself a release commit: the push was this
    workflow moving the tag (with an App token, pushes start workflows)."""
    return bool(event_sha) and pinned_image(file_at(repo, event_sha, ACTION_PATH)) is not None


def plan_lines(repo: Path, tag: str, event_sha: str, default_branch: str) -> list[str]:
    """``key=value`` lines for $GITHUB_OUTPUT describing the release of ``tag``."""
    if started_by_release(repo, event_sha):
        return ["skip=true"]
    found = locate(repo, tag)
    if event_sha and found.source != event_sha:
        raise ReleaseError(
            f"{tag} now comes from {found.source}, but this run was started for {event_sha}: "
            f"the tag was cut again; start the workflow by hand with tag {tag}"
        )
    version = source_version(file_at(repo, found.source, VERSION_PATH))
    numbers = check_tag(tag, version)
    check_metadata(file_at(repo, found.source, "pyproject.toml"))
    try:
        git(repo, "merge-base", "--is-ancestor", found.source, default_branch)
    except ReleaseError:
        raise ReleaseError(
            f"{tag} ({found.source}) is not on {default_branch}: releases are cut from it"
        ) from None
    floating = moving_tags(numbers, git(repo, "tag", "--list", "v*").split())
    return [
        "skip=false",
        f"version={version}",
        f"tag={tag}",
        f"source-sha={found.source}",
        f"release-sha={found.release}",
        f"released-digest={found.digest}",
        f"epoch={git(repo, 'log', '-1', '--format=%ct', found.source)}",
        f"minor-tag={next((t for t in floating if t.count('.') == 1), '')}",
        f"major-tag={next((t for t in floating if '.' not in t), '')}",
        f"tags={' '.join([tag, *floating])}",
    ]


# ---------------------------------------------------------------- GitHub's Git Data API


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib repeats a request's headers on a redirect, the token included, wherever the
    redirect leads: the release's API calls follow none."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        """Refuse every redirect (urllib then raises the 3xx as an HTTPError)."""
        return None


def open_url(request: urllib.request.Request | str) -> bytes:
    """The body of a 2xx answer to ``request``, redirects refused, within API_TIMEOUT."""
    opener = urllib.request.build_opener(NoRedirects)
    with opener.open(request, timeout=API_TIMEOUT) as answer:
        body: bytes = answer.read()
        return body


# The token goes to GitHub over https only; plain http only to the loopback address the
# tests' local server listens on.
ALLOWED_URL = ("https://", "http://127.0.0.1:")


@dataclass(frozen=True)
class GitHub:
    """The REST API of one repository, with a token (``GH_TOKEN``)."""

    api_url: str
    repository: str
    token: str

    def call(
        self, method: str, path: str, body: dict[str, object] | None = None
    ) -> dict[str, object]:
        """One request; the decoded JSON object of a 2xx answer, else a ReleaseError."""
        url = f"{self.api_url.rstrip('/')}/repos/{self.repository}/{path}"
        if not url.startswith(ALLOWED_URL):
            raise ReleaseError(f"refusing to send the token to {url}")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        try:
            decoded = json.loads(open_url(request))
        except urllib.error.HTTPError as exc:
            raise ReleaseError(f"{method} {path}: HTTP {exc.code} {exc.reason}") from None
        except (OSError, ValueError) as exc:
            raise ReleaseError(f"{method} {path}: {exc}") from None
        if not isinstance(decoded, dict):
            raise ReleaseError(f"{method} {path}: the answer is not a JSON object")
        return decoded


def sha_of(answer: dict[str, object], what: str) -> str:
    """The ``sha`` of an API answer, checked to be a full object id."""
    sha = answer.get("sha")
    if not isinstance(sha, str) or not COMMIT.fullmatch(sha):
        raise ReleaseError(f"the API's answer for the {what} has no object sha")
    return sha


def create_release_commit(
    api: GitHub, source: str, action_text: str, message: str
) -> tuple[str, bool]:
    """A commit whose only parent is ``source`` and whose tree is source's with
    ``action.yml`` replaced: (its sha, whether GitHub verified its signature).

    Made through the Git Data API, so that GitHub signs it and no ref moves: the
    tags move later, together, once everything else has succeeded.
    """
    base = api.call("GET", f"git/commits/{source}")
    tree = base.get("tree")
    base_tree = sha_of(tree if isinstance(tree, dict) else {}, "source tree")
    blob = sha_of(
        api.call("POST", "git/blobs", {"content": action_text, "encoding": "utf-8"}), "blob"
    )
    entry = {"path": ACTION_PATH, "mode": "100644", "type": "blob", "sha": blob}
    new_tree = sha_of(
        api.call("POST", "git/trees", {"base_tree": base_tree, "tree": [entry]}), "tree"
    )
    body: dict[str, object] = {"message": message, "tree": new_tree, "parents": [source]}
    commit = api.call("POST", "git/commits", body)
    verification = commit.get("verification")
    verified = isinstance(verification, dict) and verification.get("verified") is True
    return sha_of(commit, "release commit"), verified


# ---------------------------------------------------------------- PyPI


def pypi_state(index_url: str, version: str, dist: Path) -> str:
    """``absent`` (upload), ``partial`` (upload what is missing), ``complete`` (skip).

    A file PyPI has under the same name with another hash is an error: PyPI never
    replaces a file, so the release would attach files PyPI does not serve.
    """
    local = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in dist.iterdir()}
    if not local:
        raise ReleaseError(f"{dist} holds no files to publish")
    published = pypi_files(index_url, version)
    differing = sorted(
        name for name, digest in local.items() if published.get(name, digest) != digest
    )
    if differing:
        raise ReleaseError(
            f"PyPI has {', '.join(differing)} of {version} with other contents than this "
            "build: PyPI never replaces a file; see docs/releasing.md (PyPI differs)"
        )
    if not published:
        return "absent"
    return "complete" if set(local) <= set(published) else "partial"


def pypi_files(index_url: str, version: str) -> dict[str, str]:
    """File name -> sha256 of the version's files on PyPI's JSON API ({} when absent)."""
    url = f"{index_url.rstrip('/')}/pypi/{PACKAGE}/{version}/json"
    if not url.startswith(ALLOWED_URL):
        raise ReleaseError(f"refusing a PyPI URL that is not https: {url}")
    try:
        decoded = json.loads(open_url(url))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {}
        raise ReleaseError(f"PyPI answered HTTP {exc.code} for {url}") from None
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"PyPI could not be read at {url}: {exc}") from None
    files = decoded.get("urls") if isinstance(decoded, dict) else None
    if not isinstance(files, list):
        raise ReleaseError(f"PyPI's answer for {url} lists no files")
    return {
        str(item["filename"]): str(item["digests"]["sha256"])
        for item in files
        if isinstance(item, dict)
    }


# ---------------------------------------------------------------- the tags


@dataclass(frozen=True)
class RemoteTag:
    """A tag on the remote: the object the ref names (a tag object for an annotated
    tag) and the commit it leads to."""

    target: str
    commit: str


def parse_ls_remote(text: str) -> dict[str, RemoteTag]:
    """``git ls-remote --tags`` output -> tag name -> RemoteTag (annotated tags peeled)."""
    objects: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in text.splitlines():
        sha, _, ref = line.partition("\t")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        elif ref.startswith("refs/tags/"):
            objects[name] = sha
    return {name: RemoteTag(sha, peeled.get(name, sha)) for name, sha in objects.items()}


def tag_updates(commit: str, tags: Iterable[str], remote: dict[str, RemoteTag]) -> list[str]:
    """``git push`` arguments moving each of ``tags`` not at ``commit`` yet: one lease per
    ref (its current object, or empty: it must not exist) and one refspec per ref."""
    moving = [tag for tag in tags if tag not in remote or remote[tag].commit != commit]
    leases = [
        f"--force-with-lease=refs/tags/{tag}:{remote[tag].target if tag in remote else ''}"
        for tag in moving
    ]
    return [*leases, *(f"{commit}:refs/tags/{tag}" for tag in moving)]


def move_tags(repo: Path, remote: str, commit: str, tags: list[str]) -> list[str]:
    """Point ``tags`` at ``commit`` on ``remote`` in one atomic push; lines saying what
    moved (nothing when every tag is in place already)."""
    if not COMMIT.fullmatch(commit):
        raise ReleaseError(f"the release commit must be a full sha, got {commit!r}")
    for tag in tags:
        if not re.fullmatch(r"v\d+(?:\.\d+){0,2}", tag):
            raise ReleaseError(f"not a release or floating tag: {tag!r}")
    current = parse_ls_remote(git(repo, "ls-remote", "--tags", remote))
    arguments = tag_updates(commit, tags, current)
    if not arguments:
        return [f"{' '.join(tags)} already point at {commit}"]
    if run_git(repo, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        git(repo, "fetch", "--quiet", "--no-tags", remote, commit)
    leases = [arg for arg in arguments if arg.startswith("--")]
    refspecs = arguments[len(leases) :]
    git(repo, "push", "--atomic", *leases, remote, *refspecs)
    return [f"moved {spec.split(':refs/tags/')[1]} to {commit}" for spec in refspecs]


# ---------------------------------------------------------------- command line


def plan(args: argparse.Namespace) -> list[str]:
    """The release's outputs (see plan_lines)."""
    return plan_lines(Path(args.repo), args.tag, args.event_sha, args.default_branch)


def pin(args: argparse.Namespace) -> list[str]:
    """Rewrite ``args.action`` in place; one line saying what it now runs."""
    reference = image_reference(args.image, args.digest)
    path = Path(args.action)
    path.write_text(
        pin_action(path.read_text(encoding="utf-8"), reference, args.tag), encoding="utf-8"
    )
    return [f"{path} now runs {reference}"]


def commit_action(args: argparse.Namespace) -> list[str]:
    """Create the release commit through the API; ``release-sha=...`` for $GITHUB_OUTPUT."""
    reference = image_reference(args.image, args.digest)
    if not COMMIT.fullmatch(args.source):
        raise ReleaseError(f"--source must be a full commit sha, got {args.source!r}")
    text = pin_action(file_at(Path(args.repo), args.source, ACTION_PATH), reference, args.tag)
    token = os.environ.get("GH_TOKEN", "")
    if not token:
        raise ReleaseError("GH_TOKEN is not set: the API needs the job's token")
    api = GitHub(args.api_url, args.repository, token)
    message = f"Release {args.tag}: the action runs {args.image}@{args.digest}"
    sha, verified = create_release_commit(api, args.source, text, message)
    return [f"release-sha={sha}", f"signed={'true' if verified else 'false'}"]


def pypi(args: argparse.Namespace) -> list[str]:
    """``state=...`` and ``publish=true|false`` for $GITHUB_OUTPUT."""
    state = pypi_state(args.index_url, args.version, Path(args.dist))
    return [f"state={state}", f"publish={'false' if state == 'complete' else 'true'}"]


def tags_cmd(args: argparse.Namespace) -> list[str]:
    """Move the tags (see move_tags)."""
    return move_tags(Path(args.repo), args.remote, args.commit, args.tags.split())


def add_image_arguments(command: argparse.ArgumentParser, tag_help: str) -> None:
    """The image, its digest and the release tag: what an action.yml pin is made of."""
    command.add_argument("--image", required=True, help="e.g. ghcr.io/owner/codearts-gate")
    command.add_argument("--digest", required=True, help="sha256:... of the pushed image index")
    command.add_argument("--tag", required=True, help=tag_help)


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per release step."""
    top = argparse.ArgumentParser(prog="release.py", description=__doc__)
    top.add_argument("--repo", default=str(REPO), help="the git checkout (default: this one)")
    commands = top.add_subparsers(required=True)
    plan_cmd = commands.add_parser("plan", help="check the tag, say what the release does")
    plan_cmd.add_argument("tag", help="the release tag, e.g. v1.2.3")
    plan_cmd.add_argument("--event-sha", default="", help="the pushed commit (push events)")
    plan_cmd.add_argument("--default-branch", default="origin/main", help="e.g. origin/main")
    plan_cmd.set_defaults(run=plan)
    pin_cmd = commands.add_parser("pin-action", help="make action.yml run the image by digest")
    add_image_arguments(pin_cmd, "the release tag, for the comment")
    pin_cmd.add_argument("--action", default=str(REPO / ACTION_PATH), help="action.yml path")
    pin_cmd.set_defaults(run=pin)
    commit_cmd = commands.add_parser("commit-action", help="create the release commit (API)")
    commit_cmd.add_argument("--source", required=True, help="the tagged commit of main")
    add_image_arguments(commit_cmd, "the release tag")
    commit_cmd.add_argument("--api-url", default="https://api.github.com", help="GITHUB_API_URL")
    commit_cmd.add_argument("--repository", required=True, help="OWNER/NAME")
    commit_cmd.set_defaults(run=commit_action)
    pypi_cmd = commands.add_parser("pypi-state", help="is the version on PyPI already?")
    pypi_cmd.add_argument("--version", required=True, help="e.g. 1.2.3")
    pypi_cmd.add_argument("--dist", default="dist", help="the folder of the sdist and wheel")
    pypi_cmd.add_argument("--index-url", default="https://pypi.org", help="PyPI's address")
    pypi_cmd.set_defaults(run=pypi)
    tags_parser = commands.add_parser("move-tags", help="point the tags at the release commit")
    tags_parser.add_argument("--commit", required=True, help="the release commit")
    tags_parser.add_argument("--tags", required=True, help="space-separated, e.g. 'v1.2.3 v1.2 v1'")
    tags_parser.add_argument("--remote", default="origin", help="git remote (name or URL)")
    tags_parser.set_defaults(run=tags_cmd)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command; a ReleaseError is one line on stderr and exit 1."""
    args = parser().parse_args(argv)
    try:
        lines = args.run(args)
    except (ReleaseError, OSError) as exc:
        print(f"release.py: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
