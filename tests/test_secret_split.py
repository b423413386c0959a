"""A secret split anywhere (issue 17): services wrap long text, so a token comes back over
two lines, with a space, an escaped line break, markup or an invisible character inside.
Neither half is the whole secret and ``::add-mask::`` catches neither; the gate must find
it anyway, in every form it already knows (URL, JSON, HTML, base64) and in every output.

The property: for a secret split at any position by any separator, the secret's
characters in order, with separators removed, never appear in any output with the
separators (as that output escapes them) removed.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import pytest
from budget import examples
from fakeapi import make_defect
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_defect_formats import POLICY, failing_verdict, read_all, write
from test_hardening import ENCODINGS, FILLER, SECRETS, apart, base64_hides

from gate import github, text
from gate.core import error_verdict, evaluate
from gate.defects import clip
from gate.errors import ServiceError
from gate.formats import DEFECT_FORMATS, render
from gate.formats.markdown import md_escape
from gate.paths import normalized
from gate.report import Report
from gate.structs import replace
from gate.text import MIN_FRAGMENT, joined, one_line, preview, redact, secret_forms

SEPARATORS = [
    " ",
    "\n",
    "\r\n",
    "\t",
    "\u2028",
    "\\n",  # a line break escaped in JSON
    "\\\\n",  # ... twice (JSON inside JSON)
    "\\r\\n",
    "%0A",
    "%0D%0A",
    "&#10;",
    "&#x0a;",
    "&nbsp;",
    "<br>",
    "<br/>",
    "<wbr>",
    "</span><span>",
    '</span>\n  <span class="x">',
    "&lt;br&gt;",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\U000e0020",
    "\\u200b",
    "\x1b[0m",
    "\n\n    ",
]

ESCAPERS = [
    lambda s: s,
    text.escape_controls,
    text.bidi_shown,
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    html.escape,
    lambda s: quoteattr(s)[1:-1],
    lambda s: quoteattr(s)[1:-1].replace("\n", "&#10;").replace("\r", "&#13;"),
    md_escape,
    github.escape_data,
    github.escape_property,
]


def _variants() -> list[str]:
    """Every separator as any output may show it, longest first."""
    shown = {escape(sep) for sep in SEPARATORS for escape in ESCAPERS}
    shown |= {outer(inner(sep)) for sep in SEPARATORS for inner in ESCAPERS for outer in ESCAPERS}
    return sorted((v for v in shown if v), key=len, reverse=True)


VARIANTS = _variants()


def unwrapped(output: str) -> str:
    """``output`` with every separator, as any output escapes it, removed."""
    for variant in VARIANTS:
        output = output.replace(variant, "")
    return output


def split(value: str, at: int, separator: str) -> str:
    return value[:at] + separator + value[at:]


def hidden(secret: str, encoded: str, output: str) -> bool:
    """Neither the secret nor its encoded form can be read back from ``output``."""
    flat = unwrapped(output)
    return encoded not in flat and secret not in flat and base64_hides(secret, flat)


def fits(secret: str, encoded: str, at: int, separator: str) -> bool:
    """Whether the separator is read as one where it is put: an escape made of the
    secret's own last character and the separator (``\\`` before ``n``) is another text."""
    wrapped = split(encoded, at, separator)
    return joined(wrapped) == joined(encoded) and unwrapped(wrapped) == encoded


# ------------------------------------------------------------------ the text helpers


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=SECRETS,
    encoding=st.sampled_from(sorted(ENCODINGS)),
    separator=st.sampled_from(SEPARATORS),
    where=st.floats(0, 1),
    before=FILLER,
    after=FILLER,
    limit=st.integers(20, 400),
)
def test_a_split_secret_in_any_encoding_is_redacted_by_every_text_helper(
    secret, encoding, separator, where, before, after, limit
):
    assume(apart(secret, before, after))
    encoded = ENCODINGS[encoding](secret)
    at = 1 + int(where * (len(encoded) - 2))
    assume(fits(secret, encoded, at, separator))
    text.use_secrets([secret])
    echoed = before + split(encoded, at, separator) + after
    for shown in (
        redact(echoed),
        one_line(echoed, limit),
        preview(echoed.encode(), limit),
        clip(echoed, limit, ()),
    ):
        assert hidden(secret, encoded, shown), (echoed, shown)


@pytest.mark.parametrize("separator", SEPARATORS)
def test_every_split_position_of_a_token_is_redacted(separator):
    token = "tok-SECRET-0123456789abcdef"
    text.use_secrets([token])
    for at in range(1, len(token)):
        shown = one_line(f"echo: {split(token, at, separator)} done", 300)
        assert shown.startswith("echo: ***") and shown.endswith(" done"), shown
        assert token not in unwrapped(shown)


def test_a_token_over_three_lines_is_redacted_whole():
    token = "MIIEXAMPLEtokenABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz"
    text.use_secrets([token])
    wrapped = "\n".join(token[i : i + 25] for i in range(0, len(token), 25))
    assert redact(f"token:\n{wrapped}\nend") == "token:\n***\nend"


def test_a_piece_of_a_split_secret_at_a_cut_edge_is_the_secret():
    token = "tok-SECRET-0123456789abcdef"
    text.use_secrets([token])
    for separator in SEPARATORS:
        head = split(token[:9], 4, separator)
        tail = split(token[-9:], 4, separator)
        assert redact(f"see {head}") == "see ***", separator
        assert redact(f"{tail} seen") == "*** seen", separator
        assert one_line(f"a {head}… and …{tail} b") == "a ***… and …*** b", separator


def test_text_with_interruptions_but_no_secret_is_left_alone():
    text.use_secrets(["tok-SECRET-0123456789abcdef"])
    plain = "see <br> the tok-S\n and %0A &#10; \\n \u200b 0123 line"
    assert redact(plain) == plain


def test_short_pieces_split_apart_are_left_alone():
    text.use_secrets(["tok-SECRET-0123456789abcdef"])
    assert one_line("tok-S x 89abc") == "tok-S x 89abc"  # two pieces, each too short


# ------------------------------------------------------------------ every output


def outputs_of(message: str, secret: str) -> list[str]:
    """Every output of a run whose service text holds ``message``: the verdict formats,
    the per-defect formats, the annotations, with the secret declared as the run does."""
    text.use_secrets([secret])
    row = make_defect(
        0,
        defect_content=f"defect: {message}",
        rule_name=message,
        defect_checker_name=message,
        file_path=f"src/{message}.c",
        rule_system_tags=f"cwe,{message}",
    )
    defects = read_all([row], secrets=(secret,))
    failing = failing_verdict(defects)
    failing = replace(failing, report_url=f"https://x.example/?q={message}", tools=(message,))
    failing = failing.redacted((secret,))
    errored = error_verdict(ServiceError(f"the service said: {message}")).redacted((secret,))
    shown = [write(name, defects) for name in DEFECT_FORMATS]
    for verdict in (failing, errored):
        shown += [render(name, verdict) for name in ("console", "junit", "summary", "json")]
        shown += [*github.annotation_lines(verdict), *github.defect_annotation_lines(verdict)]
    return shown


@lru_cache(maxsize=1)
def plain_outputs() -> str:
    """Every output of a run whose service text echoes nothing: a drawn "secret" already in
    it (``fullDescri``, part of a SARIF key) could not be told from a leak."""
    return "\n".join(outputs_of("nothing secret", ""))


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=SECRETS,
    encoding=st.sampled_from(["plain", "url", "json", "html", "base64"]),
    separator=st.sampled_from(SEPARATORS),
    where=st.floats(0, 1),
)
def test_a_split_secret_is_never_recoverable_from_any_output(secret, encoding, separator, where):
    encoded = ENCODINGS[encoding](secret)
    at = 1 + int(where * (len(encoded) - 2))
    assume(fits(secret, encoded, at, separator))
    assume(not any(t in unwrapped(plain_outputs()) for t in (secret, encoded)))
    for shown in outputs_of(split(encoded, at, separator), secret):
        assert hidden(secret, encoded, shown), shown


@pytest.mark.parametrize("separator", SEPARATORS)
def test_a_split_token_at_every_position_is_absent_from_every_output(separator):
    token = "tok-SECRET-0123456789abcdef"
    for at in range(1, len(token), 3):
        for shown in outputs_of(split(token, at, separator), token):
            flat = unwrapped(shown)
            assert token not in flat, shown
            assert not any(token[i : i + MIN_FRAGMENT] in flat for i in range(len(token) - 5))


# ------------------------------------------------ issue 17: invisible characters, paths

INVISIBLE_CHARACTERS = "\u200b\u200c\u200d\u2060\ufeff\U000e0001\U000e0041\U000e007f\u202e\u2066"
INVISIBLE_RE = re.compile(f"[{text.INVISIBLE}]")


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(st.sampled_from("ab./\\" + INVISIBLE_CHARACTERS), min_size=1, max_size=30))
def test_zero_width_and_tag_characters_are_shown_escaped_in_every_output(value):
    row = {"defect_content": value, "rule_name": value, "file_path": f"src/{value}.c"}
    [defect] = read_all([{**row, "line_number": "3", "defect_level": "0"}])
    fields = {"critical": 3, "REPORT_URL": f"https://x.example/{value}", "TOOL_LIST": [value]}
    verdict = replace(evaluate(Report(fields), POLICY), defects=failing_verdict([defect]).defects)
    errored = error_verdict(ServiceError(f"said {value}"))
    shown = [write(name, [defect]) for name in DEFECT_FORMATS]
    for each in (verdict, errored):
        shown += [render(name, each) for name in ("console", "junit", "summary", "json")]
        shown += [*github.annotation_lines(each), *github.defect_annotation_lines(each)]
    shown += [one_line(value), text.escape_controls(value), text.bidi_shown(value)]
    for output in shown:
        assert not INVISIBLE_RE.search(output), output


@pytest.mark.parametrize(
    ("character", "escape"),
    [
        ("\u202e", "\\u202e"),
        ("\u200b", "\\u200b"),
        ("\ufeff", "\\ufeff"),
        ("\U000e0041", "\\U000e0041"),
    ],
)
def test_an_escaped_invisible_character_in_a_path_survives_normalisation(character, escape):
    path = f"src\\win/{character}gnp.exe"
    assert normalized(text.bidi_shown(path)) == f"src/win/{escape}gnp.exe"
    [defect] = read_all([{"file_path": path, "line_number": "1", "defect_level": "0"}])
    assert defect.path == f"src/win/{escape}gnp.exe"
    sarif = json.loads(write("sarif", [defect]))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert escape in location["artifactLocation"]["uri"] or quote(escape) in json.dumps(location)


def test_a_windows_path_with_folders_like_escapes_still_splits():
    assert normalized("C:\\build\\x86\\u2000\\f.c") == "build/x86/u2000/f.c"


# ------------------------------------------------------------------ the check log


@pytest.mark.parametrize("width", [1, 2, 3, 5, 7, 13])
def test_a_secret_wrapped_over_log_lines_of_any_width_is_redacted_whole(width):
    from gate.api.tasks import log_lines

    token = "tok-SECRET-0123456789abcdef"
    text.use_secrets([token])
    wrapped = "\n".join(token[i : i + width] for i in range(0, len(token), width))
    shown = log_lines({"log_info": [{"log": f"start\n{wrapped}\nend"}]}, keep=1000)
    assert shown == ["start", "***", "end"], shown


def test_each_line_of_a_multi_line_secret_is_masked_as_is_and_unindented():
    lines = github.mask_lines(["first-line-0123\r\n    second-line-4567\n"])
    assert lines == [
        "::add-mask::first-line-0123%0D%0A    second-line-4567%0A",
        "::add-mask::first-line-0123",
        "::add-mask::    second-line-4567",
        "::add-mask::second-line-4567",
    ]


@settings(max_examples=examples(100))
@given(secret=st.text(min_size=1, max_size=30))
def test_the_secret_forms_hold_its_html_escaped_form(secret):
    """secret_forms escapes HTML without importing html (startup): the same text as
    html.escape, quotes included, for any secret."""
    assert html.escape(secret) in secret_forms(secret)
