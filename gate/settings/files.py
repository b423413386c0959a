"""Reading the files a setting names: never blocking on a FIFO without a writer."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def read_text_nowait(path: str) -> str:
    """A file's UTF-8 text; a FIFO nobody writes to reads as empty instead of hanging."""
    return read_bytes_nowait(path).decode("utf-8")


def read_bytes_nowait(path: str | Path, limit: int = -1) -> bytes:
    """A file's bytes (at most ``limit``, all when negative: an endless file such as
    ``/dev/zero`` is cut there); opening never blocks (a FIFO without a writer is at its
    end at once).

    Reading still waits for a writer that is there, so ``--report-file <(...)`` works."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with contextlib.suppress(OSError):
        os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit)


def is_readable_file(path: str) -> bool:
    """True for a regular file this process can read; False for anything else, including
    paths the system refuses to look at (too long, in a folder it cannot enter)."""
    try:
        return Path(path).is_file() and os.access(path, os.R_OK)
    except (OSError, ValueError):
        return False
