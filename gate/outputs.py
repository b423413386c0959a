"""Writing the files asked for: checked before anything is sent, written whole.

What a path is, is decided from the path itself (``os.lstat``), never from where a link
leads (``target_of``):

- a regular file, or nothing yet: written to a temporary file beside it, then renamed
  into place, so that a reader never sees half a file;
- the gate's own standard output or error (``/dev/stdout``, ``/proc/self/fd/1``, a link
  to one of them): written through that stream, in order with what the gate prints;
- any other link, a device, a FIFO, a socket: written in place through the path, never
  renamed over (as root, renaming over ``/dev/stdout`` replaced the device link for every
  later process).

Standard streams, devices, FIFOs and sockets may be the CI job log, where GitHub's runner
reads a line starting with ``::`` or holding ``##[`` as a workflow command: what goes
there has them broken, with an escape each format reads back as the same text
(``job_log_safe``), so that the document stays valid for its consumer.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from gate.errors import OutputError
from gate.structs import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

_STREAM_PATH = re.compile(
    r"/dev/(?:std(?:in|out|err)|fd/\d+)|/proc/(?:self|thread-self|\d+)(?:/task/\d+)?/fd/\d+"
)
"""Paths that name an open stream of a process: in CI, usually the job log."""
MAX_LINKS = 40
"""Links followed, at most, to see whether a path leads to a stream (as the kernel does)."""


@record
class Target:
    """What writing to a path means (see the module's description)."""

    replaceable: bool
    """A regular file or a new path: written beside, then renamed into place."""
    stream: int | None = None
    """The gate's own standard output (1) or error (2), when the path is one of them."""
    job_log: bool = False
    """The path may be the CI job log: workflow commands must be broken."""


def target_of(path: str) -> Target:
    """What ``path`` is, decided from the path itself (``lstat``), not from a link's target."""
    names_stream = _leads_to_stream_path(path)
    try:
        info = os.lstat(path)
    except OSError:
        return Target(replaceable=not names_stream, job_log=names_stream)
    if stat.S_ISREG(info.st_mode):
        return Target(replaceable=True)
    stream = own_stream(path)
    special = _is_special(path)
    return Target(replaceable=False, stream=stream, job_log=names_stream or special or bool(stream))


def _leads_to_stream_path(path: str) -> bool:
    """Whether ``path``, or a link on the way from it, names a stream (``/dev/stdout``)."""
    for _ in range(MAX_LINKS):
        if _STREAM_PATH.fullmatch(os.path.normpath(os.path.abspath(path))):
            return True
        try:
            link = os.readlink(path)
        except OSError:
            return False
        path = os.path.join(os.path.dirname(path), link)
    return False


def _is_special(path: str) -> bool:
    """A character device, a FIFO or a socket at the end of ``path`` (links followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def own_stream(path: str) -> int | None:
    """1 or 2 when ``path`` leads to the file the gate's standard output or error is."""
    try:
        where = os.stat(path)
    except OSError:
        return None
    for fd in _streams_named_first(path):
        with contextlib.suppress(OSError):
            mine = os.fstat(fd)
            if (mine.st_dev, mine.st_ino) == (where.st_dev, where.st_ino):
                return fd
    return None


def _streams_named_first(path: str) -> tuple[int, int]:
    """Standard error first for a path naming it: both streams may be one file (``2>&1``)."""
    return (2, 1) if path.endswith(("stderr", "/2")) else (1, 2)


def preflight_paths(named: Mapping[str, str]) -> None:
    """Create parent folders and make sure every output (by option name: ``junit``,
    ``sarif``...) can be written, each to its own file, else one error naming them all."""
    problems = [p for name, path in named.items() if (p := output_problem(name, path))]
    problems += shared_files(named)
    if problems:
        raise OutputError("; ".join(problems))


def shared_files(named: Mapping[str, str]) -> list[str]:
    """Outputs that name one file: the last written would replace the others. A stream, a
    device or a FIFO (``/dev/stdout``) may be shared on purpose."""
    first: dict[str, str] = {}
    problems = []
    for name, path in named.items():
        target = target_of(path)
        if target.stream is not None or (not target.replaceable and _is_special(path)):
            continue
        same = first.setdefault(os.path.realpath(path), name)
        if same != name:
            problems.append(f"--{same} and --{name} name the same file {path!r}")
    return problems


def output_problem(name: str, path: str) -> str | None:
    """Why output ``name`` cannot be written at ``path``, or None."""
    try:
        if Path(path).is_dir():
            return f"--{name} {path!r} is a folder, not a file"
    except OSError as err:
        return f"--{name}: cannot reach {path!r}: {err.strerror}"
    where = target_of(path)
    if where.replaceable:
        return _folder_problem(name, path)
    # written in place: its folder need not be writable, the file itself must be
    if where.stream is None and os.path.exists(path) and not os.access(path, os.W_OK):
        return f"--{name} {path!r} is not writable"
    return None


def _folder_problem(name: str, path: str) -> str | None:
    """Why the folder of ``path`` cannot take a new file (created when missing), or None."""
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"--{name}: cannot create the folder of {path!r}: {err.strerror}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"--{name}: the folder of {path!r} is not writable"
    return None


def write_atomic(path: str, text: str, *, kind: str) -> None:
    """Write ``text``, output ``kind`` (``json``, ``junit``...), to ``path`` whole (see
    ``open_atomic``)."""
    with open_atomic(path, kind=kind) as handle:
        handle.write(text)


@contextlib.contextmanager
def open_special(path: str) -> Iterator[TextIO]:
    """Open a device, a FIFO or a link for writing, in place; opening never blocks (a FIFO
    without a reader: ``ENXIO``). A link to a regular file: that file, emptied first."""
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0)
    if not _is_special(path):
        flags |= os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o666)
    with contextlib.suppress(OSError):
        os.set_blocking(fd, True)
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="\n") as handle:
        yield handle


@contextlib.contextmanager
def open_stream(fd: int) -> Iterator[TextIO]:
    """The gate's standard output or error, for an output file, in order with its prints."""
    for printed in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or replaced stream: nothing to flush
            printed.flush()
    with os.fdopen(os.dup(fd), "w", encoding="utf-8", errors="replace", newline="\n") as handle:
        yield handle


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


STREAM_BUFFER = 1024 * 1024
"""Bytes buffered per streamed file: few large writes, so few waits for the GIL."""


TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def create_beside(target: Path) -> tuple[int, str]:
    """A new file beside ``target`` under an unguessable name, open, mode 0600: what
    ``tempfile.mkstemp`` does, without the import of tempfile, shutil and random that
    every verdict would pay for."""
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, TEMP_FLAGS | getattr(os, "O_CLOEXEC", 0), 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target.parent))


@contextlib.contextmanager
def open_atomic(path: str, *, kind: str) -> Iterator[TextIO]:
    """A UTF-8 text stream for output ``kind`` that lands at ``path`` whole when the block
    ends without error; on an error the temporary file is removed and ``path`` is left as
    it was.

    Only a regular file or a new path is replaced that way; a stream, a link, a device or a
    FIFO is written in place (a FIFO nobody reads is an error, not a hang), and what may be
    the job log has its workflow commands broken (``job_log_safe``). A file keeps the mode
    it had; a new one gets the umask's.
    """
    target = target_of(path)
    if not target.replaceable:
        opened = open_stream(target.stream) if target.stream else open_special(path)
        with opened as handle:
            if not target.job_log:
                yield handle
                return
            safe = JobLogWriter(handle, kind)
            yield safe  # type: ignore[misc] # it writes as a TextIO does (no typing.cast: startup)
            safe.finish()
        return
    with _replacing(Path(path)) as handle:
        yield handle


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[TextIO]:
    """A temporary file beside ``target``, renamed over it when the block ends well."""
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~current_umask()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_beside(target)
    try:
        with os.fdopen(
            fd, "w", STREAM_BUFFER, encoding="utf-8", errors="replace", newline="\n"
        ) as handle:
            yield handle
        os.chmod(tmp, mode)  # created 0600
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- the job log

_JSON_IN_LOG = str.maketrans(
    {"#": "\\u0023", **{chr(c): f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), 0x2028, 0x2029)}}
)
"""JSON: every ``#`` (only ever inside a string) and every raw control or line separator
the encoder let through, written as ``\\uNNNN``: the same string to a JSON reader. A JSON
line cannot start with ``:`` (a string cannot hold a raw line break)."""
_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_LEADING_COLON = re.compile(r"^(\s*):")


def _xml_line(line: str) -> str:
    """A line of XML text or attribute: character references read back as the same text."""
    line = _RAW_CONTROL.sub(lambda m: f"&#{ord(m.group())};", line)
    return _LEADING_COLON.sub(r"\1&#58;", line.replace("##[", "&#35;#["))


def _markdown_line(line: str) -> str:
    """A line of Markdown: backslash escapes and character references (CommonMark)."""
    line = _RAW_CONTROL.sub(lambda m: f"&#{ord(m.group())};", line)
    return _LEADING_COLON.sub(r"\1\\:", line.replace("##[", "#\\#["))


LINE_ESCAPES: dict[str, Callable[[str], str]] = {
    "junit": _xml_line,
    "junit-defects": _xml_line,
    "summary": _markdown_line,
}
"""Per output kind, how a line is escaped for the job log."""
JSON_KINDS = frozenset({"json", "sarif", "codequality"})
"""Output kinds that are JSON: no line needed, each character is escaped on its own."""


def job_log_safe(kind: str, text: str) -> str:
    """``text`` of output ``kind`` with no line the runner reads as a workflow command."""
    if kind in JSON_KINDS:
        return text.translate(_JSON_IN_LOG)
    escape = LINE_ESCAPES[kind]  # a new kind must say how it is escaped
    return "\n".join(escape(line) for line in text.split("\n"))


class JobLogWriter:
    """A text stream that passes on what is written ``job_log_safe``: JSON at once, line
    formats a line at a time (a command split between two writes is still found)."""

    def __init__(self, handle: TextIO, kind: str) -> None:
        self.handle, self.kind = handle, kind
        self.by_line = kind in LINE_ESCAPES
        self.pending: list[str] = []

    def write(self, text: str) -> int:
        """Pass on what is complete of ``text``; keep an unfinished line."""
        if not self.by_line:
            self.handle.write(job_log_safe(self.kind, text))
            return len(text)
        head, newline, rest = text.rpartition("\n")
        if newline:
            self.handle.write(job_log_safe(self.kind, "".join([*self.pending, head, "\n"])))
            self.pending = []
        self.pending.append(rest)
        return len(text)

    def flush(self) -> None:
        """Flush the stream below (an unfinished line waits for its end)."""
        self.handle.flush()

    def finish(self) -> None:
        """Pass on the last, unfinished line."""
        if self.pending:
            self.handle.write(job_log_safe(self.kind, "".join(self.pending)))
            self.pending = []
