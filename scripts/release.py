"""Release helpers for the tag-push workflow (.github/workflows/release.yml).

``plan TAG``: check that the pushed tag names the version in gate/__init__.py and say
which tags the release sets. ``pin-action``: rewrite action.yml so that the action runs
the released image by digest instead of building the Dockerfile. Standard library only:
the release job runs this before anything is installed. docs/releasing.md tells the
whole story.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERSION_FILE = REPO / "gate" / "__init__.py"

RELEASE_TAG = re.compile(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
# An image name without tag or digest, lower case as OCI registries require.
IMAGE_NAME = re.compile(
    r"[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+"
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# The one line main carries: the action builds the Dockerfile (quotes and a comment allowed).
DOCKERFILE_IMAGE = re.compile(r"""^(?P<indent>[ ]+)image:[ ]*(['"]?)Dockerfile\2[ ]*(?:#.*)?$""")

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


def dockerfile_image_line(lines: list[str]) -> tuple[int, str]:
    """Index and indentation of the ``image: Dockerfile`` key directly under ``runs:``."""
    block = runs_block(lines)
    keys = [lines[i] for i in block if re.match(r"[ ]+[^\s#]", lines[i])]
    depth = len(keys[0]) - len(keys[0].lstrip(" ")) if keys else 0
    found = [
        (i, m["indent"])
        for i in block
        if (m := DOCKERFILE_IMAGE.fullmatch(lines[i])) and len(m["indent"]) == depth
    ]
    if len(found) != 1:
        raise ReleaseError(
            "runs: in action.yml has no 'image: Dockerfile' line to pin (already pinned?)"
        )
    return found[0]


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


# ---------------------------------------------------------------- command line


def plan(args: argparse.Namespace) -> list[str]:
    """``key=value`` lines for $GITHUB_OUTPUT describing the release of ``args.tag``."""
    version = source_version(VERSION_FILE.read_text(encoding="utf-8"))
    numbers = check_tag(args.tag, version)
    existing = [line.strip() for line in args.existing_tags if line.strip()]
    floating = moving_tags(numbers, existing)
    return [
        f"version={version}",
        f"tag={args.tag}",
        f"minor-tag={next((t for t in floating if t.count('.') == 1), '')}",
        f"major-tag={next((t for t in floating if '.' not in t), '')}",
        f"tags={' '.join([args.tag, *floating])}",
    ]


def pin(args: argparse.Namespace) -> list[str]:
    """Rewrite ``args.action`` in place; one line saying what it now runs."""
    reference = image_reference(args.image, args.digest)
    path = Path(args.action)
    path.write_text(
        pin_action(path.read_text(encoding="utf-8"), reference, args.tag), encoding="utf-8"
    )
    return [f"{path} now runs {reference}"]


def parser() -> argparse.ArgumentParser:
    """The command line: ``plan`` and ``pin-action``."""
    top = argparse.ArgumentParser(prog="release.py", description=__doc__)
    commands = top.add_subparsers(required=True)
    plan_cmd = commands.add_parser("plan", help="check the tag, print the release's tags")
    plan_cmd.add_argument("tag", help="the pushed tag, e.g. v1.2.3")
    plan_cmd.add_argument(
        "--existing-tags",
        type=argparse.FileType("r", encoding="utf-8"),
        default=[],
        help="file listing the repository's tags, one a line ('-' for stdin)",
    )
    plan_cmd.set_defaults(run=plan)
    pin_cmd = commands.add_parser("pin-action", help="make action.yml run the image by digest")
    pin_cmd.add_argument("--image", required=True, help="e.g. ghcr.io/owner/codearts-gate")
    pin_cmd.add_argument("--digest", required=True, help="sha256:... of the pushed image index")
    pin_cmd.add_argument("--tag", required=True, help="the release tag, for the comment")
    pin_cmd.add_argument("--action", default=str(REPO / "action.yml"), help="action.yml path")
    pin_cmd.set_defaults(run=pin)
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
