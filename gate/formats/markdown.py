"""The human summary: GitHub-flavoured Markdown. Text from the service is escaped."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from gate.core import Check, Outcome, Verdict
from gate.defects import SEVERITIES, Defect, DefectDigest
from gate.text import one_line

# What GitHub-flavoured Markdown reads inside a line: emphasis, code, links, images, raw
# HTML, entities, table cells, strikethrough. Nothing else needs a backslash: ".", "(",
# "-" or "#" in mid-line are plain text, and escaping them garbles URLs and the raw file.
_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")
# Constructs that count only at the start of a line (a heading, a quote, a list item).
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")
# A URL as GitHub would autolink it: left whole (backslashes would end the link early);
# trailing punctuation is left out of it, as GitHub does.
_URL = re.compile(r"https?://[^\s<>\"'`|\\\[\]]+?(?=[.,;:!?)]*(?:[\s<>\"'`|\\\[\]]|$))")
HEADLINES = {
    Outcome.PASSED: "✅ CodeArts Check gate passed",
    Outcome.FAILED: "❌ CodeArts Check gate failed",
    Outcome.ERROR: "⚠️ CodeArts Check gate: no verdict",
}


def md_escape(text: str) -> str:
    """Untrusted text as literal Markdown on one line: only what Markdown reads is
    escaped, so the raw file stays readable and URLs stay links (``<url>`` autolinks)."""
    text = one_line(text, 500)
    pieces, last = [], 0
    for match in _URL.finditer(text):
        pieces += [_escape_plain(text[last : match.start()]), f"<{match.group()}>"]
        last = match.end()
    pieces.append(_escape_plain(text[last:]))
    escaped = "".join(pieces)
    return _LINE_START.sub(_escape_last, escaped, count=1)


def _escape_last(match: re.Match[str]) -> str:
    """``# x`` -> ``\\# x``, ``1. x`` -> ``1\\. x``: the character that makes the block."""
    lead, mark = match.group(1), match.group(2)
    return f"{lead}{mark[:-1]}\\{mark[-1]}"


def _escape_plain(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def md_code(text: str) -> str:
    """Untrusted text as an inline code span, whatever backticks it holds."""
    text = one_line(text, 500)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_link(url: str, label: str) -> str:
    """A link only for an http(s) URL, its risky characters percent-encoded; else plain text."""
    try:
        scheme = urlsplit(url).scheme
    except ValueError:  # e.g. "http://[": not a URL a reader could follow anyway
        scheme = ""
    if scheme not in ("http", "https"):
        return md_escape(url)
    safe = quote(one_line(url, 2000), safe=":/?#@!$&'*+,;=%-._~")
    return f"[{md_escape(label)}](<{safe}>)"


def _row(check: Check) -> str:
    actual = "unreadable" if check.actual is None else str(check.actual)
    result = "✅ pass" if check.passed else ("⚠️ error" if check.actual is None else "❌ fail")
    return f"| {check.metric} ({check.description}) | {actual} | {check.maximum} | {result} |"


def _table(verdict: Verdict) -> list[str]:
    head = ["| Check | Actual | Maximum | Result |", "| --- | ---: | ---: | :---: |"]
    return head + [_row(c) for c in verdict.checks] if verdict.checks else []


def _details(verdict: Verdict) -> list[str]:
    lines = []
    if verdict.report_url:
        lines.append(f"**Report:** {md_link(verdict.report_url, 'open in CodeArts Check')}")
    if verdict.tools:
        lines.append(f"**Tools:** {', '.join(md_escape(t) for t in verdict.tools)}")
    if "code-size" in verdict.counts:
        lines.append(f"**Code size:** {verdict.counts['code-size']} lines")
    if verdict.job_id:
        lines.append(f"**Job:** {md_code(verdict.job_id)}")
    if verdict.scan:
        lines.append(f"**Gated:** {md_escape(verdict.scan.summary())}")
    return [line + "  " for line in lines]


def _headline(verdict: Verdict) -> list[str]:
    lines = [f"## {HEADLINES[verdict.outcome]}", ""]
    if verdict.error is not None:
        lines += [
            f"**{md_escape(verdict.error.kind)} error:** {md_escape(verdict.error.message)}",
            "",
        ]
    if verdict.warned:
        lines += [
            "> [!WARNING]",
            "> No verdict was reached; the step passed because of `on-error: warn`.",
            "",
        ]
    return lines


DEFECTS_PER_CHECK = 10


def _defect_line(defect: Defect) -> str:
    where = defect.where()
    message = md_escape(one_line(defect.message or defect.rule, 160))
    rule = md_escape(defect.rule or defect.rule_id)
    return f"- **{defect.severity}** {md_escape(where)} · {rule}: {message}"


def _check_defects(check: Check, digest: DefectDigest) -> list[str]:
    severities = [check.metric] if check.metric in SEVERITIES else list(digest.severities)
    if not set(severities) & set(digest.severities):
        return [f"- {check.metric} defects were not fetched (see `--defect-severity`)"]
    shown = digest.most_severe(severities)[:DEFECTS_PER_CHECK]
    more = digest.count(severities) - len(shown)
    return [_defect_line(d) for d in shown] + ([f"- … and {more} more"] if more > 0 else [])


def _defects(verdict: Verdict) -> list[str]:
    """Under each failing check, the most severe defects behind it; or why they are missing."""
    digest = verdict.defects
    if digest is None:
        return []
    if digest.error:
        return ["> [!WARNING]", f"> Defects missing: {md_escape(digest.error)}", ""]
    lines = ["### Defects", "", f"{digest.fetched} pending defects fetched.", ""]
    url = verdict.report_url
    link = [f"- {md_link(url, 'every defect in CodeArts Check')}"] if url else []
    for check in verdict.failed_checks:
        lines += [f"**{check.metric}** ({check.description}), most severe first:", ""]
        lines += [*_check_defects(check, digest), *link, ""]
    if digest.incomplete:
        why = f" ({md_escape(digest.stopped)})" if digest.stopped else ""
        lines += [f"Only {digest.shortfall()} were fetched{why}.", ""]
    if digest.notes:
        lines += [f"The service's counts are doubtful: {md_escape(digest.doubts())}.", ""]
    if digest.sarif_omitted:
        n = digest.sarif_omitted
        lines.append(
            f"{n} defect{' was' if n == 1 else 's were'} left out of the SARIF file (GitHub "
            "takes at most 25,000 results and 10 MB gzipped per run, the most severe kept, "
            "and no result without a file)."
        )
    if digest.codequality_omitted:
        n = digest.codequality_omitted
        lines.append(
            f"{n} defect{' was' if n == 1 else 's were'} without a file, so left out of the "
            "Code Quality report (GitLab cannot place them)."
        )
    return lines


def render(verdict: Verdict) -> str:
    """The Markdown summary."""
    table = _table(verdict)
    parts = _headline(verdict) + table + ([""] if table else []) + _defects(verdict)
    parts += _details(verdict)
    return "\n".join(parts).rstrip() + "\n"
