"""The human summary: GitHub-flavoured Markdown. Text from the service is escaped."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from gate.core import PER_DEFECT_METRICS, Check, Outcome, TaskVerdict, Verdict
from gate.defects import SEVERITIES, Defect, DefectDigest
from gate.formats.console import all_warnings, level_text, plural, verdict_words
from gate.structs import record
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


RESULTS = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "error": "⚠️ error"}


def _row(check: Check, warn_column: bool) -> str:
    actual = "unreadable" if check.actual is None else check.shown()
    warn = f" {level_text(check.warn)} |" if warn_column else ""
    return (
        f"| {check.metric} ({check.description}) | {md_escape(actual)} | {check.limits()} |"
        f"{warn} {RESULTS[check.status]} |"
    )


def _baseline(verdict: Verdict) -> list[str]:
    """The baseline compared with (or why none was), and how counts were judged."""
    lines = []
    if verdict.baseline:
        lines.append(f"**Baseline:** {md_escape(verdict.baseline.label)}")
    if verdict.baseline_note:
        lines.append(f"**Baseline:** none: {md_escape(verdict.baseline_note)}")
    lines += [f"**Note:** {md_escape(c.note)}" for c in verdict.checks if c.note]
    return [line + "  " for line in lines] + ([""] if lines else [])


def _table(verdict: Verdict) -> list[str]:
    if not verdict.checks:
        return []
    warn_column = any(c.warn is not None for c in verdict.checks)
    if warn_column:
        head = ["| Check | Actual | Maximum | Warn above | Result |"]
        head.append("| --- | ---: | ---: | ---: | :---: |")
    else:
        head = ["| Check | Actual | Maximum | Result |", "| --- | ---: | ---: | :---: |"]
    return head + [_row(c, warn_column) for c in verdict.checks]


def _details(verdict: Verdict) -> list[str]:
    lines = []
    if verdict.report_url:
        lines.append(f"**Report:** {md_link(verdict.report_url, 'open in CodeArts Check')}")
    if verdict.tools:
        lines.append(f"**Tools:** {', '.join(md_escape(t) for t in verdict.tools)}")
    if "code-size" in verdict.counts:
        lines.append(f"**Code size:** {verdict.counts['code-size']} lines")
    if verdict.scan:
        lines.append(f"**Gated:** {md_escape(verdict.scan.summary())}")  # names the job once
    elif verdict.job_id:
        lines.append(f"**Job:** {md_code(verdict.job_id)}")
    if verdict.codearts:
        state = verdict.codearts.summary().removeprefix("CodeArts gate: ")
        lines.append(f"**CodeArts gate:** {md_escape(state)}")
    lines += _identity(verdict)
    return [line + "  " for line in lines]


def _identity(verdict: Verdict) -> list[str]:
    """The scanned branch, the commit under test and the change's range."""
    scan, change = verdict.scan, verdict.change
    lines = []
    if scan:
        branch = md_code(scan.branch) if scan.branch else "unknown"
        commit = md_code(scan.commit[:12]) if scan.commit else "unknown"
        lines.append(f"**Branch:** {branch} · **Commit under test:** {commit}")
    if change and change.judged and change.base and change.head:
        lines.append(
            f"**Change:** {md_code(change.base[:12])}..{md_code(change.head[:12])}, "
            f"{change.lines} added or modified lines in {change.files} files"
        )
    if change and change.note:
        lines.append(f"**Scope:** {md_escape(change.note)}")
    return lines


def _disagreement(verdict: Verdict) -> list[str]:
    """A line when CodeArts' own gate and the local thresholds disagree (plain CommonMark:
    GitLab and Jenkins show GitHub's callouts literally)."""
    text = verdict.codearts and verdict.codearts.disagreement(verdict)
    return [f"**Disagreement:** {md_escape(text)}", ""] if text else []


def _headline(verdict: Verdict) -> list[str]:
    warned = all_warnings(verdict)
    extra = (
        f" with {plural(warned, 'warning')}" if warned and verdict.outcome is Outcome.PASSED else ""
    )
    lines = [f"## {HEADLINES[verdict.outcome]}{extra}", ""]
    if verdict.error is not None:
        lines += [
            f"**{md_escape(verdict.error.kind)} error:** {md_escape(verdict.error.message)}",
            "",
        ]
    if verdict.warned:  # plain CommonMark: GitLab and Jenkins show "[!WARNING]" literally
        lines += [
            "**Warning:** no verdict was reached; the step passed because of `on-error: warn`.",
            "",
        ]
    return lines


DEFECTS_PER_CHECK = 10
"""Defects listed under a failing check; the rest kept are collapsed in ``<details>``."""


@record
class Layout:
    """How much of the defects a document shows, and where file links lead."""

    shown: int = DEFECTS_PER_CHECK
    collapsed: int = 100
    files_url: str | None = None
    commit: str | None = None


PLAIN_LAYOUT = Layout()
"""Ten defects a check, a hundred collapsed, no file links."""


def layout_of(verdict: Verdict, collapsed: int = 100) -> Layout:
    """Links to the commit under test where the CI says where files are shown."""
    scan = verdict.scan
    commit = scan.commit if scan else None
    url = scan.files_url if scan and commit else None
    return Layout(min(DEFECTS_PER_CHECK, collapsed), collapsed, url, commit)


def _where(defect: Defect, layout: Layout) -> str:
    where = defect.where()
    if not (layout.files_url and layout.commit and defect.path):
        return md_escape(where)
    anchor = f"#L{defect.line}" if defect.line else ""
    url = f"{layout.files_url}/{layout.commit}/{quote(defect.path, safe='/')}{anchor}"
    return md_link(url, where)


def _defect_line(defect: Defect, layout: Layout = PLAIN_LAYOUT) -> str:
    message = md_escape(one_line(defect.message or defect.rule, 160))
    rule = md_escape(defect.rule or defect.rule_id)
    return f"- **{defect.severity}** {_where(defect, layout)} · {rule}: {message}"


def _check_defects(check: Check, digest: DefectDigest, layout: Layout = PLAIN_LAYOUT) -> list[str]:
    severities = [check.metric] if check.metric in SEVERITIES else list(digest.severities)
    if not set(severities) & set(digest.severities):
        return [f"- {check.metric} defects were not fetched (see `--defect-severity`)"]
    kept = digest.most_severe(severities)[: max(layout.shown, layout.collapsed)]
    shown, rest = kept[: layout.shown], kept[layout.shown :]
    lines = [_defect_line(d, layout) for d in shown]
    if rest:
        lines += ["", f"<details><summary>{len(rest)} more</summary>", ""]
        lines += [_defect_line(d, layout) for d in rest] + ["", "</details>", ""]
    more = digest.count(severities) - len(kept)
    return lines + ([f"- … and {more} more"] if more > 0 else [])


def _label(check: Check, in_change: bool) -> str:
    """What the list under a failing check holds, truthfully named."""
    what = f"**{check.metric}** ({check.description})"
    if in_change:
        return f"{what}: pending defects in this change, most severe first:"
    if check.metric == "new":
        return (
            f"{what}: pending defects of the whole branch, most severe first (the service's "
            "defect list does not say which are new):"
        )
    return f"{what}: pending defects, most severe first:"


def _defects(verdict: Verdict, layout: Layout | None = None) -> list[str]:
    """Under each failing check, the defects behind it; or why they are missing."""
    digest = verdict.defects
    if digest is None:
        return []
    if digest.error:
        return [f"**Defects missing:** {md_escape(digest.error)}", ""]
    layout = layout or layout_of(verdict, collapsed=DEFECTS_PER_CHECK)
    change = verdict.change if verdict.change and verdict.change.judged else None
    if change is not None and change.digest is not None:
        lines = _change_heading(digest, change.digest, change.lines)
    else:
        lines = ["### Defects", "", f"{digest.fetched} pending defects fetched.", ""]
    url = verdict.report_url
    link = [f"- {md_link(url, 'every defect in CodeArts Check')}"] if url else []
    for check in verdict.failed_checks:
        lines += _failing(check, digest, change.digest if change else None, layout) + link + [""]
    return lines + _fetch_notes(digest)


def _change_heading(digest: DefectDigest, mine: DefectDigest, changed: int) -> list[str]:
    return [
        "### Defects in this change",
        "",
        f"{mine.fetched} pending defects on the {changed} lines this change adds or modifies; "
        f"{digest.fetched} pending defects on the whole branch (context, not judged).",
        "",
    ]


def _failing(
    check: Check, digest: DefectDigest, mine: DefectDigest | None, layout: Layout
) -> list[str]:
    """The label and the list under one failing check."""
    if mine is not None and check.metric in PER_DEFECT_METRICS:
        return [_label(check, True), "", *_check_defects(check, mine, layout)]
    if mine is not None:
        return [f"**{check.metric}** ({check.description}): judged on the report", ""]
    return [_label(check, False), "", *_check_defects(check, digest, layout)]


def _fetch_notes(digest: DefectDigest) -> list[str]:
    lines = []
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


SUPPRESSED_SHOWN = 20


def _suppressions(verdict: Verdict) -> list[str]:
    """The suppressed defects (each with its reason), and the entries to look at."""
    outcome = verdict.suppression
    if outcome is None:
        return []
    by = ", ".join(f"{n} {s}" for s, n in outcome.suppressed.items())
    lines = ["### Suppressed", "", f"{outcome.total} defects suppressed ({by or 'none'}) by "
             f"{outcome.entries} `[[suppress]]` entries; the counts above are the defect list "
             "less them (the report's count beside). They do not lower `new`.", ""]  # fmt: skip
    for defect, entry in outcome.kept[:SUPPRESSED_SHOWN]:
        lines.append(
            f"- **{defect.severity}** {md_escape(defect.where())} · {md_escape(defect.rule_id)}: "
            f"suppressed until {entry.until.isoformat()}, {md_escape(entry.reason)}"
        )
    lines += [f"- {md_escape(note)}" for note in outcome.notes()]
    warnings = outcome.warnings()
    if warnings:
        lines += ["", *(f"**Warning:** {md_escape(w)}  " for w in warnings)]
    return [*lines, ""]


def document(verdict: Verdict, layout: Layout | None = None) -> str:
    """The Markdown of the summary and of the pull/merge request comment: CommonMark,
    tables and ``<details>`` only, every service text escaped."""
    if verdict.tasks:
        return tasks_render(verdict, layout.collapsed if layout else None)
    table = _table(verdict)
    parts = _headline(verdict) + _disagreement(verdict) + table + ([""] if table else [])
    parts += _baseline(verdict)
    parts += _defects(verdict, layout) + _suppressions(verdict)
    parts += _details(verdict)
    return "\n".join(parts).rstrip() + "\n"


def render(verdict: Verdict) -> str:
    """The Markdown summary."""
    return document(verdict)


def _task_row(task: TaskVerdict) -> str:
    verdict = task.verdict
    gate = verdict.codearts.state if verdict.codearts else "-"
    cells = [
        md_escape(task.name),
        md_code(task.task_id),
        md_escape(verdict_words(verdict)),
        str(len(verdict.failed_checks)),
        str(len(verdict.warned_checks)),
        gate,
    ]
    return "| " + " | ".join(cells) + " |"


def tasks_render(verdict: Verdict, collapsed: int | None = None) -> str:
    """The step's headline and overall table, then each task's section (its table,
    CodeArts' gate, defects, details) under a ``###`` heading; ``collapsed``: the defects
    kept per failing check in each section (the comment shortens them until it fits)."""
    lines = _headline(verdict)
    lines += ["| Task | Id | Verdict | Over maximum | Warnings | CodeArts gate |"]
    lines += ["| --- | --- | --- | ---: | ---: | :---: |"]
    lines += [_task_row(task) for task in verdict.tasks] + [""]
    for task in verdict.tasks:
        layout = None if collapsed is None else layout_of(task.verdict, collapsed)
        section = document(task.verdict, layout).splitlines()
        title = (
            section[0].removeprefix("## ").replace("CodeArts Check gate", md_escape(task.name), 1)
        )
        inner = [f"#{line}" if line.startswith("### ") else line for line in section[1:]]
        lines += [f"### {title}", *inner, ""]  # the task's own headings one level down
    return "\n".join(lines).rstrip() + "\n"
