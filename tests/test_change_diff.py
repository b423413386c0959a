"""Which lines a change touches: git's ``--unified=0`` diff parsed, and read from real
repositories built here (edits, added, deleted, renamed, binary, CRLF, non-ASCII and
space paths, shallow clones, GitHub's merge-commit checkout, another user's checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import Repo, numbered
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.defects import Defect
from gate.errors import UsageError
from gate.filter.diff import ChangedLines, in_change, parse_diff, unquote_c
from gate.gitdiff import Git, change_diff


def diff_of(repo: Repo, base: str, head: str, forge: str = "") -> ChangedLines:
    return change_diff(Git(repo.root, 30, forge), base, head).lines


# --------------------------------------------------------------------------- parsing


def test_c_quoted_paths_are_unquoted():
    assert unquote_c(b'"a\\303\\251 b.c"') == "aé b.c".encode()
    assert unquote_c(b'"tab\\there\\"q\\\\"') == b'tab\there"q\\'
    assert unquote_c(b"plain name") == b"plain name"


def test_content_lines_that_look_like_headers_are_skipped_by_count():
    text = (
        b"diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n"
        b"@@ -3,2 +3,3 @@\n--- a/evil\n-+++ b/evil\n++++ b/evil\n+@@ -1 +90 @@\n+x\r\n"
        b"\\ No newline at end of file\n"
        b"@@ -10 +11,0 @@\n-gone\n"
    )
    changed = parse_diff(text)
    assert changed.paths == ("x.c",)
    assert changed.lines("x.c") == {3, 4, 5}


def test_a_name_with_a_space_ends_with_a_tab_in_the_header():
    text = b"diff --git a/a b.c b/a b.c\n--- a/a b.c\t\n+++ b/a b.c\t\n@@ -1 +1 @@\n-x\n+y\n"
    assert parse_diff(text).lines("a b.c") == {1}


# --------------------------------------------------------------------------- real git


@pytest.fixture
def change(tmp_path: Path) -> tuple[Repo, str, str]:
    """A base commit and a head commit that touches files in every way git can."""
    repo = Repo(tmp_path / "repo")
    repo.write("src/edit.c", numbered(10))
    repo.write("src/gone.c", numbered(3))
    repo.write("src/old name.c", numbered(20, "kept"))
    repo.write("bin/blob.bin", bytes(range(256)) * 4)
    repo.write("crlf.txt", numbered(5).replace("\n", "\r\n"))
    repo.write("mode.sh", numbered(2))
    base = repo.commit("base")
    lines = numbered(10).splitlines(keepends=True)
    lines[1] = "changed 2\n"
    lines.insert(6, "added after 6\n")
    repo.write("src/edit.c", "".join(lines))
    (repo.root / "src/gone.c").unlink()
    renamed = numbered(20, "kept").splitlines(keepends=True)
    renamed[14] = "edited 15 in the rename\n"
    (repo.root / "src/old name.c").unlink()
    repo.write("src/new nämé.c", "".join(renamed))
    repo.write("bin/blob.bin", bytes(range(255, -1, -1)) * 4)
    crlf = numbered(5).replace("\n", "\r\n").splitlines(keepends=True)
    crlf[2] = "crlf changed\r\n"
    repo.write("crlf.txt", "".join(crlf))
    os.chmod(repo.root / "mode.sh", 0o755)
    repo.write("src/added.c", numbered(4, "new"))
    head = repo.commit("head")
    return repo, base, head


def test_the_lines_of_every_kind_of_change(change):
    repo, base, head = change
    changed = diff_of(repo, base, head)
    assert changed.lines("src/edit.c") == {2, 7}
    assert changed.lines("src/new nämé.c") == {15}  # the rename followed, in the new path
    assert changed.lines("crlf.txt") == {3}
    assert changed.lines("src/added.c") == {1, 2, 3, 4}
    # deleted, binary and mode-only changes contribute nothing; the old name neither
    assert set(changed.paths) == {"src/edit.c", "src/new nämé.c", "crlf.txt", "src/added.c"}


def test_raw_non_ascii_paths_are_read_too(change):
    repo, base, head = change
    raw = repo.git("-c", "core.quotePath=false", "diff", "--unified=0", "-M", base, head)
    assert "nämé" in raw  # not quoted: the parser reads the raw bytes
    assert parse_diff(raw.encode()).lines("src/new nämé.c") == {15}


def test_a_user_configuration_cannot_change_the_prefixes(change, monkeypatch):
    repo, base, head = change
    repo.git("config", "diff.noprefix", "true")
    repo.git("config", "diff.mnemonicPrefix", "true")
    assert diff_of(repo, base, head).lines("src/edit.c") == {2, 7}


def test_in_a_subfolder_the_paths_are_relative_to_it(change):
    repo, base, head = change
    changed = change_diff(Git(repo.root / "src", 30), base, head).lines
    assert set(changed.paths) == {"edit.c", "new nämé.c", "added.c"}


def test_a_shallow_clone_without_the_base_names_the_fix(change, tmp_path):
    repo, base, _ = change
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True
    )
    with pytest.raises(UsageError) as caught:
        change_diff(Git(clone, 30, "github"), base, None)
    assert "shallow clone" in str(caught.value) and "fetch-depth: 0" in str(caught.value)
    with pytest.raises(UsageError, match="GIT_DEPTH: 0"):
        change_diff(Git(clone, 30, "gitlab"), base, None)


def test_githubs_merge_commit_checkout_diffs_the_head_not_the_merge(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("a.c", numbered(10))
    repo.write("b.c", numbered(10))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("a.c", numbered(10).replace("line 3\n", "feature 3\n"))
    head = repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("b.c", numbered(10).replace("line 8\n", "main 8\n"))
    target = repo.commit("main moves on")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")  # what GitHub checks out
    assert repo.git("rev-parse", "HEAD^2") == head
    diff = change_diff(Git(repo.root, 30, "github"), target, head)
    assert diff.lines.ranges.keys() == {"a.c"} and diff.lines.lines("a.c") == {3}
    assert diff.head == head and diff.base != target  # the merge base, not the base tip


def test_not_a_checkout_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not a git checkout"):
        change_diff(Git(tmp_path, 30), "main", None)


def test_no_git_on_path_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(UsageError, match="`git` is not on PATH"):
        change_diff(Git(tmp_path, 30), "main", None)


def test_an_unknown_base_is_a_usage_error(change):
    repo, _, head = change
    with pytest.raises(UsageError, match="the base revision origin/nope"):
        change_diff(Git(repo.root, 30), "origin/nope", head)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the checkout to another user")
def test_a_checkout_owned_by_another_user_is_trusted_for_the_gates_calls_only(change):
    repo, base, head = change
    shutil.chown(repo.root, user=65534, group=65534)
    for path in repo.root.rglob("*"):
        os.lchown(path, 65534, 65534)
    plain = subprocess.run(["git", "status"], cwd=repo.root, capture_output=True, check=False)
    assert plain.returncode != 0 and b"dubious ownership" in plain.stderr
    assert diff_of(repo, base, head).lines("src/edit.c") == {2, 7}
    again = subprocess.run(["git", "status"], cwd=repo.root, capture_output=True, check=False)
    assert again.returncode != 0  # the user's configuration was not changed


# --------------------------------------------------------------------------- property

CONTENT = st.sampled_from(["x", "--- a/f.c", "+++ b/f.c", "@@ -1 +1 @@", "diff --git", "\\", ""])


@st.composite
def hunks(draw: st.DrawFn) -> list[tuple[int, int, int, int]]:
    """Ordered hunks (old start, old count, new start, new count), as a diff holds them."""
    result, old, new = [], 1, 1
    for _ in range(draw(st.integers(0, 6))):
        gap = draw(st.integers(0, 5))
        removed, added = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        if removed == added == 0:
            continue
        old, new = old + gap, new + gap
        result.append((old, removed, new, added))
        old, new = old + removed, new + added
    return result


def render_diff(path: str, parts: list[tuple[int, int, int, int]], lines: list[str]) -> bytes:
    out = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
    for k, (old, removed, new, added) in enumerate(parts):
        o = old if removed else old - 1
        n = new if added else new - 1
        out.append(f"@@ -{o},{removed} +{n},{added} @@")
        out += [f"-{lines[(k + i) % len(lines)]}" for i in range(removed)]
        out += [f"+{lines[(k + i + 1) % len(lines)]}" for i in range(added)]
    return ("\n".join(out) + "\n").encode()


@settings(max_examples=150, deadline=None)
@given(hunks(), st.lists(CONTENT, min_size=1, max_size=5), st.lists(st.integers(0, 40)))
def test_a_defect_counts_exactly_when_its_line_is_added_or_modified(parts, content, probes):
    changed = parse_diff(render_diff("f.c", parts, content))
    touched = {new + i for _, _, new, added in parts for i in range(added)}
    defects = [Defect(str(n), "major", "c", "r", "f.c", n, "m") for n in probes]
    defects += [Defect("o", "major", "c", "r", "other.c", n, "m") for n in probes]
    kept = list(in_change(defects, changed))
    assert [d.line for d in kept] == [n for n in probes if n in touched]
    assert all(d.path == "f.c" for d in kept)


WORDS = st.sampled_from(["a", "b", "c", "--- a/x", "+++ b/x", "@@ -1 +1 @@", "", "d\r"])


def blamed_to(repo: Repo, commit: str, path: str) -> set[int]:
    """The lines of ``path`` that ``git blame`` gives to ``commit``: an oracle apart
    from the diff's hunk headers."""
    out = repo.git("blame", "--porcelain", commit, "--", path)
    lines = set()
    for line in out.splitlines():
        parts = line.split(" ")
        if len(parts) >= 3 and parts[0] == commit:
            lines.add(int(parts[2]))
    return lines


@settings(max_examples=15, deadline=None)
@given(
    st.lists(WORDS, min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 40), st.sampled_from("rid"), WORDS), max_size=8),
)
def test_a_defect_counts_exactly_on_the_lines_git_blame_gives_to_the_change(
    tmp_path_factory, old, edits
):
    repo = Repo(tmp_path_factory.mktemp("prop") / "repo")
    repo.write("f.c", "".join(f"{w}\n" for w in old))
    base = repo.commit("base")
    new = list(old)
    for where, op, word in edits:
        at = where % (len(new) + 1)
        if op == "i" or not new:
            new.insert(at, f"new {word}")
        elif op == "r":
            new[at % len(new)] = f"replaced {word}"
        else:
            del new[at % len(new)]
    repo.write("f.c", "".join(f"{w}\n" for w in new))
    head = repo.commit("head")
    changed = diff_of(repo, base, head)
    defects = [Defect(str(n), "major", "c", "r", "f.c", n, "m") for n in range(1, len(new) + 2)]
    counted = {d.line for d in in_change(defects, changed)}
    assert counted == (blamed_to(repo, head, "f.c") if new != old else set())
