"""Helpers for untrusted text: the service's messages, URLs and tool names.

Secrets are removed *before* text is cut: ``one_line`` and ``preview`` redact the secrets
of the run (``use_secrets``) in every form a service may echo them (URL-encoded,
base64, JSON-escaped), then cut, then treat a long-enough piece of a secret left at an
edge (the start, the end, an ellipsis) as the secret. A form is found too when services
wrapped it: its characters interrupted by whitespace, line breaks, escaped line breaks
(``\\n``, ``%0A``, ``&#10;``), markup (``<br>``, ``</span><span>``) or invisible
characters (see ``joined``). Everything that folds service text through them inherits that.
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
ZERO_WIDTH = "\u200b-\u200d\u2060\ufeff"
"""Zero-width spaces and joiners, the word joiner and the byte-order mark: invisible, they
make two texts that read the same differ (a path, a rule name), or hide one inside another."""
TAG_CHARACTERS = "\U000e0000-\U000e007f"
"""Unicode tag characters: invisible, they can carry a whole hidden text (ASCII smuggling)."""
INVISIBLE = BIDI_CONTROLS + ZERO_WIDTH + TAG_CHARACTERS
"""Every invisible character the gate shows escaped (``\\u200b``) instead of passing on."""
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{INVISIBLE}]")
_CONTROL_BUT_LF = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029{INVISIBLE}]")
_HIDDEN = f"\\x00-\\x08\\x0e-\\x1b\\x7f-\\x84\\x86-\\x9f\\u00ad\\u180e\\u2061-\\u2064{INVISIBLE}"
"""Controls and invisible characters that are not whitespace (``str.split`` drops those)."""
_ESCAPED_OR_MARKUP = re.compile(
    "|".join(  # each alternative starts with a literal: the engine skips to those characters
        [
            r"\x1b(?:\[[0-9;?]{0,16}[ -/]{0,4}[@-~])?",  # a terminal colour sequence
            # \n, \\n, \x0a, \u200b, \U000e0041: escapes of whitespace and invisible characters
            r"\\\\{0,3}(?:[nrtfv]|x(?:[01][0-9a-fA-F]|20|7[fF]|[89][0-9a-fA-F]|[aA][0dD])"
            r"|u(?:00(?:[01][0-9a-fA-F]|20|7[fF]|[89][0-9a-fA-F]|[aA][0dD])|061[cC]|180[eE]"
            r"|200[0-9a-fA-F]|202[89a-fA-F]|205[fF]|206[0-9a-fA-F]|[fF][eE][fF][fF]"
            r"|[dD][bB]40\\{1,4}u[dD][cC][0-7][0-9a-fA-F])|U000[eE]00[0-7][0-9a-fA-F])",
            # %0A, %250A, %C2%A0, %E2%80%8B, %EF%BB%BF, tags: URL-encoded whitespace, invisibles
            r"%(?:(?:25)?(?:[01][0-9a-fA-F]|20|7[fF])|[cC]2%(?:[89][0-9a-fA-F]|[aA][0dD])"
            r"|[eE]2%80%(?:[89][0-9a-fA-F]|[aA][89a-fA-F])|[eE]2%81%(?:9[fF]|[aA][0-9a-fA-F])"
            r"|[eE][fF]%[bB][bB]%[bB][fF]|[fF]3%[aA]0%[89][0-9a-fA-F]%[89aAbB][0-9a-fA-F])",
            # &#10;, &#x200b;, &nbsp;, &lt;br&gt;: HTML character references and escaped tags
            r"&(?:#0*(?:9|1[03]|32|160|173|820[3-7]|823[2-9]|8288|65279);"
            r"|#[xX]0*(?:9|[aAdD]|20|[aA]0|[aA][dD]|200[0-9a-fA-F]|202[89a-fA-F]"
            r"|206[0-9a-fA-F]|[fF][eE][fF][fF]);"
            r"|(?:nbsp|NewLine|Tab|shy|ZeroWidthSpace|NoBreak|zwj|zwnj|ensp|emsp|thinsp);"
            r"|lt;/?[A-Za-z](?:[^<>&]|&quot;|&#39;|&amp;){0,120}?&gt;)",
            r"</?[A-Za-z][^<>]{0,120}>",  # <br>, <wbr/>, </span><span class="x">
        ]
    )
)
_HIDDEN_RUN = re.compile(f"[{_HIDDEN}]+")
_UNUSUAL = re.compile(f"[\\\\%&<{_HIDDEN}]")
"""A character that may start an interruption other than whitespace."""
_STAGES = (re.compile(r"\s+"), _ESCAPED_OR_MARKUP, _HIDDEN_RUN)
"""What ``joined`` drops, in order: whitespace, escapes and markup, hidden characters."""
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


def shown(character: str) -> str:
    """One character as its escape: ``\\x1b``, ``\\u202e``, ``\\U000e0041``."""
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_controls(text: str, *, keep_line_feeds: bool = False) -> str:
    """Control, line-separator and invisible characters (``INVISIBLE``) shown escaped, so
    that a log viewer never receives a raw escape sequence (line feeds kept when asked)."""
    pattern = _CONTROL_BUT_LF if keep_line_feeds else _CONTROL
    return pattern.sub(lambda m: shown(m.group()), text)


def bidi_shown(text: str) -> str:
    """``text`` with its bidirectional controls, zero-width and tag characters shown as
    ``\\u202e`` or ``\\U000e0041`` (see ``INVISIBLE``)."""
    return _INVISIBLE.sub(lambda m: shown(m.group()), text)


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
    ``***``, also when wrapped (its characters interrupted, see ``joined``), and any piece of
    one at least ``MIN_FRAGMENT`` long at an edge of the text."""
    forms = _forms_of(tuple(secrets), _run_secrets)
    if forms is None:
        return text
    view = "".join(text.split())  # joined(text), the common case without a regex
    unusual = _UNUSUAL.search(view) is not None
    if unusual:
        view = _HIDDEN_RUN.sub("", _ESCAPED_OR_MARKUP.sub("", view))
    # as written: a form that joining changes, or an escape that took a character of one
    if (unusual or forms.changed_by_joining) and forms.anywhere.search(text):
        for form in forms.longest_first:  # longest first: a longer form before its parts
            text = text.replace(form, MASK)
        view = joined(text)
    if forms.joined_anywhere.search(view):
        text = _mask_joined(text, forms)
        view = joined(text)
    return _redact_edges(text, view, forms)


def joined(text: str) -> str:
    """``text`` without what a service inserts when it wraps a long value: whitespace, line
    breaks and invisible characters, as they are or escaped (JSON, URL, HTML, ``\\xNN``),
    and markup (``<br>``, ``</span><span>``). A secret is looked for in this view too."""
    for stage in _STAGES:
        text = stage.sub("", text)
    return text


def _kept(text: str) -> list[int]:
    """The index in ``text`` of each character ``joined(text)`` keeps."""
    kept = list(range(len(text)))
    for stage in _STAGES:
        survivors: list[int] = []
        last = 0
        for match in stage.finditer(text):
            survivors += kept[last : match.start()]
            last = match.end()
        kept = survivors + kept[last:]
        text = stage.sub("", text)
    return kept


def _mask_joined(text: str, forms: _Forms) -> str:
    """Each form found in the joined view replaced in ``text``, from its first character
    to its last, the interruptions between included."""
    kept = _kept(text)
    view = "".join(text[i] for i in kept)  # joined(text)
    pieces, last = [], 0
    for match in forms.joined_anywhere.finditer(view):
        start, end = kept[match.start()], kept[match.end() - 1] + 1
        pieces += [text[last:start], MASK]
        last = end
    return "".join([*pieces, text[last:]])


@lru_cache(maxsize=16)
def _forms_of(given: tuple[str, ...], declared: tuple[str, ...]) -> _Forms | None:
    """The forms of the distinct non-empty secrets of both sets, None without any; built
    once per set of secrets (redaction is hot: it runs on every field of every defect)."""
    values = tuple(dict.fromkeys(s for s in (*given, *declared) if s))
    return _Forms(values) if values else None


def _alternation(forms: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, forms)))


def _pieces(forms: Iterable[str]) -> frozenset[str]:
    return frozenset(
        form[i : i + MIN_FRAGMENT] for form in forms for i in range(len(form) - MIN_FRAGMENT + 1)
    )


class _Forms:
    """Every form of a set of secrets, longest first, as written and as joined (without
    interruptions), with what the edge search needs precomputed: the pieces of
    ``MIN_FRAGMENT`` characters that can start or end a cut."""

    def __init__(self, values: tuple[str, ...]) -> None:
        self.longest_first = sorted(
            {f for s in values for f in secret_forms(s)}, key=len, reverse=True
        )
        self.anywhere = _alternation(self.longest_first)
        self.joined = sorted(
            {v for f in self.longest_first if len(v := joined(f)) >= MIN_FRAGMENT or v == f},
            key=len,
            reverse=True,
        )
        self.changed_by_joining = any(joined(f) != f for f in self.longest_first)
        self.joined_anywhere = _alternation(self.joined) if self.joined else re.compile("(?!)")
        self.pieces = _pieces(self.longest_first) | _pieces(self.joined)

    def may_cut(self, text: str) -> bool:
        """Whether ``text`` starts or ends with a piece of some form: else no edge holds one."""
        return text[:MIN_FRAGMENT] in self.pieces or text[-MIN_FRAGMENT:] in self.pieces


def _redact_edges(text: str, view: str, forms: _Forms) -> str:
    """Pieces of a secret at the start or end of ``text`` (joined: ``view``) or beside an
    ellipsis: what a cut (the service's or ours) leaves of a secret."""
    if "…" not in text and "..." not in text:
        return _trim_edges(text, view, forms)
    parts = _ELLIPSIS.split(text)
    if len(parts) == 1:
        return _trim_edges(text, view, forms)
    marks = _ELLIPSIS.findall(text)
    cleaned = [_trim_edges(part, joined(part), forms) for part in parts]
    return "".join(p + m for p, m in zip(cleaned, [*marks, ""], strict=True))


def _trim_edges(text: str, view: str, forms: _Forms) -> str:
    """A piece of a form at an edge of ``text`` as written, then as joined (``view``)."""
    if forms.may_cut(text):
        trimmed = _trim_written_edges(text, forms)
        text, view = (trimmed, joined(trimmed)) if trimmed != text else (text, view)
    if len(view) != len(text) and forms.may_cut(view):
        text = _trim_joined_edges(text, view, forms)
    return text


def _trim_written_edges(text: str, forms: _Forms) -> str:
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


def _trim_joined_edges(text: str, view: str, forms: _Forms) -> str:
    """``_trim_written_edges`` on the joined view, the masks placed back in ``text``: the
    interruptions before the first and after the last character kept."""
    kept = _kept(text)
    whole = len(view) >= MIN_FRAGMENT and any(view in form for form in forms.joined)
    head = 0 if whole else max((_longest_prefix_at_end(view, f) for f in forms.joined), default=0)
    tail = 0 if whole else max((_longest_suffix_at_start(view, f) for f in forms.joined), default=0)
    if whole or head + tail >= len(view):
        return text[: kept[0]] + MASK + text[kept[-1] + 1 :]
    middle = text[kept[tail - 1] + 1 if tail else 0 : kept[len(view) - head] if head else None]
    start = text[: kept[0]] + MASK if tail else ""
    end = MASK + text[kept[-1] + 1 :] if head else ""
    return start + middle + end


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
