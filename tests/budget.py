"""Example counts for hypothesis tests, scaled by the active profile (tests/conftest.py)."""

from __future__ import annotations

from hypothesis import settings

BASE = 100
"""max_examples of the "dev" profile: a test's own count applies as given there."""


def examples(count: int) -> int:
    """``count`` under the "dev" profile; proportionally fewer (at least 10) under "ci"."""
    return max(10, count * settings().max_examples // BASE)
