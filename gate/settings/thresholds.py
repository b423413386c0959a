"""The thresholds: maximums and warn levels from every source, by precedence."""

from __future__ import annotations

from gate.metrics import DEFAULT_MAXIMUMS
from gate.policy import Policy, build_policy, parse_assignment, parse_maximum
from gate.settings.raw import RawOptions


def policy_of(raw: RawOptions) -> Policy:
    """Defaults, then the config file, then variables, then flags (a flag beats a
    variable); at each level the named options first, then ``--max NAME=N``, which wins
    over ``--max-NAME``. The warn levels (``--warn-NAME``, ``--warn NAME=N``) likewise."""
    named = {"critical": raw.max_critical, "major": raw.max_major, "new": raw.max_new}
    maximums = list(DEFAULT_MAXIMUMS.items()) + _levels(raw, "max", named)
    increases = [parse_assignment(item, source="--max-increase") for item in raw.max_increase]
    return build_policy(maximums, _levels(raw, "warn", warn_levels_of(raw)), increases)


def warn_levels_of(raw: RawOptions) -> dict[str, str | None]:
    """The ``--warn-NAME`` options by metric."""
    return {name: getattr(raw, f"warn_{name}") for name in WARN_METRICS}


WARN_METRICS = ("critical", "major", "minor", "suggestion", "new")
"""The metrics with a ``--warn-NAME`` option (any metric takes ``--warn NAME=N``)."""


def _levels(
    raw: RawOptions, prefix: str, named: dict[str, str | None]
) -> list[tuple[str, int | None]]:
    """(metric, level) pairs of ``--PREFIX-NAME`` and ``--PREFIX NAME=N``, weakest source first."""
    pairs: list[tuple[str, int | None]] = []
    for level in (1, 2, 3):
        for metric, text in named.items():
            if text is not None and raw.rank(f"{prefix}_{metric}") == level:
                pairs.append((metric, parse_maximum(text, source=f"--{prefix}-{metric}")))
        if raw.rank(prefix) == level:
            items = getattr(raw, prefix)
            pairs += [parse_assignment(item, source=f"--{prefix}") for item in items]
    return pairs
