"""Writing the files asked for: checked before anything is sent, written whole."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TextIO

from gate.errors import OutputError
from gate.settings import OutputPaths


def preflight(paths: OutputPaths) -> None:
    """Create parent folders and make sure every output can be written, else exit 2."""
    preflight_paths(paths.requested())


def preflight_paths(named: Mapping[str, str]) -> None:
    """``preflight`` for output paths by option name (``sarif``, ``junit``...)."""
    for name, path in named.items():
        target = Path(path)
        if target.is_dir():
            raise OutputError(f"--{name} {path!r} is a folder, not a file")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(
                f"--{name}: cannot create the folder of {path!r}: {err.strerror}"
            ) from None
        if not os.access(target.parent, os.W_OK | os.X_OK):
            raise OutputError(f"--{name}: the folder of {path!r} is not writable")


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    A special file such as ``/dev/stdout`` is written directly: renaming over it would
    replace it (as root, even the device link itself).
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # readable by the CI agent that collects it, like a plain file
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


STREAM_BUFFER = 1024 * 1024
"""Bytes buffered per streamed file: few large writes, so few waits for the GIL."""


@contextlib.contextmanager
def open_atomic(path: str) -> Iterator[TextIO]:
    """A UTF-8 text stream that lands at ``path`` whole when the block ends without error.

    Like ``write_atomic``, for output too large to build as one string first; on an error
    the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8", errors="replace") as handle:
            yield handle
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(
            fd, "w", STREAM_BUFFER, encoding="utf-8", errors="replace", newline="\n"
        ) as handle:
            yield handle
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
