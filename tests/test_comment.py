"""``--comment``: one comment per change request and task, edited in place, over real
HTTP to local fakes of the GitHub and GitLab APIs; every failure a warning, never a
change of verdict."""

from __future__ import annotations

import math

import pytest
from fakeforge import FakeForge, Fault

from gate.ci import ChangeRequest
from gate.comment import GITHUB_LIMIT, comment_body, post_comment
from gate.core import ChangeView, Outcome, ScanInfo, Verdict, error_verdict, evaluate
from gate.defects import DefectReader, DigestBuilder
from gate.errors import DeadlineError, UsageError
from gate.metrics import DEFAULT_MAXIMUMS
from gate.policy import build_policy
from gate.report import report_from_payload
from gate.settings import ChangeSettings, Settings
from gate.structs import replace

REPO = "octo/widgets"
TASK = "task-0123"
MARKER = f"<!-- codearts-gate:{TASK} -->"
GITLAB_TOKEN = "glpat-fake-gitlab-token-0123"


def settings_for(forge: str, number: str = "7", timeout: float = 30.0) -> Settings:
    request = ChangeRequest(forge, number, "base", "head")
    change = ChangeSettings(request=request, comment=True, forge=forge)
    return Settings(
        policy=build_policy(DEFAULT_MAXIMUMS.items()), task_id=TASK, change=change, timeout=timeout
    )


def failing_verdict() -> Verdict:
    report = report_from_payload({"critical": 2, "major": 0, "UNRESOLVED_ADD": 2}, allow_bare=True)
    verdict = evaluate(report, build_policy(DEFAULT_MAXIMUMS.items()))
    scan = ScanInfo(TASK, "job", job_id="job-1", branch="feature/x", commit="ab" * 20)
    return replace(verdict, scan=scan)


def github_env(forge: FakeForge, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_API_URL": forge.url,
        "GITHUB_TOKEN": forge.token,
        "GITHUB_REPOSITORY": REPO,
        **extra,
    }


def gitlab_env(forge: FakeForge) -> dict[str, str]:
    return {
        "CI_API_V4_URL": f"{forge.url}/api/v4",
        "CI_PROJECT_ID": "42",
        "CODEARTS_GITLAB_TOKEN": GITLAB_TOKEN,
    }


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def post(forge_env, settings=None, verdict=None, budget=30.0, sleep=None, learnt=None):
    return post_comment(
        settings or settings_for("github"),
        verdict or failing_verdict(),
        budget,
        on_secret=(learnt if learnt is not None else []).append,
        env=forge_env,
        sleep=sleep if sleep is not None else Sleeps(),
    )


@pytest.fixture
def forge():
    with FakeForge() as fake:
        yield fake


def test_the_first_run_creates_the_comment_and_the_next_edits_it(forge):
    learnt: list[str] = []
    first = post(github_env(forge), learnt=learnt)
    assert first.status == "created" and learnt == [forge.token]
    [comment] = forge.of((REPO, "7"))
    assert comment["body"].startswith(MARKER) and "❌ CodeArts Check gate failed" in comment["body"]
    assert "`feature/x`" in comment["body"] and "`abababababab`" in comment["body"]
    forge.requests.clear()
    passed = replace(failing_verdict(), outcome=Outcome.PASSED)
    second = post(github_env(forge), verdict=passed)
    assert second.status == "updated" and len(forge.of((REPO, "7"))) == 1
    assert "✅" in forge.of((REPO, "7"))[0]["body"]
    assert forge.counts() == {"GET": 1, "PATCH": 1}


def test_the_marker_on_page_two_is_found_with_one_list_request_per_100_comments(forge):
    others = [f"comment {n}" for n in range(150)]
    forge.seed((REPO, "7"), others[:120])
    mine = forge.add((REPO, "7"), f"{MARKER}\nold verdict")
    forge.seed((REPO, "7"), others[120:])
    result = post(github_env(forge))
    assert result.status == "updated" and mine["body"] != f"{MARKER}\nold verdict"
    assert forge.counts() == {"GET": math.ceil(151 / 100), "PATCH": 1}
    assert len(forge.of((REPO, "7"))) == 151


def test_a_comment_that_only_quotes_the_marker_is_not_taken(forge):
    forge.seed((REPO, "7"), [f"as the bot said: {MARKER}"])
    assert post(github_env(forge)).status == "created"
    assert len(forge.of((REPO, "7"))) == 2


def test_a_next_link_to_another_origin_is_not_followed(forge):
    forge.seed((REPO, "7"), ["x"] * 100)
    forge.faults.append(
        Fault(200, {"Link": '<https://evil.example/next>; rel="next"'}, [{"id": 1, "body": "x"}])
    )
    assert post(github_env(forge)).status == "created"
    assert forge.counts() == {"GET": 1, "POST": 1}


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault(403, {}, {"message": "Resource not accessible by integration"}), "pull-requests"),
        (Fault(404, {}, {"message": "Not Found"}), "not found"),
        (Fault(422, {}, {"message": "Validation Failed"}), "rejected"),
        (Fault(401, {}, {"message": "Bad credentials"}), "refused"),
    ],
)
def test_a_refusal_is_one_failed_result_naming_the_fix(forge, fault, words):
    forge.faults.append(fault)
    result = post(github_env(forge))
    assert result.status == "failed" and words in result.detail
    assert forge.token not in result.detail and forge.of((REPO, "7")) == []


def test_a_rate_limit_that_resets_in_an_hour_is_a_warning_not_a_wait(forge):
    import time

    reset = str(int(time.time()) + 3600)
    forge.faults.append(Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}))
    sleeps = Sleeps()
    result = post(github_env(forge), sleep=sleeps)
    assert result.status == "failed" and "rate limited" in result.detail and sleeps == []


def test_a_short_retry_after_is_waited_out(forge):
    forge.faults += [Fault(429, {"Retry-After": "2"}), Fault(503, {}, method="GET")]
    sleeps = Sleeps()
    result = post(github_env(forge), sleep=sleeps)
    assert result.status == "created" and sleeps[0] == 2.0 and len(sleeps) == 2


def test_a_failed_create_is_not_repeated_after_a_server_error(forge):
    forge.faults.append(Fault(502, {}, method="POST"))
    result = post(github_env(forge))
    assert result.status == "failed" and forge.counts() == {"GET": 1, "POST": 1}


def test_a_hanging_api_ends_inside_the_budget(forge):
    import time

    forge.faults.append(Fault(hang=True))
    started = time.monotonic()
    result = post(github_env(forge), settings=settings_for("github", timeout=1.0), budget=1.0)
    assert result.status == "failed" and "timeout" in result.detail
    assert time.monotonic() - started < 5


def test_no_token_outside_a_request_or_after_a_usage_error_sends_nothing(forge):
    env = github_env(forge)
    del env["GITHUB_TOKEN"]
    assert post(env).status == "skipped" and "GITHUB_TOKEN" in post(env).detail
    plain = replace(settings_for("github"), change=ChangeSettings(comment=True))
    assert "not a pull or merge request" in post(github_env(forge), settings=plain).detail
    usage = error_verdict(UsageError("--max: unknown metric"))
    assert post(github_env(forge), verdict=usage).detail == "a usage error sends nothing"
    assert forge.requests == []


def test_a_run_without_a_verdict_still_says_why(forge):
    verdict = error_verdict(DeadlineError("no report within --timeout 300 s"))
    assert post(github_env(forge), verdict=verdict).status == "created"
    body = forge.of((REPO, "7"))[0]["body"]
    assert "no verdict" in body and "no report within --timeout 300 s" in body


def test_an_api_url_in_clear_to_another_host_is_refused(forge):
    env = github_env(forge, GITHUB_API_URL="http://api.example.com")
    result = post(env)
    assert result.status == "skipped" and "https" in result.detail and forge.requests == []


def test_gitlab_notes_created_then_updated_across_pages(forge):
    key = ("42", "7")
    forge.seed(key, [f"note {n}" for n in range(130)])
    settings = settings_for("gitlab")
    assert post(gitlab_env(forge), settings=settings).status == "created"
    assert forge.counts() == {"GET": 2, "POST": 1}
    forge.requests.clear()
    assert post(gitlab_env(forge), settings=settings).status == "updated"
    assert forge.counts() == {"GET": 2, "PUT": 1} and len(forge.of(key)) == 131
    assert all(r.headers.get("PRIVATE-TOKEN") == GITLAB_TOKEN for r in forge.requests)


def test_gitlab_403_says_the_job_token_cannot_write_notes(forge):
    forge.faults.append(Fault(403, {}, {"message": "403 Forbidden"}))
    result = post(gitlab_env(forge), settings=settings_for("gitlab"))
    assert result.status == "failed" and "CI_JOB_TOKEN cannot write notes" in result.detail


def test_a_huge_comment_is_cut_to_githubs_limit_saying_how_many_were_left_out():
    reader = DefectReader(lambda p: p)
    builder = DigestBuilder(("critical",), keep=100)
    for i in range(400):
        row = {
            "defect_id": str(i),
            "defect_level": "0",
            "file_path": f"src/{'deep/' * 80}f{i}.c",
            "line_number": str(i + 1),
            "defect_content": "x" * 2000,
            "rule_name": "R" * 200,
        }
        builder.add(reader.read(row))
    digest = builder.digest(400)
    verdict = replace(
        failing_verdict(), defects=digest, change=ChangeView(True, "a" * 40, "b" * 40, 3, 9, digest)
    )
    body = comment_body(verdict, MARKER)
    assert len(body.encode("utf-8")) <= GITHUB_LIMIT
    assert body.startswith(MARKER) and "more" in body


def test_a_bug_in_commenting_is_a_failed_result_not_a_crash(forge, monkeypatch):
    import gate.forges.github as hub

    def broken(*_args):
        raise KeyError("boom")

    monkeypatch.setattr(hub, "upsert", broken)
    result = post(github_env(forge))
    assert result.status == "failed" and result.detail == "internal error (KeyError)"
