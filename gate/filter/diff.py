"""The lines a change adds or modifies, read from ``git diff --unified=0`` text.

Input is the exact output of ``git diff --unified=0 --no-color --no-ext-diff -M``
(bytes: paths need not be UTF-8, content may hold CR). With no context lines, every line
of a hunk's new side is an added or modified line, so the hunk header ``@@ -a,b +c,d @@``
alone says which lines of the new file the change touches: ``c`` to ``c+d-1``. The
content lines are skipped by count (a removed line reading ``-- a/x`` looks like a file
header otherwise). Renames name the new path; deleted files, binary files and mode-only
changes have no hunk and contribute nothing. Paths arrive C-quoted when git quotes them
(``"a\\303\\251 b.c"``) or raw (``core.quotePath=false``); both are read.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from gate.defects import Defect
from gate.paths import normalized
from gate.structs import field, record

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}


def unquote_c(quoted: bytes) -> bytes:
    """A path as git C-quotes it (``"a\\303\\251 b.c"``), back to its bytes; a path
    without quotes is returned as it is."""
    if not (len(quoted) >= 2 and quoted[:1] == b'"' and quoted[-1:] == b'"'):
        return quoted
    body, out, i = quoted[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char != 92 or i + 1 == len(body):  # not a backslash (or a lone one at the end)
            out.append(char)
            i += 1
        elif body[i + 1 : i + 4].isdigit() and len(body[i + 1 : i + 4]) == 3:
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
    return bytes(out)


def header_path(rest: bytes, prefix: bytes) -> str | None:
    """The path of a ``+++ b/path`` line (``rest`` is what follows ``+++ ``); None for
    ``/dev/null``. Git ends the name with a tab when it holds a space (for patch)."""
    rest = rest.removesuffix(b"\t")
    if rest == b"/dev/null":
        return None
    raw = unquote_c(rest)
    raw = raw[len(prefix) :] if raw.startswith(prefix) else raw
    return normalized(raw.decode("utf-8", "replace"))


@record(frozen=False)
class ChangedLines:
    """For each path of the new side, the line ranges the change adds or modifies."""

    ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    _starts: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def add(self, path: str, first: int, count: int) -> None:
        """Lines ``first`` .. ``first + count - 1`` of ``path`` are changed."""
        if count > 0:
            self.ranges.setdefault(path, []).append((first, first + count))
            self._starts.pop(path, None)

    def contains(self, path: str, line: int) -> bool:
        """True when ``line`` of ``path`` (in the new file) is added or modified."""
        ranges = self.ranges.get(path)
        if not ranges or line <= 0:
            return False
        starts = self._starts.get(path)
        if starts is None:
            ranges.sort()
            starts = self._starts[path] = [start for start, _ in ranges]
        index = bisect_right(starts, line) - 1
        return index >= 0 and line < ranges[index][1]

    def lines(self, path: str) -> set[int]:
        """Every changed line of ``path`` (for tests and small files)."""
        return {n for start, end in self.ranges.get(path, []) for n in range(start, end)}

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths with at least one changed line."""
        return tuple(sorted(self.ranges))

    def line_count(self) -> int:
        """How many lines the change adds or modifies in all."""
        return sum(end - start for ranges in self.ranges.values() for start, end in ranges)


def parse_diff(text: bytes, dst_prefix: bytes = b"b/") -> ChangedLines:
    """The added and modified lines of each new-side path of a ``--unified=0`` diff."""
    changed = ChangedLines()
    path: str | None = None
    skip = 0  # content lines of the current hunk still to pass over
    for line in text.split(b"\n"):  # not splitlines(): a CR inside a line is content
        if skip > 0:
            if not line.startswith(b"\\"):  # "\ No newline at end of file" is not counted
                skip -= 1
            continue
        if line.startswith(b"diff "):
            path = None
        elif line.startswith(b"+++ "):
            path = header_path(line[4:], dst_prefix)
        elif line.startswith(b"@@ ") and (hunk := _HUNK.match(line)):
            old = int(hunk.group(1) or b"1")
            first, new = int(hunk.group(2)), int(hunk.group(3) or b"1")
            skip = old + new
            if path is not None:
                changed.add(path, first, new)
    return changed


def in_change(defects: Iterable[Defect], changed: ChangedLines) -> Iterator[Defect]:
    """The defects whose path (already mapped to the checkout) and line are an added or
    modified line of the change."""
    for defect in defects:
        if changed.contains(defect.path, defect.line):
            yield defect
