"""Several tasks in one step with the per-defect outputs: one SARIF run per task (its own
``automationDetails.id``), Code Quality fingerprints holding the task, JUnit suites per task
and file, each task's defects fetched by its own flow and mapped under its folder; a task
whose fetch fails leaves its part empty but valid. Against the local fake, every file
checked by its consumer's schema."""

from __future__ import annotations

import hashlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fakeapi import DefectApi, FakeCodeArts, defect_error_step, make_defect, report_step
from fakeforge import FakeForge
from gaterun import GateRun, clean_env, run_gate
from hypothesis import given, settings
from hypothesis import strategies as st
from test_consumer_files import multitool_errors
from validators import json_validator

from gate.comment import GITHUB_LIMIT, comment_body
from gate.core import TaskVerdict, combine_tasks
from gate.defect_run import combine_parts, empty_text
from gate.defects import DefectReader, DigestBuilder, FetchInfo
from gate.formats import combine_defect_parts, defect_writer
from gate.formats.codequality import task_fingerprint
from gate.formats.markdown import tasks_render
from gate.paths import PathMapper, normalized
from gate.settings import DefectSettings
from gate.structs import replace

FAIL = {"critical": 2, "major": 0, "UNRESOLVED_ADD": 0, "minor": 0}
PASS = {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0, "minor": 0}
CONFIG = """
[[tasks]]
id = "id-web"
name = "web"
path = "services/web"

[[tasks]]
id = "id-api"
name = "api"
path = "services/api"

[[tasks]]
id = "id-jobs"
name = "jobs"
"""


def rows(count: int, folder: str = "demo-repo/src") -> list[dict[str, object]]:
    """The same defects for each task asking: identical fingerprints within each task."""
    return [make_defect(i, file_path=f"{folder}/f{i % 3}.cpp") for i in range(count)]


def three_tasks_with_defects(api: FakeCodeArts, checkout: Path) -> None:
    """web passes, api fails, jobs fails and its defects cannot be fetched; web's files
    exist in the checkout under its folder, api's do not."""
    for task_id, counts in (("id-web", PASS), ("id-api", FAIL), ("id-jobs", FAIL)):
        api.add_task(task_id, length=0.0)
        api.task_reports[task_id] = report_step(counts)
    api.task_defects["id-web"] = DefectApi(rows=rows(12))
    api.task_defects["id-api"] = DefectApi(rows=rows(12, "services/api/src"))
    api.task_defects["id-jobs"] = DefectApi(rows=rows(5), faults={0: [defect_error_step()] * 30})
    for n in range(3):
        source = checkout / "services" / "web" / "src" / f"f{n}.cpp"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("int main() {}\n", encoding="utf-8")
    (checkout / "codearts-gate.toml").write_text(CONFIG, encoding="utf-8")


def gate(api: FakeCodeArts, checkout: Path, *args: str) -> GateRun:
    out = checkout / "out"
    out.mkdir(exist_ok=True)
    files = [f"--sarif={out}/d.sarif", f"--codequality={out}/cq.json"]
    files.append(f"--junit-defects={out}/jd.xml")
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token)
    return run_gate(out, *files, "--defect-severity", "all", *args, env=env, cwd=checkout)


def read(run: GateRun) -> tuple[dict, list, ET.Element]:
    sarif = json.loads((run.folder / "d.sarif").read_text(encoding="utf-8"))
    codequality = json.loads((run.folder / "cq.json").read_text(encoding="utf-8"))
    return sarif, codequality, ET.parse(run.folder / "jd.xml").getroot()


@pytest.fixture(scope="module")
def three_task_run(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """One run of the three tasks, read by several tests (this file runs whole on one
    process, ``TOGETHER`` in tests/conftest.py, so that the run is made once)."""
    checkout = tmp_path_factory.mktemp("three-tasks")
    with FakeCodeArts() as api:
        three_tasks_with_defects(api, checkout)
        run = gate(api, checkout)
    assert run.code == 1, run.stderr  # api failed: the defects never change the verdict
    return run


def test_each_task_has_its_own_sarif_run(three_task_run):
    sarif, _, _ = read(three_task_run)
    runs = {run["automationDetails"]["id"]: run for run in sarif["runs"]}
    assert list(runs) == ["codearts-gate/web/", "codearts-gate/api/", "codearts-gate/jobs/"]
    web, api, jobs = runs.values()
    assert len(web["results"]) == len(api["results"]) == 12 and jobs["results"] == []
    assert [run["properties"]["task"] for run in runs.values()] == ["web", "api", "jobs"]
    assert "CC.00050006" in jobs["properties"]["defectsMissing"]
    assert web["tool"]["driver"]["rules"] and api["tool"]["driver"]["rules"]
    # web's paths found under its folder in the checkout; api's named the folder already
    web_uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in web["results"]
    }
    api_uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in api["results"]
    }
    assert web_uris == {f"services/web/src/f{n}.cpp" for n in range(3)}
    assert api_uris == {f"services/api/src/f{n}.cpp" for n in range(3)}


def test_code_quality_fingerprints_hold_the_task(three_task_run):
    _, codequality, _ = read(three_task_run)
    assert len(codequality) == 24  # web's 12 and api's 12; jobs' fetch failed
    fingerprints = [issue["fingerprint"] for issue in codequality]
    assert len(set(fingerprints)) == 24  # the same defects in two tasks never collide
    paths = {issue["location"]["path"].split("/src/")[0] for issue in codequality}
    assert paths == {"services/web", "services/api"}


def test_junit_suites_per_task_and_file_with_the_failed_fetch_as_an_error(three_task_run):
    _, _, junit = read(three_task_run)
    names = [suite.get("name") for suite in junit]
    assert names[:3] == [f"web: services/web/src/f{n}.cpp" for n in (0, 1, 2)]
    assert names[3:6] == [f"api: services/api/src/f{n}.cpp" for n in (0, 1, 2)]
    assert names[6:] == ["jobs: codearts-check-defects"]
    assert (junit.get("tests"), junit.get("failures"), junit.get("errors")) == ("25", "24", "1")


def test_the_summary_and_json_say_which_tasks_defects_are_missing(three_task_run):
    tasks = {t["name"]: t for t in three_task_run.json["tasks"]}
    assert tasks["api"]["verdict"] == "failed" and tasks["web"]["verdict"] == "passed"
    assert tasks["api"]["defects"]["fetched"] == 12 and tasks["web"]["defects"]["complete"]
    assert "CC.00050006" in tasks["jobs"]["defects"]["error"]
    jobs_section = three_task_run.summary.split("### ")[-1]
    assert jobs_section.startswith("❌ jobs failed") and "Defects missing" in jobs_section
    api_section = three_task_run.summary.split("### ❌ api failed")[1].split("### ❌ jobs")[0]
    assert "services/api/src/f0.cpp" in api_section


@pytest.mark.schema
def test_the_files_of_three_tasks_are_valid_for_their_consumers(three_task_run, junit_xsd):
    sarif, codequality, _ = read(three_task_run)
    json_validator("sarif-2.1.0.json").validate(sarif)
    json_validator("gitlab-codequality.schema.json").validate(codequality)
    assert junit_xsd is not None
    junit_xsd.validate(str(three_task_run.folder / "jd.xml"))


@pytest.mark.schema
def test_the_sarif_of_three_tasks_passes_the_multitools_github_rules(
    three_task_run, require_tool, tmp_path
):
    tool = require_tool("sarif-multitool")
    assert multitool_errors(tool, [three_task_run.folder / "d.sarif"], tmp_path) == []


def test_defects_alone_are_fetched_by_each_tasks_own_flow(fake_api, tmp_path):
    three_tasks_with_defects(fake_api, tmp_path)
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    run = run_gate(tmp_path / "out", "--defects", env=env, cwd=tmp_path)
    assert run.code == 1, run.stderr
    asked = {r.path for r in fake_api.requests if r.path.endswith("/defects-detail")}
    assert asked == {f"/v2/tasks/id-{name}/defects-detail" for name in ("web", "api", "jobs")}
    assert "services/api/src/f0.cpp" in run.summary


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sarif={folder}/folder.sarif"], "is a folder"),
        (["--codequality={folder}/same.json", "--sarif={folder}/same.json"], "the same file"),
        (["--sarif={folder}/out/junit.xml"], "--junit and --sarif name the same file"),
    ],
)
def test_unwritable_step_files_are_a_usage_error_before_any_task_runs(
    fake_api, tmp_path, args, words
):
    three_tasks_with_defects(fake_api, tmp_path)
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    (tmp_path / "folder.sarif").mkdir()
    run = run_gate(
        tmp_path / "out", *(a.format(folder=tmp_path) for a in args), env=env, cwd=tmp_path
    )
    assert run.code == 2 and words in run.stderr, run.stderr
    assert fake_api.task_requests("run") == [] and not any(
        r.path.endswith("/defects-detail") for r in fake_api.requests
    )


# ------------------------------------------------------------------ parts and paths


@pytest.mark.parametrize("name", ["sarif", "codequality", "junit-defects"])
def test_a_part_never_written_is_that_tasks_empty_part_saying_why(tmp_path, name):
    done = tmp_path / f"done.{name}"
    done.write_text(empty_text(name, None, "done", 2), encoding="utf-8")
    field = name.replace("-", "_")
    step = DefectSettings(**{field: str(tmp_path / f"step.{name}")})
    parts = [
        (DefectSettings(**{field: str(done)}, task="done", tasks=2), None),
        (DefectSettings(**{field: str(tmp_path / "never")}, task="lost", tasks=2), "no verdict: x"),
    ]
    assert combine_parts(step, parts, io.StringIO()) == []
    text = (tmp_path / f"step.{name}").read_text(encoding="utf-8")
    if name == "sarif":
        runs = json.loads(text)["runs"]
        assert [r["properties"].get("defectsMissing") for r in runs] == [None, "no verdict: x"]
    elif name == "codequality":
        assert json.loads(text) == []
    else:
        assert ET.fromstring(text.encode()).get("errors") == "1" and "lost: " in text


def test_code_quality_parts_join_with_commas_whatever_parts_are_empty():
    def part(task: str, count: int) -> io.StringIO:
        handle = io.StringIO()
        writer = defect_writer("codequality", handle, task)
        for defect in range(count):
            writer.add(defect_of(defect))
        writer.finish(FetchInfo())
        return io.StringIO(handle.getvalue())

    out = io.StringIO()
    combine_defect_parts(
        "codequality", out, [part("a", 0), part("b", 2), part("c", 0), part("d", 1)]
    )
    issues = json.loads(out.getvalue())
    assert len(issues) == 3 and issues[0]["fingerprint"] == task_fingerprint(
        "b", defect_of(0).fingerprint
    )


def defect_of(number: int):
    return DefectReader(PathMapper(None), ()).read(make_defect(number, file_path=f"x{number}.c"))


def test_sarif_parts_share_githubs_size_limit():
    assert defect_writer("sarif", io.StringIO(), "a", 4).gzip_budget * 4 <= 9_500_000  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("service", "on_disk", "expected"),
    [
        ("src/a.py", ["services/web/src/a.py"], "services/web/src/a.py"),
        ("repo/src/a.py", ["services/web/src/a.py"], "services/web/src/a.py"),
        ("services/web/src/a.py", ["services/web/src/a.py"], "services/web/src/a.py"),
        ("services/web/src/a.py", [], "services/web/src/a.py"),  # no checkout: named already
        ("src/a.py", [], "services/web/src/a.py"),  # no checkout: relative to the folder
        # a folder that really holds its own name: the file decides
        ("services/web/x.py", ["services/web/services/web/x.py"], "services/web/services/web/x.py"),
        ("", [], ""),  # a defect without a file stays without one
        ("../../etc/passwd", [], "services/web/etc/passwd"),  # never outside the checkout
    ],
)
def test_a_tasks_paths_are_mapped_under_its_folder(tmp_path, service, on_disk, expected):
    for relative in on_disk:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x", encoding="utf-8")
    assert PathMapper(tmp_path, folder="services/web/")(service) == expected


# ------------------------------------------------------------------ one comment


def pull_request_env(api: FakeCodeArts, forge: FakeForge, folder: Path) -> dict[str, str]:
    event = folder / "event.json"
    head = "ab" * 20
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": head}}}))
    return clean_env(
        CODEARTS_ENDPOINT=api.url,
        CODEARTS_TOKEN=api.token,
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_REPOSITORY="octo/mono",
        GITHUB_SERVER_URL="https://github.example",
        GITHUB_API_URL=forge.url,
        GITHUB_TOKEN=forge.token,
    )


def test_three_tasks_write_one_comment_with_a_section_each_edited_in_place(fake_api, tmp_path):
    three_tasks_with_defects(fake_api, tmp_path)
    with FakeForge() as forge:
        env = pull_request_env(fake_api, forge, tmp_path)
        first = run_gate(tmp_path / "one", "--comment", "--defects", env=env, cwd=tmp_path)
        assert first.code == 1 and first.json["comment"]["status"] == "created", first.stderr
        [comment] = forge.of(("octo/mono", "7"))
        body = comment["body"]
        ids = "\n".join(sorted(["id-web", "id-api", "id-jobs"]))
        marker = f"<!-- codearts-gate:tasks:{hashlib.sha256(ids.encode()).hexdigest()[:16]} -->"
        assert body.startswith(marker + "\n## ❌ CodeArts Check gate failed")
        assert "| web | `id-web` | PASSED" in body and "| api | `id-api` | FAILED" in body
        sections = [line for line in body.splitlines() if line.startswith("### ")]
        assert sections == ["### ✅ web passed", "### ❌ api failed", "### ❌ jobs failed"]
        link = "https://github.example/octo/mono/blob/" + "ab" * 20 + "/services/api/src/f0.cpp#L1"
        assert link in body  # the task's defects link to its files under its folder
        # a second run, the tasks in another order and unnamed: the same comment, edited
        fake_api.task_reports["id-api"] = report_step(PASS)
        env["CODEARTS_TASK_ID"] = "id-jobs,id-api,id-web"
        second = run_gate(tmp_path / "two", "--comment", env=env, cwd=tmp_path)
        assert second.json["comment"]["status"] == "updated", second.stderr
        [edited] = forge.of(("octo/mono", "7"))
        assert (
            edited["body"].startswith(marker) and "| id-api | `id-api` | PASSED" in edited["body"]
        )
        assert forge.counts() == {"GET": 2, "POST": 1, "PATCH": 1}


def test_a_huge_comment_of_several_tasks_fits_githubs_limit_saying_what_was_left_out():
    tasks = []
    for n in range(3):
        builder = DigestBuilder(("critical",), keep=500)
        reader = DefectReader(PathMapper(None), ())
        for i in range(400):
            builder.add(reader.read(make_defect(i, level=0, defect_content="x" * 400)))
        verdict = replace(failing(), defects=builder.digest(400))
        tasks.append(TaskVerdict(f"t{n}", f"id-{n}", None, verdict))
    step = combine_tasks(tuple(tasks))
    assert len(tasks_render(step, 100).encode()) > GITHUB_LIMIT  # too long uncut
    body = comment_body(step, "<!-- m -->")
    assert len(body.encode()) <= GITHUB_LIMIT and body.count("### ❌ t") == 3
    assert body.count("- … and 350 more") == 3  # each task's list cut, saying how much


def failing():
    from gate.core import evaluate
    from gate.metrics import DEFAULT_MAXIMUMS
    from gate.policy import build_policy
    from gate.report import report_from_payload

    report = report_from_payload(FAIL, allow_bare=True)
    return evaluate(report, build_policy(DEFAULT_MAXIMUMS.items()))


def test_github_annotations_name_each_task_and_land_under_its_folder(fake_api, tmp_path):
    three_tasks_with_defects(fake_api, tmp_path)
    env = clean_env(
        CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token, GITHUB_ACTIONS="true"
    )
    run = run_gate(tmp_path / "out", "--defects", env=env, cwd=tmp_path)
    assert run.code == 1, run.stderr
    defects = [line for line in run.stdout.splitlines() if "title=CodeArts Check [" in line]
    assert defects and len([d for d in defects if d.startswith("::error")]) <= 10
    assert any("file=services/api/src/f0.cpp" in d and "[api] critical" in d for d in defects)
    assert any("file=services/web/src/" in d and "[web]" in d for d in defects)
    assert "more defects not annotated" in run.stdout


def test_more_tasks_than_github_takes_sarif_runs_is_said(fake_api, tmp_path):
    ids = [f"t{n}" for n in range(21)]
    for task_id in ids:
        fake_api.add_task(task_id, length=0.0)
        fake_api.task_reports[task_id] = report_step(PASS)
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    sarif = tmp_path / "d.sarif"
    run = run_gate(tmp_path, "--task-id", ",".join(ids), f"--sarif={sarif}", env=env)
    assert run.code == 0, run.stderr
    assert "holds 21 runs" in run.stderr and "at most 20 runs per file" in run.stderr
    assert len(json.loads(sarif.read_text(encoding="utf-8"))["runs"]) == 21


PATH_PARTS = st.sampled_from(["..", ".", "", "src", "services", "web", "a.py", "C:", "\\\\", "x y"])


@settings(max_examples=150, deadline=None)
@given(
    service=st.lists(PATH_PARTS, max_size=6).map("/".join),
    folder=st.lists(PATH_PARTS, min_size=1, max_size=3).map("/".join),
)
def test_a_mapped_path_stays_in_the_checkout_under_its_folder(tmp_path_factory, service, folder):
    """Whatever the service's path and the task's folder: no ``..``, nothing absolute, and
    a path with a file is under the folder (empty stays empty)."""
    root = tmp_path_factory.mktemp("checkout")
    mapped = PathMapper(root, folder=folder)(service)
    parts = mapped.split("/")
    assert ".." not in parts and not mapped.startswith("/")
    placed = normalized(folder)
    if mapped and placed:
        assert mapped == placed or mapped.startswith(placed + "/")
    assert (mapped == "") == (normalized(service) == "")
