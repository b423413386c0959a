"""Paging through defects-detail: either meaning of ``offset``, duplicates, a changing
total, pages past the end, failing pages, 429 and errors with HTTP 200.

The pager's rules are tested pure (``Pager``), then end to end over real HTTP against
the local fake, whose ``DefectApi`` plays each of Huawei's documented readings.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
from budget import examples
from fakeapi import (
    THROTTLED_STEP,
    UNAVAILABLE_STEP,
    FakeCodeArts,
    GeneratedDefects,
    defect_error_step,
    json_step,
    make_defect,
)
from hypothesis import given, note, settings
from hypothesis import strategies as st

from gate.api.defects import (
    LIMIT,
    MAX_DEFECTS,
    MAX_PAGES,
    Page,
    Pager,
    expected_count,
    fetch_defects,
    page_of,
    page_through,
)
from gate.api.transport import Deadline
from gate.defects import DefectReader
from gate.errors import CredentialsError, DeadlineError, NetworkError, ReportError, ServiceError
from gate.paths import normalized
from gate.settings import RawOptions, build_settings
from gate.structs import replace

ALL = ("critical", "major", "minor", "suggestion")


def rows(start: int, stop: int) -> list[dict]:
    return [make_defect(i) for i in range(start, stop)]


# ---------------------------------------------------------------- the pager, pure


def drive(pager: Pager, serve) -> list[int]:
    """Feed the pager what ``serve(offset)`` answers, one request at a time; the offsets."""
    asked = []
    while (offset := pager.next_offset()) is not None:
        asked.append(offset)
        pager.accept(serve(offset))
        assert len(asked) < 20_000, "the pager did not stop"
    return asked


def row_server(n: int, limit: int = LIMIT):
    return lambda offset: Page(offset, n, rows(offset, min(n, offset + limit)))


def page_server(n: int, limit: int = LIMIT):
    return lambda offset: Page(offset, n, rows(offset * limit, min(n, (offset + 1) * limit)))


@pytest.mark.parametrize("meaning", ["row", "page"])
@pytest.mark.parametrize("n", [0, 1, 99, 100, 101, 250, 1000, 1001])
def test_either_reading_fetches_every_defect_once(meaning, n):
    pager = Pager(expected=n)
    asked = drive(pager, (row_server if meaning == "row" else page_server)(n))
    assert len(pager.seen) == n
    if n <= LIMIT:
        assert asked == [0]  # the statistic said one page is enough
    elif meaning == "row":
        assert pager.mode == "row" and asked[:2] == [0, 1]
        assert asked[2:] == list(range(101, n, 100))[: len(asked) - 2]
    else:
        assert pager.mode == "page" and asked == list(range(-(-n // LIMIT)))


def test_without_the_statistic_the_first_page_plans_the_rest():
    pager = Pager(expected=None)
    drive(pager, page_server(777))
    assert len(pager.seen) == 777 and pager.stop_reason == "all defects fetched"


def test_an_ignored_offset_stops_at_the_first_page_that_adds_nothing():
    pager = Pager(expected=500)
    asked = drive(pager, lambda offset: Page(offset, 500, rows(0, 100)))
    assert asked == [0, 1] and len(pager.seen) == 100
    assert pager.stop_reason == "a page added nothing new"


def test_a_total_that_never_comes_is_bounded_by_the_page_ceiling():
    fresh = iter(range(10**9))
    pager = Pager(expected=None)
    asked = drive(pager, lambda offset: Page(offset, None, [make_defect(next(fresh))]))
    assert len(asked) <= MAX_PAGES + 2


@pytest.mark.parametrize("per_page", [1, 100, 5000])
def test_a_service_that_never_runs_out_of_new_rows_is_followed_to_a_ceiling(per_page):
    fresh = iter(range(10**9))
    pager = Pager(expected=None, max_defects=2500)
    drive(
        pager,
        lambda offset: Page(offset, 10**11, [{"defect_id": next(fresh)} for _ in range(per_page)]),
    )
    assert len(pager.seen) == 2500 and pager.finished
    assert pager.stop_reason == "the ceiling of 2,500 defects was reached" and pager.capped


def test_the_defect_ceiling_is_above_what_a_project_can_hold():
    assert Pager().max_defects == MAX_DEFECTS >= 300_000


def test_a_growing_total_extends_the_plan():
    totals = iter([150] + [450] * 100)
    pager = Pager(expected=150)
    drive(
        pager,
        lambda offset: Page(
            offset,
            next(totals),
            rows(offset * 100, offset * 100 + 100)[: max(0, 450 - offset * 100)],
        ),
    )
    assert len(pager.seen) == 450


def test_pages_fetched_ahead_are_not_read_past_the_deadline():
    """Reading a page is not interruptible: the deadline is checked before each one, so a
    slow consumer (hostile rows) overruns --timeout by one page at most."""
    now = [0.0]
    serve = page_server(150)
    query = SimpleNamespace(
        expected=lambda: None, page=serve, deadline=Deadline(10, lambda: now[0])
    )

    def consume(_row) -> None:
        now[0] += 1  # the first page alone takes 100 s

    with pytest.raises(DeadlineError, match="defects not fetched within the 10 s"):
        page_through(query, consume, workers=2)  # page 1 is fetched before page 0 is read
    now[0] = 0.0
    query.deadline = Deadline(1000, lambda: now[0])
    assert page_through(query, consume, workers=2).fetched == 150


def test_rows_without_an_id_are_told_apart_without_recursing_into_nested_fields():
    deep: list = []
    for _ in range(5000):  # deeper than the recursion limit: nested fields are not looked at
        deep = [deep]
    row = {**make_defect(1, defect_id=None), "events": deep}
    pager = Pager()
    page = Page(0, 3, [row, dict(row), {**row, "rule_name": "other"}])
    assert len(pager.accept(page)) == 2  # the copy is a repeat; another rule is not
    assert DefectReader(normalized).read(row).fixes == ()


def test_page_of_reads_the_documented_shape_and_refuses_others():
    page = page_of({"total": "3", "defects": [make_defect(1), "junk", None]}, 0)
    assert page.total == 3 and len(page.rows) == 1
    assert page_of({"total": 0, "defects": None}, 0).rows == []
    with pytest.raises(ReportError):
        page_of({"defects": {"a": 1}}, 0)
    with pytest.raises(ReportError):
        page_of([], 0)


def test_expected_count_sums_the_chosen_severities_or_gives_up():
    body = {"severity": {"critical": 1, "major": "2", "minor": 3, "suggestion": 4}}
    assert expected_count(body, ("critical", "major")) == 3
    assert expected_count({"severity": {"critical": -1}}, ("critical",)) is None
    assert expected_count(None, ALL) is None


# ---------------------------------------------------------------- over HTTP, the fake


def settings_for(api: FakeCodeArts, **extra: str):
    raw = RawOptions(job_id="j", task_id="task-9", endpoint=api.url, token=api.token, **extra)
    return build_settings(raw)


def fetch_all(api: FakeCodeArts, severities=ALL, sleeps=None, **kw):
    got: list[dict] = []
    settings = settings_for(api)
    result = fetch_defects(
        settings,
        severities,
        got.append,
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
        **kw,
    )
    return result, got


@pytest.mark.parametrize("meaning", ["row", "page"])
@pytest.mark.parametrize("n", [0, 57, 100, 1234])
def test_either_reading_of_offset_gets_every_defect_once_in_service_order(meaning, n):
    with FakeCodeArts() as api:
        api.defect_api.rows = GeneratedDefects(n)
        api.defect_api.offset_means = meaning
        result, got = fetch_all(api)
    ids = [r["defect_id"] for r in got]
    assert ids == [make_defect(i)["defect_id"] for i in range(n)]
    assert result.fetched == n and result.total == n


def test_requests_carry_the_documented_query_and_the_token():
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 5)
        fetch_all(api, severities=("critical", "minor"))
        detail = [r for r in api.requests if r.path.endswith("defects-detail")]
        stat = [r for r in api.requests if r.path.endswith("defects-statistic")]
    assert len(stat) == 1 and stat[0].path == "/v2/tasks/task-9/defects-statistic"
    [first] = detail
    assert first.query == {
        "offset": ["0"],
        "limit": ["100"],
        "status_ids": ["0"],
        "severity": ["0,2"],
    }
    assert first.headers["X-Auth-Token"] == api.token


def test_only_pending_defects_of_the_asked_severities_are_fetched():
    data = [make_defect(i, level=i % 4) for i in range(40)]
    data += [make_defect(100 + i, defect_status="1") for i in range(10)]
    with FakeCodeArts() as api:
        api.defect_api.rows = data
        _, got = fetch_all(api, severities=("major",))
    assert {r["defect_level"] for r in got} == {"1"} and len(got) == 10


@pytest.mark.parametrize("meaning", ["row", "page"])
def test_duplicate_rows_are_dropped_and_paging_still_ends(meaning):
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 450)
        api.defect_api.offset_means = meaning
        api.defect_api.duplicates = 7  # each page: 7 rows of the one before, and a row twice
        result, got = fetch_all(api)
    ids = [r["defect_id"] for r in got]
    assert len(ids) == len(set(ids)) == 450 == result.fetched


@pytest.mark.parametrize("meaning", ["row", "page"])
@pytest.mark.parametrize("past_end", ["empty", "last"])
def test_a_page_past_the_end_stops_paging(meaning, past_end):
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 250)
        api.defect_api.offset_means = meaning
        api.defect_api.past_end = past_end
        api.defect_api.claimed_total = 1000  # over-counts: the plan reaches past the end
        result, got = fetch_all(api, workers=1)
        asked = len([r for r in api.requests if r.path.endswith("defects-detail")])
    assert result.fetched == 250 == len({r["defect_id"] for r in got})
    # the plan (1000 claimed) would ask 10 pages; paging stops at the first page past the end
    # (plus the few pages asked ahead of it)
    assert result.stop_reason == "a page added nothing new" and asked < 10


def test_a_total_growing_mid_way_is_followed():
    with FakeCodeArts() as api:
        fake = api.defect_api
        fake.rows = rows(0, 250)
        fake.offset_means = "page"

        def grow(number: int) -> None:
            if number == 1:
                fake.rows = rows(0, 650)

        fake.on_request = grow
        result, got = fetch_all(api, workers=1)
    assert result.fetched == 650 and result.total == 650
    assert len({r["defect_id"] for r in got}) == 650


def test_a_total_shrinking_mid_way_ends_without_error():
    with FakeCodeArts() as api:
        fake = api.defect_api
        fake.rows = rows(0, 650)

        def shrink(number: int) -> None:
            if number == 2:
                fake.rows = rows(0, 180)

        fake.on_request = shrink
        result, got = fetch_all(api, workers=1)
    ids = [r["defect_id"] for r in got]
    assert len(ids) == len(set(ids)) and result.total == 650  # the largest total counts
    assert result.notes == ("the service's total changed while paging",)
    assert set(ids) >= {make_defect(i)["defect_id"] for i in range(180)}


def test_a_failing_page_is_retried_and_nothing_is_lost():
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 500)
        api.defect_api.offset_means = "page"
        api.defect_api.faults = {3: [UNAVAILABLE_STEP, UNAVAILABLE_STEP]}
        result, got = fetch_all(api)
        asked = [r.query["offset"][0] for r in api.requests if r.path.endswith("defects-detail")]
    assert result.fetched == 500 and len(got) == 500
    assert asked.count("3") == 3


def test_429_mid_way_backs_off_as_told_and_finishes():
    sleeps: list[float] = []
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 900)
        api.defect_api.request_faults = {4: [THROTTLED_STEP]}
        result, got = fetch_all(api, sleeps=sleeps)
    assert result.fetched == 900 and len(got) == 900
    assert 1.0 in sleeps  # Retry-After: 1


def test_an_error_body_with_http_200_fails_the_fetch():
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 500)
        api.defect_api.faults = {201: [defect_error_step()] * 10}
        with pytest.raises(ServiceError, match=r"CC\.00050006"):
            fetch_all(api)


def test_a_page_that_keeps_failing_fails_the_fetch_after_its_retries():
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 300)
        api.defect_api.offset_means = "page"
        api.defect_api.faults = {2: [UNAVAILABLE_STEP] * 10}
        with pytest.raises(ServiceError, match="gave up after 5 attempts"):
            fetch_all(api)


def test_a_broken_statistic_only_costs_the_plan():
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 321)
        api.defect_api.statistic = [defect_error_step("CC.00050010", "no permission")]
        result, _ = fetch_all(api)
    assert result.fetched == 321


def test_the_statistic_tells_the_size_up_front():
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 40)
        fetch_all(api)
        detail = [r for r in api.requests if r.path.endswith("defects-detail")]
    assert len(detail) == 1  # 40 expected: no probe of a second page


def test_wrong_credentials_fail_the_fetch():
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 10)
        settings = build_settings(
            RawOptions(job_id="j", task_id="t", endpoint=api.url, token="wrong-token")
        )
        with pytest.raises(CredentialsError, match=r"APIGW\.0301"):
            fetch_defects(settings, ALL, lambda _r: None, sleep=lambda _s: None)


def test_the_environment_proxy_settings_are_honoured(monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 3)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        with pytest.raises(NetworkError, match="proxy"):
            fetch_all(api)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert fetch_all(api)[0].fetched == 3


# ---------------------------------------------------------------- the fake itself


def test_the_fake_checks_the_query_and_the_credentials():
    import requests

    with FakeCodeArts() as api:
        api.defect_api.rows = rows(0, 3)
        url = f"{api.url}/v2/tasks/t/defects-detail"
        headers = {"X-Auth-Token": api.token}
        too_many = requests.get(url, params={"limit": "101"}, headers=headers, timeout=10)
        assert too_many.status_code == 400 and too_many.json()["error_code"] == "CC.00050000"
        anonymous = requests.get(url, timeout=10)
        assert anonymous.status_code == 401 and anonymous.json()["error_code"] == "APIGW.0301"
        past = requests.get(
            url, params={"offset": "7", "limit": "100"}, headers=headers, timeout=10
        )
        assert past.json() == {"total": 3, "defects": []}


def test_the_fake_statistic_counts_pending_defects_by_severity_and_status():
    import requests

    data = [make_defect(i, level=i % 2) for i in range(6)] + [make_defect(9, defect_status="2")]
    with FakeCodeArts() as api:
        api.defect_api.rows = data
        body = requests.get(
            f"{api.url}/v2/tasks/t/defects-statistic",
            headers={"X-Auth-Token": api.token},
            timeout=10,
        ).json()
    assert body["severity"] == {"critical": 3, "major": 3, "minor": 0, "suggestion": 0}
    assert body["status"] == {"unresolved": 6, "resolved": 0, "dismissed": 1}


def test_generated_rows_are_the_made_rows():
    generated = GeneratedDefects(10, levels=(1, 3))
    assert [r["defect_id"] for r in generated] == [
        make_defect(i)["defect_id"] for i in (1, 3, 5, 7, 9)
    ]
    assert json.loads("[" + generated.rows_json(0, 5) + "]") == list(generated)


def test_the_defect_fetch_gets_only_what_is_left_of_the_timeout(fake_api, tmp_path):
    """--timeout bounds the whole run: a verdict that used it all leaves the defects missing,
    with no defect request sent, and the verdict stands."""
    from gate.core import evaluate
    from gate.defect_run import attach_defects
    from gate.report import Report
    from gate.structs import replace

    fake_api.defect_api.rows = GeneratedDefects(10)
    settings = settings_for(fake_api, timeout="5", sarif=str(tmp_path / "d.sarif"))
    verdict = evaluate(Report({"critical": 1, "major": 0, "UNRESOLVED_ADD": 0}), settings.policy)
    spent = replace(verdict, duration=settings.timeout)
    err = io.StringIO()
    judged = attach_defects(settings, spent, io.StringIO(), err, [], on_secret=lambda _s: None)
    assert judged.exit_code == verdict.exit_code and judged.defects is not None
    assert "--timeout" in (judged.defects.error or ""), judged.defects.error
    assert not [r for r in fake_api.requests if "/defects-" in r.path]
    assert json.loads((tmp_path / "d.sarif").read_text())["runs"][0]["results"] == []


def test_an_unexpected_error_in_the_defects_leaves_them_missing_not_the_run(
    fake_api, tmp_path, monkeypatch
):
    """Whatever happens, the outputs are written: a bug in reading the defects is told of,
    and the verdict on the counts stands."""
    from gate.core import evaluate
    from gate.defect_run import attach_defects
    from gate.report import Report

    def broken(_self, _row):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(DefectReader, "read", broken)
    fake_api.defect_api.rows = GeneratedDefects(10)
    settings = settings_for(fake_api, codequality=str(tmp_path / "cq.json"))
    verdict = evaluate(Report({"critical": 1, "major": 0, "UNRESOLVED_ADD": 0}), settings.policy)
    err = io.StringIO()
    judged = attach_defects(settings, verdict, io.StringIO(), err, [], on_secret=lambda _s: None)
    assert judged.exit_code == verdict.exit_code and judged.defects is not None
    assert judged.defects.error == "the defects could not be read: internal error (RecursionError)"
    assert "internal error (RecursionError)" in err.getvalue()
    assert json.loads((tmp_path / "cq.json").read_text()) == []


# ---------------------------------------------------------------- completeness (issue 17)


def capped_server(n: int, per_page: int, totals=None):
    """Row offsets, but the service hands out at most ``per_page`` rows a page; ``totals``
    gives the ``total`` of the k-th page answered (default: ``n``)."""
    answered = iter(range(10**6))

    def serve(offset: int) -> Page:
        k = next(answered)
        total = n if totals is None else totals(k)
        return Page(offset, total, rows(offset, min(n, offset + per_page)))

    return serve


def irregular_server(n: int, short: dict[int, int]):
    """Row offsets; the page at offset ``o`` holds ``short[o]`` rows instead of 100."""
    return lambda offset: Page(offset, n, rows(offset, min(n, offset + short.get(offset, LIMIT))))


def no_total(serve):
    return lambda offset: replace(serve(offset), total=None)


# (name, server, expected from defects-statistic, rows the service holds)
PAGING_TABLE = [
    ("total drops mid-way", capped_server(650, 100, lambda k: 650 if k < 3 else 120), 650, 650),
    (
        "total drops, no statistic",
        capped_server(650, 100, lambda k: 650 if k < 3 else 120),
        None,
        650,
    ),
    ("no total, statistic", no_total(row_server(650)), 650, 650),
    ("no total, no statistic", no_total(row_server(650)), None, 650),
    ("no total, page offsets", no_total(page_server(650)), None, 650),
    ("pages of 50 rows", capped_server(650, 50), 650, 650),
    ("pages of 50 rows, no statistic", capped_server(650, 50), None, 650),
    ("pages of 7 rows", capped_server(120, 7), 120, 120),
    ("one short page mid-way", irregular_server(650, {300: 30}), 650, 650),
    ("two short pages", irregular_server(650, {200: 1, 400: 99}), None, 650),
]


@pytest.mark.parametrize(
    ("server", "expected", "held"),
    [pytest.param(*row[1:], id=row[0]) for row in PAGING_TABLE],
)
def test_the_pager_neither_stops_early_nor_strides_past_rows(server, expected, held):
    pager = Pager(expected=expected)
    drive(pager, server)
    assert len(pager.seen) == held, pager.stop_reason


def test_a_total_that_drops_is_noted():
    pager = Pager(expected=650)
    drive(pager, capped_server(650, 100, lambda k: 650 if k < 3 else 120))
    assert pager.max_total == 650 and pager.notes == ["the service's total changed while paging"]


def test_an_unreadable_total_is_noted_with_its_reason():
    pager = Pager(expected=None)
    page = page_of(json.loads('{"total": 1e400, "defects": []}'), 0)
    pager.accept(page)
    assert pager.notes and "inf" in pager.notes[0] and "not a whole number" in pager.notes[0]


# (name, fetched, page total, statistic, report, complete, missing)
COMPLETENESS_TABLE = [
    ("all counts agree", 10, 10, 10, 10, True, 0),
    ("nothing counted", 10, None, None, None, True, None),
    ("page total says more", 10, 12, 10, 10, False, 2),
    ("statistic says more", 10, 10, 15, None, False, 5),
    ("report says more", 10, 10, 10, 13, False, 3),
    ("more fetched than counted", 12, 10, 10, 10, True, 0),
]


@pytest.mark.parametrize(
    ("fetched", "total", "expected", "reported", "complete", "missing"),
    [pytest.param(*row[1:], id=row[0]) for row in COMPLETENESS_TABLE],
)
def test_completeness_is_claimed_only_when_true(
    fetched, total, expected, reported, complete, missing
):
    from gate.defects import DefectDigest

    digest = DefectDigest(fetched=fetched, total=total, expected=expected, reported=reported)
    assert digest.incomplete is not complete and digest.missing == missing
    if not complete:
        assert f"{fetched} of the" in digest.shortfall() and f"({missing} missing" in (
            digest.shortfall()
        )


def test_fewer_defects_than_the_statistic_is_said_in_every_output(fake_api_factory, tmp_path):
    from gaterun import JOB, clean_env, run_gate

    api = fake_api_factory()
    api.defect_api.rows = rows(0, 40)
    counts = {"critical": 30, "major": 30, "minor": 0, "suggestion": 0}
    api.defect_api.statistic = [json_step(200, {"severity": counts})]
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    sarif = tmp_path / "d.sarif"
    run = run_gate(tmp_path, "--task-id", "t1", f"--sarif={sarif}", env=env)
    fetched = run.json["defects"]["fetched"]
    assert fetched == 20 and run.json["defects"]["complete"] is False
    assert run.json["defects"]["missing"] == 40 and run.json["defects"]["expected"] == 60
    words = "20 of the 60 defects the service counted (40 missing, per defects-statistic)"
    assert words in run.stderr and words in run.summary
    props = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["properties"]
    assert words in props["defectsIncomplete"]


def test_a_complete_fetch_claims_completeness(fake_api_factory, tmp_path):
    from gaterun import JOB, clean_env, run_gate

    api = fake_api_factory()
    api.defect_api.rows = rows(0, 40)
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    sarif = tmp_path / "d.sarif"
    run = run_gate(
        tmp_path, "--task-id", "t1", "--defect-severity", "all", f"--sarif={sarif}", env=env
    )
    assert run.json["defects"]["complete"] is True and run.json["defects"]["missing"] == 0
    assert "missing" not in run.stderr and "Only" not in run.summary
    props = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["properties"]
    assert "defectsIncomplete" not in props


@st.composite
def irregular_services(draw: st.DrawFn):
    """Row offsets; the service's own page size (at most ``limit``), a few short pages
    anywhere after the first two answers; the total honest, missing, or dropping part-way."""
    n = draw(st.integers(0, 600))
    size = draw(st.integers(1, LIMIT))
    short = draw(st.dictionaries(st.integers(2, 12), st.integers(1, LIMIT), max_size=3))
    totals = draw(st.sampled_from(["honest", "none", "drops"]))
    answered = iter(range(10**6))

    def serve(offset: int) -> Page:
        k = next(answered)
        total = {"honest": n, "none": None, "drops": n if k < 3 else n // 3}[totals]
        rows_here = min(size, short.get(k, size))
        return Page(offset, total, rows(offset, min(n, offset + rows_here)))

    expected = draw(st.sampled_from([None, n]))
    note(f"{n} rows, pages of {size}, short answers {short}, total {totals}")
    return n, serve, expected


@settings(max_examples=examples(150), deadline=None)
@given(irregular_services())
def test_any_page_sizes_and_totals_fetch_every_row(service):
    n, serve, expected = service
    pager = Pager(expected=expected)
    asked = drive(pager, serve)
    assert len(pager.seen) == n, (pager.stop_reason, asked)
