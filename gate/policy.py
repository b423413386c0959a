"""The policy: a maximum per metric, parsed from the user's words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gate.errors import UsageError
from gate.metrics import METRICS

OFF = "off"


@dataclass(frozen=True)
class Threshold:
    """One check: ``metric`` may be at most ``maximum`` (``None``: no maximum, the check
    only warns); over ``warn`` it passes with a warning."""

    metric: str
    maximum: int | None
    warn: int | None = None


@dataclass(frozen=True)
class Policy:
    """The checks to make, in order; a metric appears at most once."""

    thresholds: tuple[Threshold, ...]


def parse_maximum(text: str, *, source: str) -> int | None:
    """Parse a maximum: a non-negative integer, or ``off`` (``None``) to disable the check."""
    value = text.strip().lower()
    if value == OFF:
        return None
    if not value.isdigit() or not value.isascii():
        raise UsageError(f"{source}: expected a whole number >= 0 or 'off', got {text!r}")
    return int(value)


def parse_assignment(text: str, *, source: str) -> tuple[str, int | None]:
    """Parse ``NAME=N`` from ``--max``/``CODEARTS_MAX``, checking NAME against the metrics."""
    name, sep, value = text.partition("=")
    name = name.strip().lower()
    if not sep or not name:
        raise UsageError(f"{source}: expected NAME=N, got {text!r}")
    if name not in METRICS:
        valid = ", ".join(METRICS)
        raise UsageError(f"{source}: unknown metric {name!r}; valid names: {valid}")
    return name, parse_maximum(value, source=f"{source} {name}")


def build_policy(
    maximums: Iterable[tuple[str, int | None]], warnings: Iterable[tuple[str, int | None]] = ()
) -> Policy:
    """Build a policy from (metric, maximum) and (metric, warn level) pairs; a later pair
    overrides an earlier one. A warn level above its maximum is a ``UsageError``: the
    count would fail before it could warn."""
    chosen = dict(maximums)
    warn = {metric: level for metric, level in dict(warnings).items() if level is not None}
    for metric, level in warn.items():
        maximum = chosen.get(metric)
        if maximum is not None and level > maximum:
            raise UsageError(
                f"--warn-{metric} {level} is above --max-{metric} {maximum}: a count over "
                "the maximum fails before it can warn; lower the warn level or raise the maximum"
            )
    metrics = [m for m, v in chosen.items() if v is not None]
    metrics += [m for m in warn if m not in metrics]
    return Policy(tuple(Threshold(m, chosen.get(m), warn.get(m)) for m in metrics))
