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

import binascii
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
_HIDDEN = f"\\x00-\\x08\\x0e-\\x1a\\x7f-\\x84\\x86-\\x9f\\u00ad\\u180e\\u2061-\\u2064{INVISIBLE}"
"""Controls and invisible characters that are not whitespace (``str.split`` drops those);
not escape (``\\x1b``), which starts a terminal colour sequence."""
_WRAPPING_TAG = "(?i:br|wbr|nobr|span|div|font|code|pre|em|strong|mark|small|tt)"
"""Tags a service wraps text with; any tag would also take ``<A`` of a secret and the
``>`` after it for one."""
_ESCAPED_OR_MARKUP = (
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
            rf"|lt;/?{_WRAPPING_TAG}(?:[^<>&]|&quot;|&#39;|&amp;){{0,120}}?&gt;)",
            # <br>, </span><span class="x"> (its spaces gone by then: attributes follow the name)
            rf"</?{_WRAPPING_TAG}[^<>]{{0,120}}>",
        ]
    )
)
"""Escapes and markup a service wraps text with (compiled in ``_Wrapping``)."""
MASK = "***"
MIN_FRAGMENT = 6
"""A piece of a secret at least this long, left at a cut edge, is redacted like the secret."""
_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
)
"""``html.escape`` (quotes included) as one translation: importing ``html`` (and its table
of entities) took a few milliseconds of every run with a secret. ``binascii`` is what
``base64.b64encode`` calls, for the same reason."""
_LEGACY_COMMAND = "##["
"""GitHub's runner reads ``##[command]`` anywhere in a log line (the legacy syntax)."""


class _Wrapping:
    """The patterns that only a run with secrets uses (to find one a service wrapped, to
    list its forms, to trim the pieces an ellipsis left), compiled on first use: they cost
    some milliseconds, which a verdict without secrets does not pay."""

    def __init__(self) -> None:
        self.escaped_or_markup = re.compile(_ESCAPED_OR_MARKUP)
        self.hidden_run = re.compile(f"[{_HIDDEN}]+")
        self.unusual = re.compile(f"[\\\\%&<\\x1b{_HIDDEN}]")
        """A character that may start an interruption other than whitespace."""
        self.unusual_ascii = re.compile("[\\\\%&<\x00-\x08\x0e-\x1b\x7f]")
        self.spaced = (re.compile(r"\s+"), self.hidden_run)
        """What the spaced view drops: whitespace and hidden characters, as they are."""
        self.wrapped = (*self.spaced, self.escaped_or_markup)
        """What ``joined`` drops by default: also escapes and markup. Both views are
        searched: an escape or a tag can take a character of the secret itself (``<A`` of
        a secret, ``>`` of the text after it), which the spaced view keeps."""
        self.percent = re.compile(r"%[0-9A-F]{2}")
        self.ellipsis = re.compile(r"…|\.\.\.")


@lru_cache(maxsize=1)
def _wrapping() -> _Wrapping:
    return _Wrapping()


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
    forms = {secret, secret.translate(_HTML_ESCAPES), quote(quote(secret, safe=""), safe="")}
    for url in (quote(secret, safe=""), quote(secret), quote_plus(secret)):
        forms |= {url, _wrapping().percent.sub(lambda m: m.group().lower(), url)}
    for ascii_only in (True, False):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    forms |= set(_base64_cores(secret.encode("utf-8", "surrogatepass")))
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def _base64_cores(data: bytes) -> Iterable[str]:
    """The part of base64(… + data + …) that depends only on ``data``, per alignment."""
    for shift in range(3):
        encoded = binascii.b2a_base64(b"\0" * shift + data, newline=False).decode("ascii")
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
    spaced = "".join(text.split())  # the common case first: one view, nothing found
    found = forms.changed_by_joining or _unusual(spaced) or forms.joined[0].anywhere.search(spaced)
    if not (found or "…" in text or "..." in text or forms.may_cut(text) or forms.may_cut(spaced)):
        return text
    return _redact_found(text, forms)


def _unusual(text: str) -> bool:
    """Whether ``text`` holds a character that may start an interruption other than
    whitespace (``_Wrapping.unusual``); ASCII text checked with a smaller, quicker pattern."""
    patterns = _wrapping()
    return (patterns.unusual_ascii if text.isascii() else patterns.unusual).search(text) is not None


def _redact_found(text: str, forms: _Forms) -> str:
    """``redact`` once the quick look found something to do."""
    views = _views(text)
    # as written: a form that joining changes, or an escape that took a character of one
    if (len(views) > 1 or forms.changed_by_joining) and forms.anywhere.search(text):
        for form in forms.longest_first:  # longest first: a longer form before its parts
            text = text.replace(form, MASK)
        views = _views(text)
    for index, joined_forms in enumerate(forms.joined):
        if index >= len(views):
            break  # no unusual character (left): the spaced view is the joined one
        if joined_forms.anywhere.search(views[index]):
            text = _mask_joined(text, joined_forms)
            views = _views(text)
    return _redact_edges(text, views, forms)


def _views(text: str) -> tuple[str, ...]:
    """``text`` joined (``_Wrapping.wrapped``), then spaced (``.spaced``) when that differs: the
    common case costs a split and one search, no substitution."""
    spaced = "".join(text.split())  # joined(text, spaced) without a regex
    if not _unusual(spaced):
        return (spaced,)
    patterns = _wrapping()
    spaced = patterns.hidden_run.sub("", spaced)
    return patterns.escaped_or_markup.sub("", spaced), spaced


def joined(text: str, stages: tuple[re.Pattern[str], ...] | None = None) -> str:
    """``text`` without what a service inserts when it wraps a long value: whitespace, line
    breaks and invisible characters, as they are or escaped (JSON, URL, HTML, ``\\xNN``),
    and markup (``<br>``, ``</span><span>``). A secret is looked for in this view too.
    ``stages``: the patterns dropped in turn (all of them by default)."""
    for stage in _wrapping().wrapped if stages is None else stages:
        text = stage.sub("", text)
    return text


def _kept(text: str, stages: tuple[re.Pattern[str], ...]) -> list[int]:
    """The index in ``text`` of each character ``joined(text, stages)`` keeps."""
    kept = list(range(len(text)))
    for stage in stages:
        survivors: list[int] = []
        last = 0
        for match in stage.finditer(text):
            survivors += kept[last : match.start()]
            last = match.end()
        kept = survivors + kept[last:]
        text = stage.sub("", text)
    return kept


def _mask_joined(text: str, forms: _Joined) -> str:
    """Each form found in the joined view replaced in ``text``, from its first character
    to its last, the interruptions between included."""
    kept = _kept(text, forms.stages)
    view = "".join(text[i] for i in kept)  # joined(text, forms.stages)
    pieces, last = [], 0
    for match in forms.anywhere.finditer(view):
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
    return re.compile("|".join(map(re.escape, forms)) or "(?!)")


def _pieces(forms: Iterable[str]) -> frozenset[str]:
    return frozenset(
        form[i : i + MIN_FRAGMENT] for form in forms for i in range(len(form) - MIN_FRAGMENT + 1)
    )


class _Joined:
    """The forms as one view (``stages``) sees them, longest first, and their pieces."""

    def __init__(self, forms: Iterable[str], stages: tuple[re.Pattern[str], ...]) -> None:
        self.stages = stages
        self.forms = sorted(
            {v for f in forms if len(v := joined(f, stages)) >= MIN_FRAGMENT or v == f},
            key=len,
            reverse=True,
        )
        self.anywhere = _alternation(self.forms)
        self.pieces = _pieces(self.forms)


class _Forms:
    """Every form of a set of secrets, longest first, as written and as each view sees
    it (``_Wrapping.wrapped``, ``.spaced``), with what the edge search needs precomputed: the pieces
    of ``MIN_FRAGMENT`` characters that can start or end a cut."""

    def __init__(self, values: tuple[str, ...]) -> None:
        self.longest_first = sorted(
            {f for s in values for f in secret_forms(s)}, key=len, reverse=True
        )
        self.anywhere = _alternation(self.longest_first)
        views = _wrapping()
        self.joined = (
            _Joined(self.longest_first, views.wrapped),
            _Joined(self.longest_first, views.spaced),
        )
        self.changed_by_joining = any(joined(f) != f for f in self.longest_first)
        self.pieces = _pieces(self.longest_first).union(*(j.pieces for j in self.joined))

    def may_cut(self, text: str) -> bool:
        """Whether ``text`` starts or ends with a piece of some form: else no edge holds one."""
        return text[:MIN_FRAGMENT] in self.pieces or text[-MIN_FRAGMENT:] in self.pieces


def _redact_edges(text: str, views: tuple[str, ...], forms: _Forms) -> str:
    """Pieces of a secret at the start or end of ``text`` (its ``views``) or beside an
    ellipsis: what a cut (the service's or ours) leaves of a secret."""
    if "…" not in text and "..." not in text:
        return _trim_edges(text, views, forms)
    ellipsis = _wrapping().ellipsis
    parts = ellipsis.split(text)
    if len(parts) == 1:
        return _trim_edges(text, views, forms)
    marks = ellipsis.findall(text)
    cleaned = [_trim_edges(part, _views(part), forms) for part in parts]
    return "".join(p + m for p, m in zip(cleaned, [*marks, ""], strict=True))


def _trim_edges(text: str, views: tuple[str, ...], forms: _Forms) -> str:
    """A piece of a form at an edge of ``text`` as written, then as each view sees it."""
    if forms.may_cut(text):
        trimmed = _trim_written_edges(text, forms)
        text, views = (trimmed, _views(trimmed)) if trimmed != text else (text, views)
    for index, joined_forms in enumerate(forms.joined):
        if index >= len(views):
            break  # no unusual character (left): the spaced view is the joined one
        view = views[index]
        if len(view) != len(text) and forms.may_cut(view):
            trimmed = _trim_joined_edges(text, view, joined_forms)
            text, views = (trimmed, _views(trimmed)) if trimmed != text else (text, views)
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


def _trim_joined_edges(text: str, view: str, forms: _Joined) -> str:
    """``_trim_written_edges`` on a joined view, the masks placed back in ``text``: the
    interruptions before the first and after the last character kept."""
    kept = _kept(text, forms.stages)
    whole = len(view) >= MIN_FRAGMENT and any(view in form for form in forms.forms)
    head = 0 if whole else max((_longest_prefix_at_end(view, f) for f in forms.forms), default=0)
    tail = 0 if whole else max((_longest_suffix_at_start(view, f) for f in forms.forms), default=0)
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
