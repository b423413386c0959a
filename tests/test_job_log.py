"""Outputs that are the job log, and paths that must never be replaced (issue 17).

An output path may be ``/dev/stdout``, ``/dev/stderr``, ``/proc/self/fd/N`` or a link to
one: in GitHub Actions that is the job log, where a line starting with ``::`` or holding
``##[`` is a workflow command. Every format written there breaks them and stays valid for
its consumer (JSON readers, Jenkins' JUnit XSD, SARIF and Code Quality schemas, a Markdown
renderer). A link, a device or a FIFO is written in place, never renamed over: as root,
renaming over ``/dev/stdout`` replaced the device link for every later process.

The runs that write to the real ``/dev/stdout`` go last in their test, after the same run
through a stand-in link of the same shape (``stdout -> /proc/self/fd/1``) kept its link:
a regression then breaks the stand-in, not the machine's ``/dev/stdout``.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from budget import examples
from fakeapi import EXAMPLE_REPORT, make_defect
from gaterun import GATE, JOB, clean_env
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from validators import json_validator, unsafe_text

from gate.core import error_verdict
from gate.errors import OutputError, ServiceError
from gate.formats import render
from gate.formats.junit import xml_text
from gate.outputs import (
    JobLogWriter,
    job_log_safe,
    open_atomic,
    preflight_paths,
    shared_files,
    target_of,
    write_atomic,
)

HOSTILE = (
    "first line\n::error file=a.py,line=1::pwned\n##[set-output name=a]b\n"
    "  ::warning::indented\r\n::add-mask::x\ttab \u2028 \x85 C# ::notice::mid ##[group]g"
)
COMMANDS = ["::error::x", "##[set-output name=a]b", "\n::warning::y", "  ::debug::z", "##[", "::"]
DEFECT_FORMATS = {"sarif": "sarif-2.1.0.json", "codequality": "gitlab-codequality.schema.json"}


def hostile_rows() -> list[dict[str, object]]:
    return [
        make_defect(
            i,
            defect_content=f"{HOSTILE} {i}",
            rule_name=f"::error::rule {i}",
            defect_checker_name="##[error]checker",
            file_path=f"src/::x{i}.c",
        )
        for i in range(4)
    ]


def gate(api, *args: str, **popen) -> subprocess.CompletedProcess[str]:
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    command = [str(GATE), "--task-id", "task-1", "--defect-severity", "all", *args]
    if "stdout" not in popen:
        popen["capture_output"] = True
    return subprocess.run(command, env=env, text=True, timeout=120, check=False, **popen)


@pytest.fixture
def hostile_api(fake_api_factory):
    tools = [HOSTILE, "::error::tool"]  # service text in the verdict formats too
    api = fake_api_factory(scenario="report", report={**EXAMPLE_REPORT, "TOOL_LIST": tools})
    api.defect_api.rows = hostile_rows()
    return api


def stream_problems(*streams: str) -> list[str]:
    return [
        f"{line!r}: {why}" for s in streams for line in s.split("\n") if (why := unsafe_text(line))
    ]


def documents(stream: str) -> list[object]:
    """The JSON documents in a captured stream (each starts a line with ``{`` or ``[``)."""
    found, decoder, at = [], json.JSONDecoder(), 0
    while True:
        starts = [i for i in (stream.find("\n{", at), stream.find("\n[", at)) if i >= 0]
        if at == 0 and stream[:1] in "{[" and stream:
            starts.append(-1)
        if not starts:
            return found
        start = min(starts) + 1
        try:
            value, end = decoder.raw_decode(stream, start)
        except ValueError:
            at = start
            continue
        found.append(value)
        at = end


def xml_documents(stream: str) -> list[str]:
    """The XML documents in a captured stream, each from its declaration to its root's end."""
    found = []
    for part in stream.split('<?xml version="1.0" encoding="UTF-8"?>')[1:]:
        root = "testsuites" if part.lstrip().startswith("<testsuites") else "testsuite"
        end = part.index(f"</{root}>") + len(f"</{root}>")
        found.append('<?xml version="1.0" encoding="UTF-8"?>' + part[:end])
    return found


# ------------------------------------------------------------------ end to end


@pytest.mark.schema
@pytest.mark.parametrize("stream", ["/dev/stdout", "/proc/self/fd/2"])
@pytest.mark.parametrize("name", ["json", "sarif", "codequality"])
def test_a_json_format_in_the_job_log_breaks_every_command_and_stays_valid(
    hostile_api, tmp_path, stream, name
):
    if stream == "/dev/stdout":  # the stand-in first: a regression must not break the machine
        standin = tmp_path / "stdout"
        standin.symlink_to("/proc/self/fd/1")
        run = gate(hostile_api, f"--{name}", str(standin))
        assert standin.is_symlink() and os.readlink(standin) == "/proc/self/fd/1"
        assert run.returncode == 1, run.stderr
    run = gate(hostile_api, f"--{name}", stream)
    assert run.returncode == 1, run.stderr
    assert stream_problems(run.stdout, run.stderr) == []
    [document] = documents(run.stdout if stream == "/dev/stdout" else run.stderr)
    if name in DEFECT_FORMATS:
        json_validator(DEFECT_FORMATS[name]).validate(document)
    text = json.dumps(document, ensure_ascii=False)
    assert "::error file=a.py,line=1::pwned" in text and "##[set-output" in text  # text kept


@pytest.mark.schema
@pytest.mark.parametrize("name", ["junit", "junit-defects"])
def test_an_xml_format_in_the_job_log_breaks_every_command_and_stays_valid(
    hostile_api, tmp_path, name, junit_xsd
):
    run = gate(hostile_api, f"--{name}", "/proc/self/fd/1")
    assert run.returncode == 1, run.stderr
    assert stream_problems(run.stdout, run.stderr) == []
    [document] = xml_documents(run.stdout)
    root = ET.fromstring(document)
    if junit_xsd is not None:  # absent without ../shared (CI requires it by its own test)
        junit_xsd.validate(document)
    if name == "junit-defects":
        texts = "".join(root.itertext()) + json.dumps([e.attrib for e in root.iter()])
        assert "::error file=a.py,line=1::pwned" in texts and "##[set-output" in texts


def test_the_summary_in_the_job_log_breaks_every_command_and_renders_the_same(hostile_api):
    run = gate(hostile_api, "--summary", "/dev/stderr", "--defects", "-q")
    assert run.returncode == 1, run.stderr
    assert stream_problems(run.stdout, run.stderr) == []
    assert "### Defects" in run.stderr


def test_every_output_at_once_to_the_standard_streams(hostile_api, tmp_path, junit_xsd):
    """The issue's case: ``--json /dev/stdout --summary /dev/stderr --junit /proc/self/fd/1``
    and the per-defect files too, all in one job log."""
    run = gate(
        hostile_api,
        *("--json", "/dev/stdout", "--summary", "/dev/stderr", "--junit", "/proc/self/fd/1"),
        *("--sarif", "/dev/fd/1", "--codequality", "/dev/stderr", "--junit-defects", "/dev/stdout"),
    )
    assert run.returncode == 1, run.stderr
    assert stream_problems(run.stdout, run.stderr) == []
    assert len(documents(run.stdout)) == 2 and len(documents(run.stderr)) == 1
    assert len(xml_documents(run.stdout)) == 2
    assert os.path.islink("/dev/stdout")


def test_a_fifo_with_a_reader_is_the_job_log_too(hostile_api, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    try:
        run = gate(hostile_api, "--junit-defects", str(fifo))
    finally:
        reader.join(timeout=60)
    assert run.returncode == 1, run.stderr
    text = got[0].decode("utf-8")
    assert stream_problems(text) == [] and "&#35;#[set-output" in text
    ET.fromstring(text)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


# ------------------------------------------------------------------ never replaced


def test_dev_stdout_redirected_to_a_file_writes_into_that_file_in_order(hostile_api, tmp_path):
    out = tmp_path / "out.txt"
    standin = tmp_path / "stdout"
    standin.symlink_to("/proc/self/fd/1")
    for path in (str(standin), "/dev/stdout"):  # the stand-in first, see the module's notes
        with out.open("w") as handle:
            run = gate(hostile_api, "--json", path, stdout=handle, stderr=subprocess.PIPE)
        assert run.returncode == 1, run.stderr
        [document] = documents(out.read_text(encoding="utf-8"))
        assert document["verdict"] == "failed"
        written = out.read_text(encoding="utf-8")
        assert written.index("verdict: FAIL") > written.index('"verdict": "failed"')  # in order
        assert standin.is_symlink() and os.readlink(standin) == "/proc/self/fd/1"
    assert os.path.islink("/dev/stdout") and os.readlink("/dev/stdout") == "/proc/self/fd/1"


def test_a_link_to_a_file_stays_a_link_and_its_target_gets_the_content(tmp_path):
    real = tmp_path / "real" / "result.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(str(link), '{"a": 1}\n', kind="json")
    assert link.is_symlink() and json.loads(real.read_text()) == {"a": 1}
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert not target_of(str(link)).job_log  # a link to a file is no job log: nothing escaped


def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "link.xml"
    link.symlink_to(tmp_path / "made.xml")
    write_atomic(str(link), "<x/>\n", kind="junit")
    assert link.is_symlink() and (tmp_path / "made.xml").read_text() == "<x/>\n"


def test_a_regular_file_is_still_replaced_whole(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    before = path.stat().st_ino
    with pytest.raises(RuntimeError), open_atomic(str(path), kind="json") as handle:
        handle.write("half")
        raise RuntimeError
    assert path.read_text() == "old"
    write_atomic(str(path), "new", kind="json")
    assert path.read_text() == "new" and path.stat().st_ino != before  # renamed into place


def test_what_a_path_is_comes_from_the_path_itself(tmp_path):
    regular = tmp_path / "f.json"
    regular.write_text("x")
    link = tmp_path / "l.json"
    link.symlink_to(regular)
    to_stdout = tmp_path / "out"
    to_stdout.symlink_to("/dev/stdout")
    assert target_of(str(regular)).replaceable
    assert target_of(str(tmp_path / "new.json")).replaceable
    assert not target_of(str(link)).replaceable
    for stream in ("/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/dev/fd/2", str(to_stdout)):
        where = target_of(stream)
        assert not where.replaceable and where.job_log, stream
    assert target_of("/dev/null").job_log and not target_of("/dev/null").replaceable


def test_shared_files_agree_with_what_is_replaced(tmp_path):
    regular = tmp_path / "f.json"
    regular.write_text("x")
    link = tmp_path / "l.json"
    link.symlink_to(regular)
    assert shared_files({"json": "/dev/stdout", "junit": "/dev/stdout", "sarif": "/dev/fd/1"}) == []
    assert shared_files({"json": str(link), "sarif": str(regular)})  # one file, two names
    assert shared_files({"json": str(tmp_path / "a"), "sarif": str(tmp_path / "a")})
    preflight_paths({"json": "/dev/stdout", "junit": "/dev/stderr", "summary": "/dev/stdout"})
    with pytest.raises(OutputError, match="name the same file"):
        preflight_paths({"json": str(link), "sarif": str(regular)})


# ------------------------------------------------------------------ the escapes


command_text = st.lists(st.one_of(st.sampled_from(COMMANDS), st.text(max_size=8)), max_size=12)


@settings(max_examples=examples(150), deadline=None)
@given(parts=command_text)
def test_json_in_the_job_log_reads_back_the_same(parts):
    value = {"message": "".join(parts), "list": parts}
    for indent in (2, None):
        original = json.dumps(value, ensure_ascii=False, indent=indent)
        safe = job_log_safe("json", original)
        assert json.loads(safe) == value
        assert stream_problems(safe) == []


@settings(max_examples=examples(150), deadline=None)
@given(parts=command_text)
def test_xml_in_the_job_log_reads_back_the_same(parts):
    text = xml_text("".join(parts))
    root = ET.Element("testsuite", {"name": text})
    ET.SubElement(root, "system-out").text = text
    original = ET.tostring(root, encoding="unicode")
    safe = job_log_safe("junit", original)
    back = ET.fromstring(safe)
    assert back.get("name") == text and back[0].text == (text or None)  # \r kept, even
    assert stream_problems(safe) == []


def test_the_summary_in_the_job_log_renders_as_before():
    verdict = error_verdict(ServiceError(HOSTILE))
    original = render("summary", verdict) + "::error::own line\n##[group]x\n  :: indented\n"
    safe = job_log_safe("summary", original)
    markdown = MarkdownIt("commonmark")
    assert markdown.render(safe) == markdown.render(original)
    assert stream_problems(safe) == []


@pytest.mark.parametrize("kind", ["junit", "summary", "junit-defects"])
def test_a_command_split_between_two_writes_is_still_broken(kind):
    """The line formats (JSON escapes each character: see the JSON property above)."""
    out = io.StringIO()
    writer = JobLogWriter(out, kind)
    for chunk in ['{"a": "#', "#[x ", '::y"', "}\n:", ":error::z\n#", "#[", "w"]:
        writer.write(chunk)
    writer.finish()
    assert stream_problems(out.getvalue()) == [], out.getvalue()


def test_a_path_that_is_not_the_job_log_is_written_as_is(tmp_path):
    path = tmp_path / "plain.md"
    write_atomic(str(path), "::error::x\n##[y\n", kind="summary")
    assert path.read_text() == "::error::x\n##[y\n"
    assert Path("/dev/stdout").is_symlink()


def test_every_output_kind_says_how_it_is_escaped_in_the_job_log():
    from gate.formats import DEFECT_FORMATS, FORMATS
    from gate.outputs import JSON_KINDS, LINE_ESCAPES

    kinds = (set(FORMATS) - {"console"}) | set(DEFECT_FORMATS)
    assert kinds == JSON_KINDS | set(LINE_ESCAPES)
    with pytest.raises(KeyError):
        job_log_safe("yaml", "::x")
