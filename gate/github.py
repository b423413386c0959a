"""GitHub Actions: the one module that knows the runner's variables and workflow commands.

Everything here is a no-op unless ``GITHUB_ACTIONS`` is ``"true"``. Pure helpers build
the text (escaping, ``$GITHUB_OUTPUT`` blocks, annotations, the bounded summary); the
three public calls ``begin``, ``group`` and ``publish`` print or append it.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from gate.ci import active
from gate.core import Check, Verdict
from gate.defects import Defect, DefectDigest
from gate.formats import render
from gate.settings import OutputPaths
from gate.text import escape_controls, neutralize_commands, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

SUMMARY_LIMIT = 1024 * 1024
"""GitHub rejects a step summary over 1 MiB (bytes, the whole file of the step)."""

TRUNCATED_NOTE = (
    "\n\n> [!NOTE]\n> This summary was truncated to stay under GitHub's 1 MiB step-summary limit.\n"
)
TITLE = "CodeArts Check gate"


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: the message escapes plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """One workflow command line, ``::name key=value,...::message``, everything escaped
    (and no legacy ``##[command]`` left inside, which the runner finds anywhere in a line)."""
    props = ",".join(
        f"{key}={escape_property(neutralize_commands(value))}" for key, value in properties.items()
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(neutralize_commands(message))}"


def mask_lines(secrets: Iterable[str]) -> list[str]:
    """``::add-mask::`` for each non-empty secret, and for each line of a multi-line one,
    as is and without its indentation (a service re-indents what it echoes). A secret a
    service splits elsewhere is no value the runner can mask: ``gate.text.redact`` finds it
    in what the gate prints."""
    values: list[str] = []
    for secret in secrets:
        lines = secret.splitlines()
        for part in [secret, *lines, *(line.strip() for line in lines)]:
            if part.strip() and part not in values:
                values.append(part)
    # not through command(): the value must reach the masker exactly as it will be printed
    return [f"::add-mask::{escape_data(value)}" for value in values]


def begin(secrets: Iterable[str], out: TextIO, env: Mapping[str, str] = os.environ) -> None:
    """Register every secret with the runner's masker; call before anything else is printed."""
    if active(env):
        for line in mask_lines(secrets):
            print(line, file=out, flush=True)


_GROUP_OPEN = threading.Lock()
"""Held while a group is open: the runner cannot nest groups, so with several tasks at
once only one task's lines are folded at a time (the others print unfolded)."""


@contextlib.contextmanager
def group(title: str, out: TextIO, env: Mapping[str, str] = os.environ) -> Iterator[None]:
    """Fold what is printed inside into a collapsible group of the job log."""
    if not active(env) or not _GROUP_OPEN.acquire(blocking=False):
        yield
        return
    print(command("group", title), file=out, flush=True)
    try:
        yield
    finally:
        print("::endgroup::", file=out, flush=True)
        _GROUP_OPEN.release()


def output_values(
    verdict: Verdict, outputs: OutputPaths, exit_code: int | None = None
) -> dict[str, str]:
    """The action's outputs; a count that could not be read is the empty string."""
    counts = {name: verdict.counts.get(name) for name in ("critical", "major", "new")}
    return {
        "verdict": verdict.outcome.value,
        "exit-code": str(int(verdict.exit_code) if exit_code is None else exit_code),
        **{name: "" if value is None else str(value) for name, value in counts.items()},
        "report-url": verdict.report_url or "",
        "junit-path": outputs.junit or "",  # as given: the runner resolves it in the workspace
        "job-id": verdict.job_id or "",
        "tasks": json.dumps(tasks_output(verdict), ensure_ascii=False),
    }


def tasks_output(verdict: Verdict) -> list[dict[str, object]]:
    """The ``tasks`` output: each task of a step of several (``[]`` for one task)."""
    return [
        {
            "name": t.name,
            "task-id": t.task_id,
            "verdict": t.verdict.outcome.value,
            "exit-code": int(t.verdict.exit_code),
            "job-id": t.verdict.job_id or "",
            "report-url": t.verdict.report_url or "",
            **{m: t.verdict.counts.get(m) for m in ("critical", "major", "new")},
        }
        for t in verdict.tasks
    ]


def new_delimiter(value: str) -> str:
    """A random heredoc delimiter that does not occur in ``value``."""
    while True:
        delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
        if delimiter not in value:
            return delimiter


def output_block(name: str, value: str, delimiter: str) -> str:
    """One ``$GITHUB_OUTPUT`` entry in heredoc form, safe for any value."""
    if delimiter in value or delimiter in name:
        raise ValueError("the delimiter must not occur in the name or the value")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def output_lines(values: Mapping[str, str]) -> str:
    """Every output as a heredoc block, each with its own random delimiter."""
    return "".join(output_block(k, v, new_delimiter(k + v)) for k, v in values.items())


def fit_summary(text: str, budget: int) -> str:
    """``text`` whole if its UTF-8 fits ``budget`` bytes, else cut at a line and noted."""
    data = text.encode("utf-8")
    if len(data) <= budget:
        return text
    room = budget - len(TRUNCATED_NOTE.encode("utf-8"))
    if room <= 0:
        return ""
    head = data[:room].decode("utf-8", errors="ignore")  # drops a cut multi-byte character
    cut = head.rfind("\n")
    return (head[:cut] if cut > 0 else head) + TRUNCATED_NOTE


def annotation_lines(verdict: Verdict, title: str = TITLE) -> list[str]:
    """``::error`` per failed check, ``::warning`` per warned one (and for a baseline not
    had, suppressions to review, CodeArts' gate disagreeing); ``::error`` or ``::warning``
    when there is no verdict."""
    lines = [  # several tasks: each one's, titled with its name
        line
        for task in verdict.tasks
        for line in annotation_lines(task.verdict, f"{TITLE} [{task.name}]")
    ]
    for check in verdict.failed_checks:
        message, heading = failed_check_text(check, title)
        lines.append(command("error", message, title=heading))
    lines += [
        command(
            "warning", check.warning_text(), title=f"{title}: {check.metric} over its warn level"
        )
        for check in verdict.warned_checks
    ]
    if verdict.baseline_note:
        lines.append(command("warning", verdict.baseline_note, title=f"{title}: no baseline"))
    if verdict.suppression is not None:
        review = f"{title}: suppression to review"
        lines += [command("warning", w, title=review) for w in verdict.suppression.warnings()]
    lines += codearts_annotations(verdict, title)
    if verdict.error is not None and not verdict.tasks:  # a task's error: said above
        kind = "warning" if verdict.warned else "error"
        message = f"{verdict.error.kind}: {one_line(verdict.error.message, 2000)}"
        lines.append(command(kind, message, title=f"{title}: no verdict"))
    return lines


def failed_check_text(check: Check, title: str = TITLE) -> tuple[str, str]:
    """The message and title of a failed check's annotation, the delta shown when there
    is a baseline."""
    if check.baseline is None and check.maximum is not None:
        message = f"{check.description}: {check.actual}, allowed at most {check.maximum}"
        return message, f"{title}: {check.metric} over its maximum"
    message = f"{check.description}: {check.shown()}, allowed {check.limits()}"
    return message, f"{title}: {check.metric}: {check.why_failed()}"


def codearts_annotations(verdict: Verdict, title: str = TITLE) -> list[str]:
    """``::error`` when CodeArts' own gate failed and counts; ``::warning`` when it
    disagrees with the local thresholds and does not."""
    gate = verdict.codearts
    if gate is None:
        return []
    if gate.decides and gate.state == "failed":
        return [command("error", gate.summary(), title=f"{title}: CodeArts' own gate failed")]
    disagreement = gate.disagreement(verdict)
    if disagreement:
        return [command("warning", disagreement, title=f"{title}: CodeArts' own gate disagrees")]
    return []


ANNOTATION_LIMITS = {"error": 10, "warning": 10, "notice": 10}
"""What the runner shows per step; it drops the rest of each kind."""
ANNOTATION_KINDS = {
    "critical": "error",
    "major": "error",
    "minor": "warning",
    "suggestion": "notice",
}


def visible(text: str) -> str:
    """Service text with control characters shown as ``\\xNN``; line breaks kept (escaped
    later as ``%0A``), so that a log viewer never receives a raw escape sequence."""
    return escape_controls(text, keep_line_feeds=True)


def defect_annotation(defect: Defect, task: str | None = None) -> str:
    """``::error file=...,line=...,title=...::message`` for one defect, everything escaped.

    ``file`` is the checkout path escaped by the runner's rules (``command``: ``%``, line
    feeds, ``:`` and ``,`` travel exactly); only other control characters, which no
    repository path holds in practice, are shown as ``\\xNN`` to keep the log line safe.
    The title names the rule, which people read; the message says what is wrong."""
    kind = ANNOTATION_KINDS[defect.severity]
    props = {"file": visible(defect.path)} if defect.path else {}
    if defect.path and defect.line > 0:
        props["line"] = str(defect.line)
        if defect.start_column is not None:
            props["col"] = str(defect.start_column)
            if defect.end_column is not None:
                props["endColumn"] = str(defect.end_column)
    where = f" [{task}]" if task else ""
    props["title"] = one_line(
        f"CodeArts Check{where} {defect.severity}: {defect.rule or defect.rule_id}", 200
    )
    return command(kind, visible(defect.text()), **props)


def annotation_order(verdict: Verdict, digest: DefectDigest) -> list[Defect]:
    """The defects to annotate, most severe first; with ``--scope change`` those on the
    change's lines take the slots first."""
    every = digest.most_severe(digest.severities)
    mine = verdict.change.digest if verdict.change and verdict.change.judged else None
    if mine is None:
        return every
    first = mine.most_severe(mine.severities)
    ids = {defect.fingerprint for defect in first}
    return first + [defect for defect in every if defect.fingerprint not in ids]


def annotated_defects(verdict: Verdict) -> tuple[list[tuple[Defect, str | None]], int]:
    """The defects to annotate, most severe first (with several tasks, every task's, each
    with its task's name), and how many were fetched in all."""
    if not verdict.tasks:
        digest = verdict.defects
        if digest is None or digest.error:
            return [], 0
        return [(d, None) for d in annotation_order(verdict, digest)], digest.fetched
    every: list[tuple[Defect, str | None]] = []
    fetched = 0
    for task in verdict.tasks:
        mine, count = annotated_defects(task.verdict)
        every += [(defect, task.name) for defect, _ in mine]
        fetched += count
    every.sort(key=lambda pair: pair[0].rank)  # stable: each task's own order kept
    return every, fetched


def defect_annotation_lines(verdict: Verdict) -> list[str]:
    """Annotations for the most severe defects within the runner's limits per kind (after
    the gate's own), and a plain line saying how many more there are."""
    defects, fetched = annotated_defects(verdict)
    if not defects:
        return []
    used = [line.split(" ", 1)[0].split("::")[1] for line in annotation_lines(verdict)]
    room = {kind: limit - used.count(kind) for kind, limit in ANNOTATION_LIMITS.items()}
    lines = []
    for defect, task in defects:
        kind = ANNOTATION_KINDS[defect.severity]
        if room[kind] > 0:
            room[kind] -= 1
            lines.append(defect_annotation(defect, task))
    more = fetched - len(lines)
    if more > 0:
        lines.append(
            f"CodeArts Check: {more} more defect{'s' * (more > 1)} not annotated (the runner "
            "shows at most 10 errors, 10 warnings and 10 notices per step): see the job "
            "summary and the SARIF or Code Quality report"
        )
    return lines


def append_file(path: str, text: str) -> None:
    """Append UTF-8 text to a runner file (``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY``).

    Never waits: the runner's files are regular files, but a FIFO in their place without a
    reader fails to open (``ENXIO``) and one whose reader does not read fails to take more
    (``EAGAIN``), each an ``OSError`` (a warning), never a hang past ``--timeout``."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags, 0o666)
    with os.fdopen(fd, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def summary_budget(path: str) -> int:
    """Bytes still free in the step summary file."""
    try:
        return max(0, SUMMARY_LIMIT - Path(path).stat().st_size)
    except OSError:
        return SUMMARY_LIMIT


def publish(
    verdict: Verdict,
    outputs: OutputPaths,
    out: TextIO,
    env: Mapping[str, str] = os.environ,
    *,
    exit_code: int | None = None,
) -> None:
    """Set the step outputs, append the summary, print the annotations (Actions only).

    ``exit_code`` is the code the process ends with, when it differs from the verdict's.
    """
    if not active(env):
        return
    if output_path := env.get("GITHUB_OUTPUT"):
        values = output_values(verdict, outputs, exit_code)
        _append_or_warn("GITHUB_OUTPUT", output_path, output_lines(values), out)
    if summary_path := env.get("GITHUB_STEP_SUMMARY"):
        summary = fit_summary(render("summary", verdict), summary_budget(summary_path))
        _append_or_warn("GITHUB_STEP_SUMMARY", summary_path, summary, out)
    for line in annotation_lines(verdict):
        print(line, file=out, flush=True)
    for line in defect_annotation_lines(verdict):
        print(line, file=out, flush=True)


def _append_or_warn(variable: str, path: str, text: str, out: TextIO) -> None:
    """Append to a runner file; a failure is a warning annotation, not a crash."""
    try:
        append_file(path, text)
    except OSError as error:
        message = f"cannot write ${variable} ({path}): {error.strerror}"
        print(command("warning", message, title=TITLE), file=out, flush=True)
