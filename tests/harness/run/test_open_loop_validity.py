"""The validity judge on open-loop trials: a missed schedule is the generator's fault only when
the generator was busy or its own timers fired late; a held schedule earns no saturation flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from covetbench.records import (
    FLAG_GENERATOR_BOUND,
    FLAG_LITTLES_LAW_MISMATCH,
    FLAG_SERVER_UNSATURATED,
    LATENCY_OPEN_LOOP,
    ErrorCounts,
    LatencyMs,
    LoadResult,
)
from covetbench.run.validity import judge


@dataclass(frozen=True)
class Sample:
    server_cpu_pct: float = 30.0
    loadgen_cpu_pct: float = 20.0
    interference_pct: float = 0.5


def open_loop(**overrides: Any) -> LoadResult:
    # 2,000 req/s offered for 5 s on 64 connections: far below 64 in flight (no Little's law)
    fields: dict[str, Any] = {
        "loadgen": "open",
        "requests": 10_000,
        "duration_s": 5.0,
        "rps": 2_000.0,
        "latency_ms": LatencyMs(p50=0.2, p99=1.0, mean=0.25),
        "errors": ErrorCounts(),
        "connections": 64,
        "established": 64,
        "corrected": True,
        "latency_method": LATENCY_OPEN_LOOP,
        "offered_rps": 2_000.0,
        "intended_requests": 10_000,
        "late_sends": 0,
        "late_wakeups": 0,
    }
    fields.update(overrides)
    return LoadResult(**fields)


def flags(result: LoadResult, sample: Sample) -> list[str]:
    return judge(result, sample, concurrency=64, server_cores=1, loadgen_cores=1)


def test_held_schedule_below_capacity_is_clean() -> None:
    assert flags(open_loop(late_sends=100), Sample()) == []  # 1 % late is within the limit


@pytest.mark.parametrize(
    ("late", "wakeups", "loadgen_cpu", "expected"),
    [
        (500, 0, 80.0, [FLAG_GENERATOR_BOUND]),  # behind and busy
        (500, 200, 20.0, [FLAG_GENERATOR_BOUND]),  # behind, its own timers late
        (500, 0, 95.0, [FLAG_GENERATOR_BOUND]),  # the closed loop's CPU rule still holds
        (0, 0, 95.0, [FLAG_GENERATOR_BOUND]),
        (500, 50, 20.0, [FLAG_SERVER_UNSATURATED]),  # behind with an idle server: stopped
    ],
)
def test_missed_schedule(late: int, wakeups: int, loadgen_cpu: float, expected: list[str]) -> None:
    result = open_loop(late_sends=late, late_wakeups=wakeups)
    assert flags(result, Sample(loadgen_cpu_pct=loadgen_cpu)) == expected


def test_overloaded_server_is_a_true_figure() -> None:
    """Offered more than it can answer, the server is saturated: late sends, no flag."""
    result = open_loop(late_sends=3_000, requests=7_000, rps=1_400.0)
    assert flags(result, Sample(server_cpu_pct=99.0, loadgen_cpu_pct=30.0)) == []


def test_connections_not_established_still_flagged() -> None:
    assert flags(open_loop(established=10), Sample()) == [FLAG_LITTLES_LAW_MISMATCH]
