"""The human summary: GitHub-flavoured Markdown. Text from the service is escaped."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from gate.core import Check, Outcome, Verdict
from gate.text import one_line

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
HEADLINES = {
    Outcome.PASSED: "✅ CodeArts Check gate passed",
    Outcome.FAILED: "❌ CodeArts Check gate failed",
    Outcome.ERROR: "⚠️ CodeArts Check gate: no verdict",
}


def md_escape(text: str) -> str:
    """Untrusted text as literal Markdown: one line, specials escaped, no raw HTML."""
    text = one_line(text, 500).replace("&", "&amp;").replace("<", "&lt;")
    return _SPECIAL.sub(r"\\\1", text)


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
        lines.append(f"**Job:** `{verdict.job_id}`")
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


def render(verdict: Verdict) -> str:
    """The Markdown summary."""
    table = _table(verdict)
    parts = _headline(verdict) + table + ([""] if table else []) + _details(verdict)
    return "\n".join(parts).rstrip() + "\n"
