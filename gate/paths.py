"""Service paths to repository paths, so that annotations and code scanning land on files.

CodeArts Check reports ``file_path`` as its scanner saw it: sometimes repository-relative,
sometimes under the repository's name or an absolute build folder. ``--path-prefix-strip``
removes a known prefix; otherwise the leading folders are dropped one by one until what is
left names a file in the checkout (the working directory, where every CI system runs the
gate). The first prefix that worked is tried first for the next path.
"""

from __future__ import annotations

from pathlib import Path

MAX_MISSES = 200
"""Distinct paths not found in the checkout after which detection stops (no checkout)."""


def normalized(path: str) -> str:
    """Forward slashes, no ``./`` or leading ``/``: the shape of a repository-relative path."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


class PathMapper:
    """Maps a service path to a checkout-relative one; remembers what it learnt."""

    def __init__(self, root: Path | None, prefix: str | None = None) -> None:
        self.root = root
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
            return path[len(self.prefix) :].lstrip("/")
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
        assert self.root is not None
        if not relative or ".." in relative.split("/"):  # never look outside the checkout
            return False
        try:
            return (self.root / relative).is_file()
        except (OSError, ValueError):
            return False
