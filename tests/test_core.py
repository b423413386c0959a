"""Report reading and the verdict: the legacy-name trap, counts as strings, failing closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.core import Outcome, error_verdict, evaluate
from gate.errors import CredentialsError, ExitCode, ReportError, ServiceError, TransientServiceError
from gate.policy import Policy, Threshold
from gate.report import Report, decode_json, report_from_payload

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "reports"
DEFAULT = Policy((Threshold("critical", 0), Threshold("major", 0), Threshold("new", 0)))


def load(name: str) -> Report:
    return report_from_payload(json.loads((EXAMPLES / name).read_text()), allow_bare=True)


def test_api_example_fails_on_major_and_new_not_critical():
    verdict = evaluate(load("api-example.json"), DEFAULT)
    assert verdict.outcome is Outcome.FAILED
    assert verdict.exit_code is ExitCode.GATE_FAILED
    assert [(c.metric, c.actual, c.passed) for c in verdict.checks] == [
        ("critical", 0, True),
        ("major", 4, False),
        ("new", 122, False),
    ]


def test_upper_case_critical_is_major_not_critical():
    report = Report({"CRITICAL": 7, "FATAL": 0, "UNRESOLVED_ADD": 0})
    assert report.count("critical") == 0
    assert report.count("major") == 7


def test_lower_case_field_preferred_over_legacy():
    report = Report({"critical": 1, "FATAL": 9, "major": 2, "CRITICAL": 8})
    assert (report.count("critical"), report.count("major")) == (1, 2)


def test_null_lower_case_falls_back_to_legacy():
    assert Report({"critical": None, "FATAL": 3}).count("critical") == 3


def test_legacy_only_report_is_judged():
    verdict = evaluate(load("legacy-fields.json"), DEFAULT)
    assert [(c.metric, c.actual) for c in verdict.checks] == [
        ("critical", 1),
        ("major", 2),
        ("new", 3),
    ]
    assert verdict.outcome is Outcome.FAILED


def test_clean_report_passes():
    verdict = evaluate(load("clean.json"), DEFAULT)
    assert verdict.outcome is Outcome.PASSED
    assert verdict.exit_code is ExitCode.PASSED


def test_integer_valued_strings_are_counts():
    assert Report({"critical": "3"}).count("critical") == 3


@pytest.mark.parametrize("value", [-1, 1.5, 2.0, "-1", "1.5", "three", True, [], {}, " 3", "٣"])
def test_values_that_are_not_counts_are_errors(value):
    with pytest.raises(ReportError, match="'critical'"):
        Report({"critical": value}).count("critical")


def test_missing_count_is_an_error_verdict_not_a_pass():
    verdict = evaluate(Report({"major": 0, "UNRESOLVED_ADD": 0}), DEFAULT)
    assert verdict.outcome is Outcome.ERROR
    assert verdict.exit_code is ExitCode.NO_VERDICT
    assert verdict.error is not None and verdict.error.kind == "report"
    assert "'critical'" in verdict.error.message
    assert verdict.checks[0].actual is None and not verdict.checks[0].passed


def test_missing_count_of_a_disabled_check_does_not_matter():
    verdict = evaluate(Report({"major": 0}), Policy((Threshold("major", 0),)))
    assert verdict.outcome is Outcome.PASSED


def test_error_envelope_with_http_200_is_an_error():
    payload = {"status": "failed", "error_code": "CC.00050006", "error_msg": "service inner error"}
    with pytest.raises(ServiceError, match=r"CC\.00050006: service inner error") as caught:
        report_from_payload(payload)
    assert caught.value.exit_code is ExitCode.NO_VERDICT


@pytest.mark.parametrize("code", ["CC.00000003", "CC.00050007", "CC.00050010", "APIGW.0301"])
def test_credential_codes_exit_3(code):
    with pytest.raises(CredentialsError) as caught:
        report_from_payload({"error_code": code, "error_msg": "no"})
    assert caught.value.exit_code is ExitCode.CREDENTIALS_REFUSED


@pytest.mark.parametrize("code", ["CC.00050012", "CC.00000000"])
def test_retry_later_codes_are_transient(code):
    with pytest.raises(TransientServiceError):
        report_from_payload({"status": "failed", "error_code": code, "error_msg": "busy"})


def test_success_without_result_is_an_error():
    with pytest.raises(ReportError, match="no 'result'"):
        report_from_payload({"status": "success", "httpStatus": "OK"})


def test_bare_result_only_from_a_file():
    bare = {"critical": 0, "major": 0, "UNRESOLVED_ADD": 0}
    assert report_from_payload(bare, allow_bare=True).count("major") == 0
    with pytest.raises(ReportError):
        report_from_payload(bare)


@pytest.mark.parametrize("payload", [[], "x", 3, None, {"result": []}, {"result": None}])
def test_wrong_shapes_are_report_errors(payload):
    with pytest.raises(ReportError):
        report_from_payload(payload)


def test_integer_http_status_is_accepted():
    payload = {"status": "success", "httpStatus": 200, "result": {"critical": 0}}
    assert report_from_payload(payload).count("critical") == 0


@pytest.mark.parametrize("body", [b"", b"<html>502</html>", b'{"a": NaN}', b"[1,", b"\xff\xfe"])
def test_non_json_bodies_name_what_came(body):
    with pytest.raises(ReportError, match="text/html") as caught:
        decode_json(body, "text/html")
    assert "\n" not in str(caught.value)


def test_deep_nesting_is_a_report_error_not_a_crash():
    with pytest.raises(ReportError):
        decode_json(b"[" * 100000 + b"]" * 100000)


def test_error_verdict_keeps_kind_and_exit_code():
    verdict = error_verdict(CredentialsError("refused"), "job1")
    assert (verdict.outcome, verdict.exit_code, verdict.job_id) == (
        Outcome.ERROR,
        ExitCode.CREDENTIALS_REFUSED,
        "job1",
    )
