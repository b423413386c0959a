"""One defect behind the counts, read once from the service's row and shared by every format.

A row of ``defects-detail`` is hostile text with every number as a string (or missing,
or ``null``). ``DefectReader`` turns it into a small frozen ``Defect``: severity named,
path mapped to the checkout, text made encodable, secrets redacted *before* it is cut,
and a fingerprint that stays the same across runs. Imports neither click nor requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice

from gate.structs import NamedTuple, field, record, replace
from gate.text import bidi_shown, encodable, redact

SEVERITIES = ("critical", "major", "minor", "suggestion")
"""Most severe first; the index is the service's ``defect_level`` / ``severity`` code."""

RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
_LEVEL_WORDS = {"fatal": "critical", "serious": "major", "general": "minor", "prompt": "suggestion"}
SECURITY_WORDS = ("security", "cwe", "owasp", "安全")
"""A rule whose tags contain one of these is a security rule (GitHub's security-severity)."""

TOP_PER_SEVERITY = 10
"""Defects the digest keeps per severity for the summary and the annotations."""

MESSAGE_LIMIT, FIX_LIMIT, NAME_LIMIT, PATH_LIMIT = 2000, 500, 200, 1000
MAX_FIXES, MAX_TAGS = 5, 20
MAX_FIX_TEXTS, MAX_DEPTH, MAX_TAG_PIECES = 100, 8, 100
"""Fix suggestions read per defect, how deep nested ``events`` are followed, and pieces of
``rule_system_tags`` read: bounded work per row whatever the service sends."""
CACHE_LIMIT = 50_000
"""Distinct rule names, checkers, paths and tag lists remembered by a reader."""
CACHE_CHARS = 4_000_000
"""Characters a reader's caches hold at most, keys and values together: memory is bounded
by what the gate keeps, whatever the service sends."""
KEY_LIMIT = 256
"""Longer field values are remembered by a hash of the whole value, not the value: a
service sending 100 kB names must not add megabytes per page."""


def clip(value: object, limit: int, secrets: Iterable[str]) -> str:
    """Service text made safe to carry: a string, encodable, secrets out, then cut."""
    if not isinstance(value, str):
        value = "" if value is None or isinstance(value, (dict, list)) else str(value)
    if not value.isascii():  # ASCII: no surrogate, no bidirectional control
        value = bidi_shown(encodable(value))
    text = redact(value, secrets)
    if len(text) <= limit:
        return text
    return redact(text[: limit - 1], secrets) + "…"  # the cut can leave a piece at the edge


def whole_number(value: object) -> int | None:
    """A non-negative integer from an int or a decimal string; None otherwise."""
    if type(value) is str:  # the common case first: the service sends numbers as strings
        text = value.strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    return None


MAX_POSITION = 2**31 - 1
"""Lines and columns past a 32-bit integer are unknown: a consumer that reads them as one
(Jenkins' SARIF parser) would reject the whole file."""


def position(value: object) -> int | None:
    """A line number or an offset: ``whole_number`` within ``MAX_POSITION``."""
    number = whole_number(value)
    return number if number is not None and number <= MAX_POSITION else None


def severity_of(level: object) -> str:
    """The severity name of a ``defect_level`` (``"0"``..``"3"`` or a name); minor if unknown."""
    number = whole_number(level)
    if number is not None and number < len(SEVERITIES):
        return SEVERITIES[number]
    word = str(level).strip().lower() if isinstance(level, str) else ""
    return word if word in RANK else _LEVEL_WORDS.get(word, "minor")


class Defect(NamedTuple):
    """One pending defect, as every output shows it. Columns are 1-based, end exclusive.

    A named tuple: immutable, small, and fast to build 300,000 times.
    """

    id: str
    severity: str
    checker: str
    rule: str
    path: str
    line: int
    message: str
    fingerprint: str = ""
    tags: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    start_column: int | None = None
    end_column: int | None = None
    suppressed: str | None = None
    """The reason of the ``[[suppress]]`` entry that suppresses it (its justification)."""

    @property
    def rank(self) -> int:
        """0 for critical ... 3 for suggestion."""
        return RANK[self.severity]

    @property
    def rule_id(self) -> str:
        """The checker, the stable id of a rule (the rule's name when there is no checker)."""
        return self.checker or self.rule or "unknown"

    @property
    def is_security(self) -> bool:
        """True when a tag marks the rule as a security one."""
        return any(word in tag.lower() for tag in self.tags for word in SECURITY_WORDS)

    def where(self) -> str:
        """``path:line``, the path alone, or ``(no file)``: never a bare ``:5``."""
        if not self.path:
            return "(no file)"
        return f"{self.path}:{self.line}" if self.line > 0 else self.path

    def text(self) -> str:
        """The message with the fix suggestions, as SARIF and the JUnit case show it."""
        fixes = "".join(f"\nFix: {fix}" for fix in self.fixes)
        return (self.message or self.rule or self.rule_id) + fixes

    def redacted(self, secrets: tuple[str, ...]) -> Defect:
        """This defect with every secret removed from its text fields."""
        return self._replace(
            checker=redact(self.checker, secrets),
            rule=redact(self.rule, secrets),
            path=redact(self.path, secrets),
            message=redact(self.message, secrets),
            tags=tuple(redact(t, secrets) for t in self.tags),
            fixes=tuple(redact(f, secrets) for f in self.fixes),
        )


def fix_texts(events: object, depth: int = 0) -> Iterator[object]:
    """The raw fix suggestions of nested ``events``, in order; nesting bounded."""
    if not isinstance(events, list) or depth > MAX_DEPTH:
        return
    for event in events:
        if isinstance(event, dict):
            fixes = event.get("fix_suggestions")
            if isinstance(fixes, list):
                yield from fixes
            if nested := event.get("events"):
                yield from fix_texts(nested, depth + 1)


def fix_suggestions(events: object, secrets: Iterable[str]) -> list[str]:
    """The first ``MAX_FIXES`` distinct fix suggestions of nested ``events``. At most
    ``MAX_FIX_TEXTS`` are read: a row with a million of them costs no more than a few."""
    found: list[str] = []
    for fix in islice(fix_texts(events), MAX_FIX_TEXTS):
        text = clip(fix, FIX_LIMIT, secrets).strip()
        if text and text not in found:
            found.append(text)
            if len(found) == MAX_FIXES:
                break
    return found


def columns_of(fragments: object, line: int) -> tuple[int | None, int | None, str]:
    """1-based start and exclusive end column from the fragment of ``line``, and its content.

    An offset of -1 means the whole line: no columns then.
    """
    if not isinstance(fragments, list):
        return None, None, ""
    for match in fragments:
        if isinstance(match, dict) and whole_number(match.get("line_num")) == line:
            break
    else:
        return None, None, ""
    content = match.get("line_content")
    content = content if isinstance(content, str) else ""
    start, end = position(match.get("start_offset")), position(match.get("end_offset"))
    if start is None or start >= MAX_POSITION or (content and start > len(content)):
        return None, None, content.strip()  # -1, past the line, or no 1-based int32 column
    if content and end is not None:
        end = min(end, len(content))
    if end is not None and not start < end < MAX_POSITION:
        end = None  # empty, reversed, or its 1-based column would not fit a 32-bit integer
    return start + 1, (None if end is None else end + 1), content.strip()


def tags_of(value: object, secrets: Iterable[str]) -> tuple[str, ...]:
    """``rule_system_tags`` (comma-separated) as distinct non-empty tags, bounded."""
    tags: list[str] = []
    for part in islice(clip(value, 2000, secrets).split(","), MAX_TAG_PIECES):
        tag = redact(part.strip()[:100], secrets)  # a piece of a secret by a comma: an edge
        if tag and tag not in tags:
            tags.append(tag)
            if len(tags) == MAX_TAGS:
                break
    return tuple(tags)


def cache_key(value: str) -> str | bytes:
    """``value`` itself when short; a 16-byte hash of the whole of it when long."""
    if len(value) <= KEY_LIMIT:
        return value
    import hashlib  # noqa: PLC0415 - only defect runs hash; every run imports this module

    data = value.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16, person=b"codearts-gate").digest()


class DefectReader:
    """Reads service rows into ``Defect``s: paths mapped, secrets out, fingerprints stable.

    Two defects with the same rule, file, code line and message get ``#2``, ``#3``...
    appended to their fingerprint, so that each keeps its own and the same one next run.
    """

    def __init__(self, map_path: Callable[[str], str], secrets: Iterable[str] = ()) -> None:
        self.map_path = map_path
        self.secrets = tuple(s for s in secrets if s)
        self._seen: set[int] = set()
        self._repeats: dict[str, int] = {}
        self._texts: dict[tuple[str | bytes, int], str] = {}  # few distinct rules and paths
        self._tags: dict[str | bytes, tuple[str, ...]] = {}
        self._chars = 0  # held by the two caches, keys and values

    def learn(self, secret: str) -> None:
        """Redact ``secret`` too from now on (an IAM token learnt mid-run)."""
        self.secrets += (secret,)
        self._texts.clear()
        self._tags.clear()
        self._chars = 0

    def cached(self, value: object, limit: int, then: Callable[[str], str] = str) -> str:
        """``then(clip(...))`` for fields with few distinct values, remembered (bounded)."""
        if not isinstance(value, str):
            return then(clip(value, limit, self.secrets))
        key = (cache_key(value), limit)
        text = self._texts.get(key)
        if text is None:
            text = then(clip(value, limit, self.secrets))
            if self._room(key[0], len(text)):
                self._texts[key] = text
        return text

    def _room(self, key: str | bytes, size: int) -> bool:
        """True (and counted) when an entry of ``key`` and ``size`` characters fits."""
        cost = len(key) + size + 64  # the dict slot and the objects' headers, roughly
        full = len(self._texts) + len(self._tags) >= CACHE_LIMIT
        if full or self._chars + cost > CACHE_CHARS:
            return False
        self._chars += cost
        return True

    def checkout_path(self, path: str) -> str:
        """``path`` mapped to the checkout, then redacted again: dropping ``./``, ``//`` or
        ``x/..`` can join the pieces of a secret, and dropping a prefix can leave one at the
        start."""
        mapped = self.map_path(path)
        return mapped if mapped == path else redact(mapped, self.secrets)

    def read(self, row: Mapping[str, object]) -> Defect:
        """The defect of one row; never raises on odd or missing fields."""
        secrets = self.secrets
        line = position(row.get("line_number")) or 0
        start, end, content = columns_of(row.get("fragment"), line)
        checker = self.cached(row.get("defect_checker_name"), NAME_LIMIT)
        rule = self.cached(row.get("rule_name"), NAME_LIMIT)
        path = self.cached(row.get("file_path"), PATH_LIMIT, self.checkout_path)
        message = clip(row.get("defect_content"), MESSAGE_LIMIT, secrets)
        anchor = clip(content, MESSAGE_LIMIT, secrets) or str(line)
        return Defect(
            id=clip(row.get("defect_id"), NAME_LIMIT, secrets),
            severity=severity_of(row.get("defect_level")),
            checker=checker,
            rule=rule,
            path=path,
            line=line,
            message=message,
            fingerprint=self.fingerprint(checker or rule or "unknown", path, anchor, message),
            tags=self.tags(row.get("rule_system_tags")),
            fixes=tuple(fix_suggestions(row.get("events"), secrets)),
            start_column=start,
            end_column=end,
        )

    def tags(self, value: object) -> tuple[str, ...]:
        """``tags_of``, remembered per distinct value (bounded)."""
        if not isinstance(value, str):
            return tags_of(value, self.secrets)
        key = cache_key(value)
        tags = self._tags.get(key)
        if tags is None:
            tags = tags_of(value, self.secrets)
            if self._room(key, sum(map(len, tags))):
                self._tags[key] = tags
        return tags

    def fingerprint(self, rule_id: str, path: str, anchor: str, message: str) -> str:
        """A hash of rule, path, code line (its text, so moving code keeps it) and message."""
        import hashlib  # noqa: PLC0415 - only defect runs hash; every run imports this module

        key = "\0".join((rule_id, path, anchor, message))
        base = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
        number = int(base[:16], 16)  # an int, not the string: 300,000 of them stay small
        if number not in self._seen:
            self._seen.add(number)
            return base
        self._repeats[base] = self._repeats.get(base, 1) + 1
        return f"{base}#{self._repeats[base]}"


@record
class DefectDigest:
    """What the summary and the annotations show of the defects: a few, and the counts.

    ``error`` says why the defects are missing (the verdict on the counts stands anyway).
    """

    severities: tuple[str, ...] = SEVERITIES
    fetched: int = 0
    total: int | None = None
    by_severity: Mapping[str, int] = field(default_factory=dict)
    top: Mapping[str, tuple[Defect, ...]] = field(default_factory=dict)
    sarif_omitted: int = 0
    codequality_omitted: int = 0
    """Defects left out of the Code Quality file: GitLab cannot place one without a path."""
    error: str | None = None
    stopped: str = ""
    """Why paging ended (a page added nothing new, a ceiling was reached...)."""
    capped: bool = False
    """True when a ceiling ended paging: there may be more defects than were fetched."""
    expected: int | None = None
    """What defects-statistic counted of the severities fetched (None: unknown)."""
    reported: int | None = None
    """What the judged report counted of the severities fetched (None: unknown)."""
    notes: tuple[str, ...] = ()
    """What the service did that makes its counts doubtful (a total that changed or that
    cannot be read)."""

    def counted(self) -> tuple[int, str] | None:
        """The largest count the service gave of the defects fetched, and where it said it."""
        counts = [
            (number, source)
            for number, source in (
                (self.total, "defects-detail"),
                (self.expected, "defects-statistic"),
                (self.reported, "the report"),
            )
            if number is not None
        ]
        return max(counts, key=lambda pair: pair[0]) if counts else None

    @property
    def missing(self) -> int | None:
        """Defects counted but not fetched (0: none missing; None: nothing counted them)."""
        found = self.counted()
        return None if found is None else max(0, found[0] - self.fetched)

    @property
    def incomplete(self) -> bool:
        """True when the service counted more defects than it handed out (in a page's
        ``total``, in defects-statistic or in the report), or a ceiling ended paging."""
        return self.error is None and (self.capped or bool(self.missing))

    def shortfall(self) -> str:
        """What was fetched of how many, for a message on an incomplete fetch."""
        found = self.counted()
        if found is not None and found[0] > self.fetched:
            number, source = found
            missing = number - self.fetched
            return (
                f"{self.fetched} of the {number} defects the service counted "
                f"({missing} missing, per {source})"
            )
        return f"the first {self.fetched} defects"

    def doubts(self) -> str:
        """The notes, as one sentence ("" without any)."""
        return "; ".join(self.notes)

    def most_severe(self, severities: Iterable[str] = SEVERITIES) -> list[Defect]:
        """The kept defects of ``severities``, most severe first."""
        wanted = set(severities)
        return [d for s in SEVERITIES if s in wanted for d in self.top.get(s, ())]

    def count(self, severities: Iterable[str] = SEVERITIES) -> int:
        """Defects fetched of ``severities``."""
        return sum(self.by_severity.get(s, 0) for s in set(severities))

    def redacted(self, secrets: tuple[str, ...]) -> DefectDigest:
        """This digest with every secret removed from the defects and the error."""
        top = {s: tuple(d.redacted(secrets) for d in ds) for s, ds in self.top.items()}
        return replace(self, top=top, error=self.error and redact(self.error, secrets))


class DigestBuilder:
    """Counts every defect and keeps the first few of each severity (a sink of the fetch)."""

    def __init__(self, severities: tuple[str, ...], keep: int = TOP_PER_SEVERITY) -> None:
        self.severities = severities
        self.by_severity = dict.fromkeys(SEVERITIES, 0)
        self.top: dict[str, list[Defect]] = {s: [] for s in SEVERITIES}
        self.keep = keep

    @property
    def fetched(self) -> int:
        """Defects added so far."""
        return sum(self.by_severity.values())

    def add(self, defect: Defect) -> None:
        """Count ``defect``; keep it when its severity has room."""
        self.by_severity[defect.severity] += 1
        kept = self.top[defect.severity]
        if len(kept) < self.keep:
            kept.append(defect)

    def digest(
        self,
        total: int | None,
        sarif_omitted: int = 0,
        stopped: str = "",
        capped: bool = False,
        codequality_omitted: int = 0,
        *,
        expected: int | None = None,
        reported: int | None = None,
        notes: tuple[str, ...] = (),
    ) -> DefectDigest:
        """The digest of what was added, with what the service counted of it."""
        return DefectDigest(
            expected=expected,
            reported=reported,
            notes=notes,
            severities=self.severities,
            fetched=sum(self.by_severity.values()),
            total=total,
            by_severity={s: n for s, n in self.by_severity.items() if n},
            top={s: tuple(ds) for s, ds in self.top.items() if ds},
            sarif_omitted=sarif_omitted,
            codequality_omitted=codequality_omitted,
            stopped=stopped,
            capped=capped,
        )


def default_severities(metrics: Iterable[str]) -> tuple[str, ...]:
    """The severities that have a threshold; all of them when none has one."""
    chosen = set(metrics) & set(SEVERITIES)
    return tuple(s for s in SEVERITIES if s in chosen) or SEVERITIES


@record
class FetchInfo:
    """How the fetch ended, for the outputs to say: totals, or why there are no defects."""

    fetched: int = 0
    total: int | None = None
    error: str | None = None
    incomplete: str | None = None
    """Why the defects written are not all the service counted (None: nothing says so)."""
