"""The policy: defaults, named maximums, --max NAME=N, 'off', and usage errors."""

from __future__ import annotations

import pytest

from gate.errors import ExitCode, UsageError
from gate.metrics import METRICS
from gate.policy import Threshold, parse_assignment, parse_maximum
from gate.settings import RawOptions, policy_of


def test_defaults_are_zero_critical_major_new():
    assert policy_of(RawOptions()).thresholds == (
        Threshold("critical", 0),
        Threshold("major", 0),
        Threshold("new", 0),
    )


def test_named_options_override_defaults_and_off_disables():
    policy = policy_of(RawOptions(max_critical="2", max_major="off", max_new=" 10 "))
    assert policy.thresholds == (Threshold("critical", 2), Threshold("new", 10))


def test_max_assignments_add_metrics_and_win_over_named_options():
    raw = RawOptions(max_critical="5", max=("minor=40", "CRITICAL=1", "suggestion=off"))
    assert policy_of(raw).thresholds == (
        Threshold("critical", 1),
        Threshold("major", 0),
        Threshold("new", 0),
        Threshold("minor", 40),
    )


@pytest.mark.parametrize("text", ["-1", "1.5", "x", "", "٣", "1e3", "0x10"])
def test_bad_maximum_is_usage_error(text):
    with pytest.raises(UsageError) as caught:
        parse_maximum(text, source="--max-major")
    assert caught.value.exit_code is ExitCode.USAGE
    assert "--max-major" in str(caught.value)


def test_unknown_metric_lists_valid_names():
    with pytest.raises(UsageError) as caught:
        parse_assignment("blocker=0", source="--max")
    message = str(caught.value)
    assert "'blocker'" in message
    for name in ("critical", "major", "minor", "suggestion", "new", "unresolved"):
        assert name in message


@pytest.mark.parametrize("text", ["critical", "=3", "critical:3"])
def test_malformed_assignment_is_usage_error(text):
    with pytest.raises(UsageError, match="NAME=N"):
        parse_assignment(text, source="--max")


def test_required_friendly_names_exist():
    assert {"critical", "major", "minor", "suggestion", "new", "unresolved"} <= set(METRICS)
