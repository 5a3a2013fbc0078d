"""Fixtures for covet.auth: a clock tests move by hand, and a TestClient on the auth app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from covet.testclient import TestClient
from tests.covet.auth.auth_app import make_app


class FakeClock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(make_app(clock)) as test_client:
        yield test_client
