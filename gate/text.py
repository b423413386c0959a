"""Helpers for untrusted text: the service's messages, URLs and tool names.

Secrets are removed *before* text is cut: ``one_line`` and ``preview`` redact the secrets
of the run (``use_secrets``) in every form a service may echo them (URL-encoded,
base64, JSON-escaped), then cut, then treat a long-enough piece of a secret left at an
edge (the start, the end, an ellipsis) as the secret. Everything that folds service text
through them inherits that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

_SURROGATE = re.compile("[\ud800-\udfff]")
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Invisible characters that reorder the text around them (Trojan Source): shown, never
passed on, so that service text cannot make a file name or a message read otherwise."""
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
_CONTROL_BUT_LF = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
_PERCENT = re.compile(r"%[0-9A-F]{2}")
_ELLIPSIS = re.compile(r"…|\.\.\.")
MASK = "***"
MIN_FRAGMENT = 6
"""A piece of a secret at least this long, left at a cut edge, is redacted like the secret."""
_LEGACY_COMMAND = "##["
"""GitHub's runner reads ``##[command]`` anywhere in a log line (the legacy syntax)."""

_run_secrets: tuple[str, ...] = ()


def use_secrets(secrets: Iterable[str]) -> None:
    """Declare the secrets of this run: every later ``redact``/``one_line``/``preview``
    removes them. Replaces what was declared before (one run, one set)."""
    global _run_secrets  # noqa: PLW0603 - one run per process; every printer must see them
    _run_secrets = tuple(dict.fromkeys(s for s in secrets if s))


def add_secret(secret: str) -> None:
    """Add a secret learnt during the run (an IAM token) to the declared ones."""
    use_secrets([*_run_secrets, secret])


def run_secrets() -> tuple[str, ...]:
    """The secrets declared for this run."""
    return _run_secrets


def encodable(text: str) -> str:
    """Untrusted text that UTF-8 can carry: lone surrogates (from ``\\ud800`` escapes in
    JSON) become U+FFFD instead of failing every write later."""
    return _SURROGATE.sub("\ufffd", text)


def escape_controls(text: str, *, keep_line_feeds: bool = False) -> str:
    """Control, line-separator and bidirectional characters shown as ``\\xNN``, so that a
    log viewer never receives a raw escape sequence (line feeds kept when asked)."""
    pattern = _CONTROL_BUT_LF if keep_line_feeds else _CONTROL
    return pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def bidi_shown(text: str) -> str:
    """``text`` with its bidirectional controls shown as ``\\u202e`` (see ``BIDI_CONTROLS``)."""
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@lru_cache(maxsize=64)
def secret_forms(secret: str) -> tuple[str, ...]:
    """The secret as a service may echo it: as is, URL-encoded, JSON-escaped, HTML-escaped,
    and base64 (standard and URL-safe, at each of the three byte alignments, so that the
    secret is found inside a longer encoded value such as ``Basic base64(user:password)``).
    Longest first, so that a longer form is replaced before a shorter one it contains."""
    import html  # noqa: PLC0415 - only runs that hold a secret: offline verdicts skip it

    forms = {secret, html.escape(secret), quote(quote(secret, safe=""), safe="")}
    for url in (quote(secret, safe=""), quote(secret), quote_plus(secret)):
        forms |= {url, _PERCENT.sub(lambda m: m.group().lower(), url)}
    for ascii_only in (True, False):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    forms |= set(_base64_cores(secret.encode("utf-8", "surrogatepass")))
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def _base64_cores(data: bytes) -> Iterable[str]:
    """The part of base64(… + data + …) that depends only on ``data``, per alignment."""
    import base64  # noqa: PLC0415 - only runs that hold a secret: offline verdicts skip it

    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data).decode("ascii")
        start = (shift * 4 + 2) // 3  # characters touched by the bytes before the secret
        end = (shift + len(data)) // 3 * 4  # whole groups only: the tail depends on what follows
        core = encoded[start:end]
        if len(core) >= 8:  # shorter cores would match by chance
            yield core
            yield core.replace("+", "-").replace("/", "_")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret (``secrets`` and the run's), in every form, replaced by
    ``***``, and any piece of one at least ``MIN_FRAGMENT`` long at an edge of the text."""
    forms = _forms_of(tuple(secrets), _run_secrets)
    if forms is None:
        return text
    if forms.anywhere.search(text):  # one scan for the common case of no secret at all
        for form in forms.longest_first:  # longest first: a longer form before its parts
            text = text.replace(form, MASK)
    return _redact_edges(text, forms)


@lru_cache(maxsize=16)
def _forms_of(given: tuple[str, ...], declared: tuple[str, ...]) -> _Forms | None:
    """The forms of the distinct non-empty secrets of both sets, None without any; built
    once per set of secrets (redaction is hot: it runs on every field of every defect)."""
    values = tuple(dict.fromkeys(s for s in (*given, *declared) if s))
    return _Forms(values) if values else None


class _Forms:
    """Every form of a set of secrets, longest first, with what the edge search needs
    precomputed: the pieces of ``MIN_FRAGMENT`` characters that can start or end a cut."""

    def __init__(self, values: tuple[str, ...]) -> None:
        self.longest_first = sorted(
            {f for s in values for f in secret_forms(s)}, key=len, reverse=True
        )
        self.anywhere = re.compile("|".join(map(re.escape, self.longest_first)))
        self.pieces = frozenset(
            form[i : i + MIN_FRAGMENT]
            for form in self.longest_first
            for i in range(len(form) - MIN_FRAGMENT + 1)
        )

    def may_cut(self, text: str) -> bool:
        """Whether ``text`` starts or ends with a piece of some form: else no edge holds one."""
        return text[:MIN_FRAGMENT] in self.pieces or text[-MIN_FRAGMENT:] in self.pieces


def _redact_edges(text: str, forms: _Forms) -> str:
    """Pieces of a secret at the start or end of ``text`` or beside an ellipsis: what a
    cut (the service's or ours) leaves of a secret."""
    if "…" not in text and "..." not in text:
        return _trim_edges(text, forms)
    parts = _ELLIPSIS.split(text)
    if len(parts) == 1:
        return _trim_edges(text, forms)
    marks = _ELLIPSIS.findall(text)
    cleaned = [_trim_edges(part, forms) for part in parts]
    return "".join(p + m for p, m in zip(cleaned, [*marks, ""], strict=True))


def _trim_edges(text: str, forms: _Forms) -> str:
    if not forms.may_cut(text):
        return text  # the common case, decided without a search per form
    core = text.strip()
    if len(core) >= MIN_FRAGMENT and any(core in form for form in forms.longest_first):
        return text.replace(core, MASK)  # cut on both sides: a line of a wrapped secret
    for form in forms.longest_first:
        head = _longest_prefix_at_end(text, form)
        if head:
            text = text[:-head] + MASK
        tail = _longest_suffix_at_start(text, form)
        if tail:
            text = MASK + text[tail:]
    return text


def _longest_prefix_at_end(text: str, secret: str) -> int:
    """Length of the longest prefix of ``secret`` (>= MIN_FRAGMENT) that ends ``text``."""
    if len(text) < MIN_FRAGMENT or text[-MIN_FRAGMENT:] not in secret:
        return 0  # the quick common case: the text's end is no piece of the secret
    for size in range(min(len(secret), len(text)), MIN_FRAGMENT - 1, -1):
        if text.endswith(secret[:size]):
            return size
    return 0


def _longest_suffix_at_start(text: str, secret: str) -> int:
    """Length of the longest suffix of ``secret`` (>= MIN_FRAGMENT) that starts ``text``."""
    if len(text) < MIN_FRAGMENT or text[:MIN_FRAGMENT] not in secret:
        return 0
    for size in range(min(len(secret), len(text)), MIN_FRAGMENT - 1, -1):
        if text.startswith(secret[-size:]):
            return size
    return 0


def neutralize_commands(text: str) -> str:
    """Break GitHub's legacy ``##[command]`` syntax, which the runner finds anywhere in a
    log line: ``##[`` becomes ``## [``, which it ignores."""
    return text.replace(_LEGACY_COMMAND, "## [")


def one_line(text: str, limit: int = 300) -> str:
    """Fold untrusted text onto one printable line: secrets redacted *before* it is cut,
    control characters escaped, workflow commands broken, at most ``limit`` characters."""
    folded = escape_controls(encodable(redact(text)))
    folded = neutralize_commands(folded)
    if len(folded) > limit:
        folded = redact(folded[: limit - 1]) + "…"
    return folded


def preview(data: bytes, limit: int = 80) -> str:
    """The first characters of a body, decoded leniently and escaped, for error messages.

    Enough is decoded past ``limit`` for a secret straddling it to be recognised whole."""
    room = limit + 2 * max((len(f) for s in _run_secrets for f in secret_forms(s)), default=0)
    shown = one_line(data[: 4 * room].decode("utf-8", errors="replace"), limit)
    return shown if shown.endswith("…") or len(data) <= 4 * room else shown + "…"
