"""The policy: a maximum per metric, parsed from the user's words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gate.errors import UsageError
from gate.metrics import METRICS
from gate.text import one_line

OFF = "off"
MAX_DIGITS = 18
"""Digits of the largest maximum (under 10**18, a 64-bit count): a longer one is a typo,
and past 4,300 digits Python's ``int`` would refuse it with a ``ValueError``."""


@dataclass(frozen=True)
class Threshold:
    """One check: ``metric`` may be at most ``maximum``."""

    metric: str
    maximum: int


@dataclass(frozen=True)
class Policy:
    """The checks to make, in order; a metric appears at most once."""

    thresholds: tuple[Threshold, ...]


def parse_maximum(text: str, *, source: str) -> int | None:
    """Parse a maximum: a non-negative integer, or ``off`` (``None``) to disable the check.

    Total: any text gives a maximum, ``None`` or a ``UsageError`` naming ``source``."""
    value = text.strip().lower()
    if value == OFF:
        return None
    shown = one_line(repr(text), 60)
    if not value.isdigit() or not value.isascii():
        raise UsageError(f"{source}: expected a whole number >= 0 or 'off', got {shown}")
    digits = value.lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        raise UsageError(f"{source}: {shown} is too large (at most {MAX_DIGITS} digits)")
    return int(digits)


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


def build_policy(maximums: Iterable[tuple[str, int | None]]) -> Policy:
    """Build a policy from (metric, maximum) pairs; a later pair overrides an earlier one."""
    chosen: dict[str, int | None] = {}
    for metric, maximum in maximums:
        chosen[metric] = maximum
    return Policy(tuple(Threshold(m, v) for m, v in chosen.items() if v is not None))
