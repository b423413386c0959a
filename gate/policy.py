"""The policy: a maximum per metric, parsed from the user's words."""

from __future__ import annotations

from collections.abc import Iterable

from gate.errors import UsageError
from gate.metrics import METRICS
from gate.structs import record
from gate.text import one_line

OFF = "off"
MAX_DIGITS = 18
"""Digits of the largest maximum (under 10**18, a 64-bit count): a longer one is a typo,
and past 4,300 digits Python's ``int`` would refuse it with a ``ValueError``."""


@record
class Threshold:
    """One check: ``metric`` may be at most ``maximum`` (None: no maximum), may grow by
    at most ``max_increase`` since the baseline (None: as the baseline decides), and over
    ``warn`` passes with a warning. A check with neither maximum nor increase limit only
    warns."""

    metric: str
    maximum: int | None
    max_increase: int | None = None
    ratchet: bool = True
    """False when the increase limit was switched off (``--max-increase NAME=off``)."""
    warn: int | None = None


@record
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


def build_policy(
    maximums: Iterable[tuple[str, int | None]],
    warnings: Iterable[tuple[str, int | None]] = (),
    increases: Iterable[tuple[str, int | None]] = (),
) -> Policy:
    """Build a policy from (metric, maximum), (metric, warn level) and (metric, allowed
    increase) pairs; a later pair overrides an earlier one. A metric with an increase limit
    and no maximum is still checked (``--max-major off --max-increase major=0``: a pure
    ratchet); one with a warn level alone only warns. A warn level above its maximum is a
    ``UsageError``: the count would fail before it could warn."""
    chosen = dict(maximums)
    warn = {metric: level for metric, level in dict(warnings).items() if level is not None}
    for metric, level in warn.items():
        maximum = chosen.get(metric)
        if maximum is not None and level > maximum:
            raise UsageError(
                f"--warn-{metric} {level} is above --max-{metric} {maximum}: a count over "
                "the maximum fails before it can warn; lower the warn level or raise the maximum"
            )
    growth = dict(increases)
    metrics = [m for m, v in chosen.items() if v is not None]
    metrics += [
        m for m in (*growth, *warn) if m not in metrics and (m in warn or growth[m] is not None)
    ]
    return Policy(
        tuple(
            Threshold(
                m,
                chosen.get(m),
                growth.get(m),
                ratchet=growth.get(m, 0) is not None,
                warn=warn.get(m),
            )
            for m in dict.fromkeys(metrics)
        )
    )
