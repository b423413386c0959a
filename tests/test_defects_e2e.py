"""End to end: the installed command fetches the defects from the local fake and writes
them everywhere a developer looks; a failed fetch never changes the verdict.

Also the CI examples that publish them: upload-sarif, GitLab's codequality report,
Jenkins' Warnings Next Generation plugin.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fakeapi import FakeCodeArts, GeneratedDefects, defect_error_step, make_defect
from gaterun import JOB, GateRun, clean_env, run_gate
from ruamel.yaml import YAML
from test_github import parse_command
from validators import json_validator

REPO = Path(__file__).resolve().parents[1]
TASK = "task-0123"


def defect_files(folder: Path) -> list[str]:
    return [
        f"--sarif={folder}/d.sarif",
        f"--codequality={folder}/cq.json",
        f"--junit-defects={folder}/jd.xml",
    ]


def gate_with_defects(api: FakeCodeArts, folder: Path, *args: str, **env: str) -> GateRun:
    base = clean_env(
        CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB, **env
    )
    return run_gate(folder, *defect_files(folder), *args, env=base)


def outputs(run: GateRun) -> tuple[dict, list, ET.Element]:
    sarif = json.loads((run.folder / "d.sarif").read_text(encoding="utf-8"))
    codequality = json.loads((run.folder / "cq.json").read_text(encoding="utf-8"))
    junit = ET.parse(run.folder / "jd.xml").getroot()
    return sarif, codequality, junit


def test_defects_reach_every_output(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(350)
    run = gate_with_defects(api, tmp_path, "--task-id", TASK)
    assert run.code == 1, run.stderr
    sarif, codequality, junit = outputs(run)
    # default severities: those with a maximum (critical and major)
    assert len(sarif["runs"][0]["results"]) == len(codequality) == 176
    assert {i["severity"] for i in codequality} == {"critical", "major"}
    assert junit.get("tests") == "176"
    assert "### Defects" in run.summary and "… and" in run.summary
    # `new` fails: the list under it holds every severity it counts, the files those asked for
    detail = [r for r in api.requests if r.path == f"/v2/tasks/{TASK}/defects-detail"]
    assert detail and all(r.query["severity"] == ["0,1,2,3"] for r in detail)
    new = run.summary.split("**new**")[1]
    assert "pending defects of the whole branch" in new and "… and 340 more" in new


def test_only_the_severities_asked_for_are_fetched_when_new_passes(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(40)
    for args in (("--max-new", "off"), ("--defect-severity", "critical,major")):
        api.requests.clear()
        run = gate_with_defects(api, tmp_path, "--task-id", TASK, *args)
        assert run.code == 1, run.stderr
        detail = [r for r in api.requests if r.path == f"/v2/tasks/{TASK}/defects-detail"]
        assert detail and all(r.query["severity"] == ["0,1"] for r in detail)


@pytest.mark.schema
def test_the_files_of_a_real_run_are_valid(fake_api_factory, tmp_path, junit_xsd):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = [make_defect(i, defect_content="<&>\"'\u2028") for i in range(30)]
    run = gate_with_defects(api, tmp_path, "--task-id", TASK, "--defect-severity", "all")
    sarif, codequality, _ = outputs(run)
    json_validator("sarif-2.1.0.json").validate(sarif)
    json_validator("gitlab-codequality.schema.json").validate(codequality)
    assert junit_xsd is not None
    junit_xsd.validate(str(tmp_path / "jd.xml"))


def test_a_failed_fetch_keeps_the_verdict_and_writes_empty_valid_files(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(500)
    api.defect_api.faults = {0: [defect_error_step()] * 20}
    run = gate_with_defects(api, tmp_path, "--task-id", TASK)
    assert run.code == 1 and run.json["verdict"] == "failed"
    sarif, codequality, junit = outputs(run)
    assert sarif["runs"][0]["results"] == [] and codequality == []
    assert "could not be fetched" in sarif["runs"][0]["properties"]["defectsMissing"]
    assert junit.get("errors") == "1"
    assert "Defects missing" in run.summary and "CC.00050006" in run.summary
    assert "warning: the defects could not be fetched" in run.stderr


def test_a_passing_gate_stays_passing_when_the_fetch_fails(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="pass")
    api.defect_api.statistic = [defect_error_step()]
    api.defect_api.faults = {0: [defect_error_step()] * 20}
    run = gate_with_defects(api, tmp_path, "--task-id", TASK)
    assert run.code == 0 and run.json["verdict"] == "passed"
    assert json.loads((tmp_path / "cq.json").read_text()) == []


def test_without_a_task_id_the_files_are_empty_and_the_reason_is_given(fake_api, tmp_path):
    run = gate_with_defects(fake_api, tmp_path)
    assert run.code == 0
    assert "no task id" in run.stderr and "no task id" in run.summary
    _, codequality, _ = outputs(run)
    assert codequality == []
    assert not [r for r in fake_api.requests if "defects" in r.path]


def test_a_usage_error_still_writes_the_defect_files(tmp_path):
    run = run_gate(tmp_path, *defect_files(tmp_path), "--max", "nope=1", env=clean_env())
    assert run.code == 2
    sarif, codequality, junit = outputs(run)
    assert codequality == [] and junit.get("errors") == "1"
    assert "unknown metric" in sarif["runs"][0]["properties"]["defectsMissing"]


def test_an_unwritable_defect_file_is_a_usage_error_before_anything_is_sent(fake_api, tmp_path):
    folder = tmp_path / "is-a-folder"
    folder.mkdir()
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    run = run_gate(tmp_path, "--job-id", JOB, "--task-id", TASK, f"--sarif={folder}", env=env)
    assert run.code == 2 and "--sarif" in run.stderr
    assert not fake_api.requests


@pytest.mark.parametrize("scenario", ["pass", "fail"])
def test_a_defect_file_that_cannot_be_written_is_in_the_exit_code(
    fake_api_factory, tmp_path, scenario
):
    api = fake_api_factory(scenario=scenario)
    api.defect_api.rows = GeneratedDefects(40)
    os.mkfifo(tmp_path / "d.sarif")  # passes the preflight; nobody reads it: ENXIO
    run = gate_with_defects(api, tmp_path, "--task-id", TASK)
    expected = 2 if scenario == "pass" else 1
    assert run.code == expected and run.json["exit_code"] == expected, run.stderr
    assert "not written: --sarif" in run.stdout
    assert run.stderr.count("cannot write --sarif") == 1
    assert json.loads((tmp_path / "cq.json").read_text()) == []  # the others: empty, valid


def test_a_service_that_over_counts_is_told_of_with_the_reason(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(120)
    api.defect_api.claimed_total = 10**11
    run = gate_with_defects(api, tmp_path, "--task-id", TASK, "--defect-severity", "all")
    assert run.code == 1
    why = "(a page added nothing new)"
    counted = "120 of the 100000000000 defects the service counted"
    missing = "(99999999880 missing, per defects-detail)"
    assert f"only {counted} {missing} were fetched {why}" in run.stderr
    assert f"Only {counted} {missing} were fetched {why}." in run.summary
    defects = run.json["defects"]
    assert defects["fetched"] == 120 and defects["missing"] == 99999999880
    assert defects["complete"] is False


@pytest.mark.parametrize(
    "files",
    [
        ["--sarif={0}/result.json"],  # run_gate's --json={0}/result.json
        ["--sarif={0}/d.sarif", "--codequality={0}/sub/../d.sarif"],
    ],
)
def test_two_outputs_naming_one_file_are_a_usage_error(fake_api, tmp_path, files):
    (tmp_path / "sub").mkdir()
    env = clean_env(CODEARTS_ENDPOINT=fake_api.url, CODEARTS_TOKEN=fake_api.token)
    args = ["--job-id", JOB, "--task-id", TASK, *(f.format(tmp_path) for f in files)]
    run = run_gate(tmp_path, *args, env=env)
    assert run.code == 2 and "name the same file" in run.stderr, run.stderr
    assert not fake_api.requests
    assert run.stderr.count("name the same file") == 1


def test_secrets_echoed_in_defects_never_reach_any_output(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = [
        make_defect(i, defect_content=f"token {api.token} leaked", file_path=f"{api.token}/a.c")
        for i in range(12)
    ]
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md")}
    run = gate_with_defects(api, tmp_path, "--task-id", TASK, "-vv", **env)
    assert run.code == 1
    shown = [ln for ln in run.everything().splitlines() if not ln.startswith("::add-mask::")]
    assert api.token not in "\n".join(shown)
    assert "token *** leaked" in (tmp_path / "cq.json").read_text()


def test_github_annotations_for_defects_within_the_runner_limits(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(80)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md")}
    run = gate_with_defects(api, tmp_path, "--task-id", TASK, "--defect-severity", "all", **env)
    commands = [
        parse_command(line)
        for line in run.stdout.splitlines()
        if re.match(r"::(error|warning|notice) ", line)
    ]
    kinds = [name for name, _props, _msg in commands]
    assert (
        kinds.count("error") == 10 and kinds.count("warning") == 10 and kinds.count("notice") == 10
    )
    files = {props["file"] for _n, props, _m in commands if "file" in props}
    assert all(f.startswith("demo-repo/src/") for f in files)
    assert "more defects not annotated" in run.stdout
    assert "### Defects" in (tmp_path / "step.md").read_text(encoding="utf-8")


def test_defects_flag_alone_fetches_for_the_summary(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(20)
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_DEFECTS="true")
    run = run_gate(tmp_path, "--job-id", JOB, "--task-id", TASK, env=env)
    assert run.code == 1 and "### Defects" in run.summary


def test_paths_are_stripped_by_prefix(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = [make_defect(0, file_path="/build/42/demo/src/x.c")]
    run = gate_with_defects(
        api, tmp_path, "--task-id", TASK, "--path-prefix-strip", "/build/42/demo"
    )
    [issue] = json.loads((tmp_path / "cq.json").read_text())
    assert issue["location"]["path"] == "src/x.c" and run.code == 1


def test_a_bad_severity_is_a_usage_error(tmp_path):
    run = run_gate(
        tmp_path,
        "--report-file",
        str(REPO / "examples/reports/clean.json"),
        "--defect-severity",
        "fatal,major",
        env=clean_env(),
    )
    assert run.code == 2 and "--defect-severity" in run.stderr


# ---------------------------------------------------------------- CI examples


def load_yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_github_example_uploads_the_sarif_it_asks_for():
    workflow = load_yaml(REPO / "examples/github-workflow.yml")
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["gate"]["steps"]
    gate = next(s for s in steps if s.get("id") == "gate")
    upload = next(
        s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")
    )
    assert upload["with"]["sarif_file"] == gate["with"]["sarif"] and gate["with"]["task-id"]
    assert "always()" in upload["if"]
    text = (REPO / "examples/github-workflow.yml").read_text(encoding="utf-8")
    assert "private repository needs GitHub code scanning enabled" in text


def test_gitlab_example_hands_the_codequality_file_to_the_widget():
    job = load_yaml(REPO / "examples/gitlab-ci.yml")["codearts-gate"]
    assert job["artifacts"]["reports"]["codequality"] == job["variables"]["CODEARTS_CODEQUALITY"]


def test_jenkins_example_records_the_sarif_with_warnings_ng():
    text = (REPO / "examples/Jenkinsfile").read_text(encoding="utf-8")
    sarif = re.search(r"CODEARTS_SARIF = '([^']+)'", text)
    assert sarif and f"recordIssues(tools: [sarif(pattern: '{sarif[1]}'" in text


def test_iam_login_then_defects_and_the_learnt_token_is_redacted(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = [make_defect(0, defect_content=f"echo {api.token}")]
    env = clean_env(
        CODEARTS_ENDPOINT=api.url,
        CODEARTS_JOB_ID=JOB,
        CODEARTS_IAM_USER=api.iam_user,
        CODEARTS_IAM_PASSWORD=api.iam_password,
        CODEARTS_IAM_DOMAIN=api.iam_domain,
        CODEARTS_IAM_ENDPOINT=api.url,
    )
    run = run_gate(tmp_path, *defect_files(tmp_path), "--task-id", TASK, env=env)
    assert run.code == 1, run.stderr
    [issue] = json.loads((tmp_path / "cq.json").read_text(encoding="utf-8"))
    assert issue["description"].endswith("echo ***")
    assert api.token not in run.everything()


def test_a_stalled_defect_fetch_ends_at_its_deadline_and_keeps_the_verdict(
    fake_api_factory, tmp_path
):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(10)
    api.defect_api.latency = 30  # every defects call hangs past --timeout
    run = gate_with_defects(api, tmp_path, "--task-id", TASK, "--timeout", "2")
    assert run.code == 1 and run.json["verdict"] == "failed"
    assert "timeout" in run.stderr and json.loads((tmp_path / "cq.json").read_text()) == []


def test_a_signal_during_the_defect_fetch_keeps_the_verdict_and_writes_the_files(
    fake_api_factory, tmp_path
):
    import signal
    import subprocess
    import time

    from gaterun import GATE

    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(10)
    api.defect_api.latency = 30  # the defect calls hang until the signal
    env = clean_env(CODEARTS_TOKEN=api.token, CODEARTS_ENDPOINT=api.url)
    args = [str(GATE), "--job-id", JOB, "--task-id", TASK, *defect_files(tmp_path)]
    args += [f"--json={tmp_path}/result.json"]
    with subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        deadline = time.monotonic() + 20
        fetching = ("/defects-statistic", "/defects-detail")  # not the task's summary
        while not any(r.path.endswith(fetching) for r in api.requests):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 1, stderr  # the counts were judged: the gate failed
    assert "stopped by SIGTERM" in stderr
    result = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert result["verdict"] == "failed" and "SIGTERM" in result["defects"]["error"]
    sarif, codequality, junit = outputs(GateRun(1, "", "", tmp_path))
    assert codequality == [] and sarif["runs"][0]["results"] == [] and junit.get("errors") == "1"


def test_aksk_signed_pages_fetched_concurrently_are_all_accepted(fake_api_factory, tmp_path):
    api = fake_api_factory(scenario="fail")
    api.defect_api.rows = GeneratedDefects(1500)
    env = clean_env(
        CODEARTS_ENDPOINT=api.url, CODEARTS_JOB_ID=JOB, CODEARTS_AK=api.ak, CODEARTS_SK=api.sk
    )
    run = run_gate(tmp_path, *defect_files(tmp_path), "--task-id", TASK, env=env)
    assert run.code == 1, run.stderr
    assert len(json.loads((tmp_path / "cq.json").read_text(encoding="utf-8"))) == 750
    detail = [r for r in api.requests if r.path.endswith("defects-detail")]
    assert len(detail) >= 8 and all("Authorization" in r.headers for r in detail)
    assert api.sk not in run.everything()
