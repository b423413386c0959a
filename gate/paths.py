"""Service paths to repository paths, so that annotations and code scanning land on files.

CodeArts Check reports ``file_path`` as its scanner saw it: sometimes repository-relative,
sometimes under the repository's name or an absolute build folder. ``--path-prefix-strip``
removes a known prefix; otherwise the leading folders are dropped one by one until what is
left names a file in the checkout (the working directory, where every CI system runs the
gate). The first prefix that worked is tried first for the next path.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_MISSES = 200
"""Distinct paths not found in the checkout after which detection stops (no checkout)."""


_DRIVE = re.compile(r"[A-Za-z]:")
_SEPARATOR = re.compile(r"/|\\(?!u(?:061c|200[b-f]|202[a-e]|206[0-9]|feff)|U000e00[0-7][0-9a-f])")
"""A path separator: ``/`` or ``\\``, but not the backslash of an invisible character the
gate shows escaped (``\\u202e``, see ``gate.text.bidi_shown``): a path keeps that shown."""


def normalized(path: str) -> str:
    """Forward slashes, no ``./``, leading ``/`` or drive letter: the shape of a repository-
    relative path. ``..`` is resolved within the path, and one that would climb above its
    start is dropped: no path leads outside the checkout (annotations, SARIF, detection)."""
    parts: list[str] = []
    for part in _SEPARATOR.split(path) if "\\" in path else path.split("/"):
        if part == "..":
            del parts[-1:]
        elif part not in ("", "."):
            parts.append(part)
    while parts and _DRIVE.fullmatch(parts[0]):
        del parts[0]  # C:\build\... is an absolute path, like /build/...
    return "/".join(parts)


class PathMapper:
    """Maps a service path to a checkout-relative one; remembers what it learnt."""

    def __init__(self, root: Path | None, prefix: str | None = None) -> None:
        self.root = root
        self.real_root = root.resolve() if root is not None else None
        self.prefix = normalized(prefix) if prefix else ""
        self.prefixes: list[str] = []  # learnt prefixes, most recent success first
        self.cache: dict[str, str] = {}
        self.misses = 0

    def __call__(self, path: str) -> str:
        """The repository-relative path for ``path`` (cached per distinct path)."""
        mapped = self.cache.get(path)
        if mapped is None:
            mapped = self.cache[path] = self._map(normalized(path))
        return mapped

    def _map(self, path: str) -> str:
        if self.prefix and (path == self.prefix or path.startswith(self.prefix + "/")):
            return normalized(path[len(self.prefix) :])  # what is left may start with C:
        if self.root is None or self.misses >= MAX_MISSES or self._exists(path):
            return path
        found = self._detect(path)
        if found is None:
            self.misses += 1
            return path
        return found

    def _detect(self, path: str) -> str | None:
        for prefix in self.prefixes:
            if path.startswith(prefix + "/") and self._exists(path[len(prefix) + 1 :]):
                return path[len(prefix) + 1 :]
        parts = path.split("/")
        for cut in range(1, len(parts)):
            rest = "/".join(parts[cut:])
            if self._exists(rest):
                self.prefixes.insert(0, "/".join(parts[:cut]))
                return rest
        return None

    def _exists(self, relative: str) -> bool:
        """True for a file of the checkout; never one a symbolic link leads to outside it
        (``relative`` is normalized: it holds no ``..``)."""
        assert self.root is not None and self.real_root is not None
        if not relative:
            return False
        try:
            target = self.root / relative
            return target.is_file() and target.resolve().is_relative_to(self.real_root)
        except (OSError, ValueError, RuntimeError):  # RuntimeError: a symbolic link loop
            return False
