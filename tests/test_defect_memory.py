"""Memory is bounded by what the gate keeps, not by what the service sends (issue 17).

The reader's caches are keyed by a hash of long values and hold clipped text; a defects
page is refused past ``PAGE_MAX_BODY``; fetched pages waiting to be read are bounded in
bytes. Measured with ``tracemalloc`` (bytes, not time), the hostile fake running in its
own process so that only the gate's allocations count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeapi import PASS_REPORT, make_defect, raw_step
from gaterun import JOB, clean_env, run_gate

from gate.api.defects import PAGE_MAX_BODY, fetch_defects
from gate.defects import NAME_LIMIT, PATH_LIMIT, SEVERITIES, DefectReader, DigestBuilder
from gate.settings import RawOptions, build_settings

TESTS = Path(__file__).resolve().parent
MiB = 1024 * 1024


def huge_rows(count: int, size: int) -> Iterator[dict]:
    """Rows whose checker, rule and path are each ``size`` characters, all distinct."""
    for i in range(count):
        pad = f"{i:08d}" * (size // 8)
        yield make_defect(
            i,
            defect_checker_name="c" + pad,
            rule_name="r" + pad,
            file_path="p/" + pad,
            rule_system_tags="t," + pad,
        )


def test_the_reader_keeps_clipped_values_not_what_the_service_sent():
    reader = DefectReader(lambda path: path)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for row in huge_rows(300, 100_000):  # 120 MB of names, one row at a time
            defect = reader.read(row)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(defect.rule) <= NAME_LIMIT and len(defect.path) <= PATH_LIMIT
    assert kept < 2 * MiB, f"the reader keeps {kept:,} bytes after 300 rows"


def test_long_values_are_cached_by_the_whole_value():
    reader = DefectReader(lambda path: path)
    head = "x" * 5000
    first = reader.read(make_defect(1, rule_name=head + "a", file_path=head + "a"))
    second = reader.read(make_defect(2, rule_name=head + "b", file_path=head + "b"))
    again = reader.read(make_defect(3, rule_name=head + "a", file_path=head + "a"))
    assert first.rule == again.rule and first.path == again.path
    assert first.fingerprint != second.fingerprint or first.message != second.message


def test_a_secret_learnt_mid_run_empties_the_cache():
    reader = DefectReader(lambda path: path)
    name = "rule-" + "s3cr3t-token-value" + "y" * 400
    assert "s3cr3t-token-value" in reader.read(make_defect(1, rule_name=name)).rule
    reader.learn("s3cr3t-token-value")
    assert "s3cr3t-token-value" not in reader.read(make_defect(1, rule_name=name)).rule


def test_a_page_over_the_page_bound_fails_the_fetch_and_the_verdict_stands(
    fake_api_factory, tmp_path
):
    api = fake_api_factory(report=PASS_REPORT)
    body = json.dumps({"total": 1, "defects": [make_defect(0, defect_content="x" * PAGE_MAX_BODY)]})
    api.defect_api.rows = [make_defect(0)]
    api.defect_api.faults = {0: [raw_step(200, body.encode(), "application/json")]}
    env = clean_env(CODEARTS_ENDPOINT=api.url, CODEARTS_TOKEN=api.token, CODEARTS_JOB_ID=JOB)
    run = run_gate(tmp_path, "--task-id", "t1", "--defects", env=env)
    assert run.code == 0, run.stderr
    assert "larger than 1 MiB" in run.json["defects"]["error"]


HOSTILE_FAKE = """
import sys
sys.path.insert(0, {tests!r})
from test_defect_memory import huge_rows
from fakeapi import PASS_REPORT, FakeCodeArts
with FakeCodeArts(report=PASS_REPORT) as api:
    api.defect_api.rows = list(huge_rows({count}, {size}))
    print(api.url, api.token, flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def hostile_fake() -> Iterator[tuple[str, str]]:
    """A fake in its own process serving 40 pages of rows with distinct 2,000-character
    checkers, rules, paths and tags (each page some 900 KB: under the page bound)."""
    code = HOSTILE_FAKE.format(tests=str(TESTS), count=4000, size=2000)
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url, token = proc.stdout.readline().split()
        yield url, token
    finally:
        proc.communicate("", timeout=30)


def test_the_fetch_peak_is_bounded_against_huge_distinct_fields(hostile_fake, monkeypatch):
    url, token = hostile_fake
    monkeypatch.setenv("NO_PROXY", "*")
    settings = build_settings(
        RawOptions(job_id=JOB, task_id="t1", endpoint=url, token=token, timeout="120")
    )
    reader = DefectReader(lambda path: path)
    digest = DigestBuilder(SEVERITIES)
    tracemalloc.start()
    try:
        result = fetch_defects(settings, SEVERITIES, lambda row: digest.add(reader.read(row)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.fetched == 4000
    # 32 MB of distinct names went through; the caches keep hashes and clipped text, and
    # fetched pages waiting are bounded in bytes
    assert peak < 40 * MiB, f"peak {peak:,} bytes"
