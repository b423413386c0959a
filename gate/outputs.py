"""Writing the files asked for: checked before anything is sent, written whole."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gate.errors import OutputError
from gate.settings import OutputPaths


def preflight(paths: OutputPaths) -> None:
    """Create parent folders and make sure every output can be written, else exit 2."""
    for name, path in paths.requested().items():
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
