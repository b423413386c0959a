"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fakeapi import FakeCodeArts


@pytest.fixture
def fake_api() -> Iterator[FakeCodeArts]:
    """A FakeCodeArts with default credentials and the ``pass`` scenario, stopped after."""
    with FakeCodeArts() as api:
        yield api


@pytest.fixture
def fake_api_factory() -> Iterator[Callable[..., FakeCodeArts]]:
    """Build FakeCodeArts instances with custom keywords; all are stopped after the test."""
    made: list[FakeCodeArts] = []

    def make(**kwargs: Any) -> FakeCodeArts:
        api = FakeCodeArts(**kwargs)
        made.append(api)
        return api

    yield make
    for api in made:
        api.stop()
