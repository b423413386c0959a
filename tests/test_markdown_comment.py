"""The one Markdown document of the summary and the comment, read by a real consumer:
GitHub's cmark-gfm (tables, raw HTML as GitHub receives it before its sanitizer). Hostile
service text must not become markup; defect links go to the commit under test only."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fakeapi import make_defect
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_defect_formats import HOSTILE, read_all
from validators import unavailable

from gate import github
from gate.comment import comment_body
from gate.core import ChangeView, ScanInfo, evaluate
from gate.defects import DigestBuilder
from gate.formats import render
from gate.metrics import DEFAULT_MAXIMUMS
from gate.policy import build_policy
from gate.report import Report
from gate.structs import replace

COMMIT = "c0ffee" * 6 + "abcd"
FILES = "https://github.example/o/r/blob"
MARKER = "<!-- codearts-gate:task-1 -->"
ALLOWED = {
    "h2", "h3", "p", "strong", "em", "code", "a", "table", "thead", "tbody", "tr", "th",
    "td", "ul", "li", "details", "summary", "br",
}  # fmt: skip


def gfm(text: str) -> str:
    try:
        import cmarkgfm
        from cmarkgfm.cmark import Options
    except ImportError:
        unavailable("cmarkgfm (GitHub's Markdown renderer) is not installed")
    return cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_comment(self, data):
        self.comments.append(data)


def change_verdict(defects):
    builder = DigestBuilder(("critical", "major", "minor", "suggestion"), keep=100)
    for defect in defects:
        builder.add(defect)
    digest = builder.digest(len(defects))
    report = Report({"critical": 3, "major": 1, "UNRESOLVED_ADD": 4})
    verdict = evaluate(report, build_policy(DEFAULT_MAXIMUMS.items()))
    scan = ScanInfo("task-1", "job", "job-1", branch="main`<b>", commit=COMMIT, files_url=FILES)
    view = ChangeView(True, "a" * 40, COMMIT, 2, 30, digest)
    return replace(verdict, defects=digest, change=view, scan=scan)


def parsed(text: str) -> Tags:
    tags = Tags()
    tags.feed(gfm(text))
    return tags


def test_the_comment_renders_as_a_table_details_and_links_to_the_commit():
    defects = read_all([make_defect(i, level=0) for i in range(30)])
    body = comment_body(change_verdict(defects), MARKER)
    tags = parsed(body)
    assert tags.tags <= ALLOWED and {"table", "details", "a"} <= tags.tags
    assert tags.comments == [" codearts-gate:task-1 "]  # the marker is hidden
    files = [h for h in tags.hrefs if h.startswith(FILES)]
    assert len(files) == 60  # 30 under critical, the same 30 under new
    assert all(f"/blob/{COMMIT}/" in h and "#L" in h for h in files)
    assert "in this change" in body and "[!WARNING]" not in body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.sampled_from([HOSTILE, "<img src=x onerror=alert(1)>", "<script>x</script>"])
    | st.text(max_size=80)
)
def test_hostile_service_text_never_becomes_markup(text):
    row = make_defect(1, level=0, defect_content=text, rule_name=text, file_path=text or "x")
    verdict = change_verdict(read_all([row]))
    for document in (comment_body(verdict, MARKER), render("summary", verdict)):
        tags = parsed(document)
        assert tags.tags <= ALLOWED, tags.tags - ALLOWED
        assert all(h.startswith(("https://", "http://")) for h in tags.hrefs), tags.hrefs
        assert len(tags.comments) <= 1


def test_annotations_put_the_changes_defects_first():
    every = read_all([make_defect(i, level=0) for i in range(40)])
    mine = every[30:]  # the change's defects come last in the service's order
    verdict = change_verdict(mine)
    builder = DigestBuilder(("critical",))
    for defect in every:
        builder.add(defect)
    verdict = replace(verdict, defects=builder.digest(40))
    lines = [line for line in github.defect_annotation_lines(verdict) if line.startswith("::")]
    assert len(lines) == 7  # 10 errors a step, 3 taken by the failed checks
    assert all(f"(defect {i})" in line for i, line in zip(range(30, 37), lines, strict=True))


@pytest.mark.parametrize("collapsed", [0, 10])
def test_the_summary_without_links_elsewhere_is_plain_text(collapsed):
    defects = read_all([make_defect(i, level=0) for i in range(3)])
    verdict = change_verdict(defects)
    verdict = replace(verdict, scan=replace(verdict.scan, files_url=None))
    tags = parsed(render("summary", verdict))
    assert not [h for h in tags.hrefs if "/blob/" in h]
