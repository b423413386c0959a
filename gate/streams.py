"""Standard streams that cannot end a run: closed (``>&-``), broken (``| head -c0``) or absent.

Every printer of the gate (the console table, the log, the heartbeat, workflow commands)
writes through a ``SafeStream``. A stream that is gone is a sink: what the gate says there
is lost, but the outputs are still written and the exit code still tells the verdict, so
the exit code and the JSON agree. A broken pipe is handled as the CPython documentation
advises (``signal`` docs, "Note on SIGPIPE"): the descriptor is pointed at ``/dev/null``,
so that flushing at exit cannot fail again and turn the exit code into 120.
"""

from __future__ import annotations

import contextlib
import io
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


class SafeStream(io.TextIOBase):
    """A text stream that never raises: writes to a closed or broken stream are dropped."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self.stream = stream
        self.gone = stream is None

    def write(self, text: str) -> int:
        """Write ``text`` if the stream is still there; its length either way."""
        if self.stream is not None and not self.gone:
            try:
                self.stream.write(text)
            except (OSError, ValueError) as err:  # EPIPE, EBADF, a closed file
                self._lose(err)
        return len(text)

    def flush(self) -> None:
        """Flush if the stream is still there."""
        if self.stream is not None and not self.gone:
            try:
                self.stream.flush()
            except (OSError, ValueError) as err:
                self._lose(err)

    def isatty(self) -> bool:
        """True only for a terminal that is still there."""
        if self.stream is None or self.gone:
            return False
        try:
            return self.stream.isatty()
        except (OSError, ValueError):
            return False

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"

    def _lose(self, err: BaseException) -> None:
        self.gone = True
        if isinstance(err, BrokenPipeError) and self.stream is not None:
            to_null(self.stream)


def to_null(stream: TextIO) -> None:
    """Point the descriptor of ``stream`` at ``/dev/null``: its buffer then drains there."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)


def safe(stream: TextIO | None) -> TextIO:
    """``stream`` behind a ``SafeStream`` (once: a safe stream is returned as it is)."""
    wrapped = stream if isinstance(stream, SafeStream) else SafeStream(stream)
    return wrapped  # type: ignore[return-value] # a TextIO to its writers (no typing.cast: startup)
