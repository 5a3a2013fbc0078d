from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from covetbench.records import (
    FLAG_DESCRIPTIONS,
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    FLAG_HOST_SLOW,
    FLAG_INTERFERENCE,
    FLAG_LITTLES_LAW_MISMATCH,
    FLAG_SERVER_UNSATURATED,
    ErrorCounts,
    LatencyMs,
    LoadResult,
)
from covetbench.run.validity import error_rate, findings, judge, littles_law_concurrency


@dataclass(frozen=True)
class Sample:
    server_cpu_pct: float = 99.0
    loadgen_cpu_pct: float = 50.0
    interference_pct: float = 0.5


def load(**overrides: Any) -> LoadResult:
    # 64 connections, 10k rps, 6.4 ms mean: Little's law holds exactly
    fields: dict[str, Any] = {
        "loadgen": "wrk",
        "requests": 100_000,
        "duration_s": 10.0,
        "rps": 10_000.0,
        "latency_ms": LatencyMs(p50=6.0, p99=9.0, mean=6.4),
        "errors": ErrorCounts(),
        "connections": 64,
    }
    fields.update(overrides)
    return LoadResult(**fields)


def flags(result: LoadResult | None = None, sample: Sample | None = None, **kw: Any) -> list[str]:
    args: dict[str, Any] = {"concurrency": 64, "server_cores": 1, "loadgen_cores": 1}
    args.update(kw)
    return judge(result or load(), sample or Sample(), **args)


def test_clean_trial_has_no_flags() -> None:
    assert flags() == []
    assert littles_law_concurrency(load()) == pytest.approx(64.0)


@pytest.mark.parametrize(
    ("loadgen_pct", "cores", "bound"),
    [(89.9, 1, False), (90.0, 1, True), (100.0, 1, True), (150.0, 2, False), (185.0, 2, True)],
)
def test_generator_bound(loadgen_pct: float, cores: int, bound: bool) -> None:
    result = flags(
        sample=Sample(server_cpu_pct=50.0, loadgen_cpu_pct=loadgen_pct), loadgen_cores=cores
    )
    assert (FLAG_GENERATOR_BOUND in result) is bound
    # a bound generator explains an idle server: not flagged twice
    assert (FLAG_SERVER_UNSATURATED in result) is (not bound)


@pytest.mark.parametrize(
    ("server_pct", "cores", "flagged"),
    [(74.0, 1, True), (76.0, 1, False), (140.0, 2, True), (160.0, 2, False)],
)
def test_server_unsaturated(server_pct: float, cores: int, flagged: bool) -> None:
    result = flags(sample=Sample(server_cpu_pct=server_pct), server_cores=cores)
    assert (FLAG_SERVER_UNSATURATED in result) is flagged


@pytest.mark.parametrize(
    ("mean_ms", "pipeline", "flagged"),
    [
        (6.4, 1, False),
        (7.6, 1, False),
        (8.0, 1, True),
        (4.0, 1, True),
        (None, 1, False),
        (1.0, 16, False),
    ],
    ids=["exact", "within", "above", "below", "unknown", "pipelined"],
)
def test_littles_law(mean_ms: float | None, pipeline: int, flagged: bool) -> None:
    result = flags(load(latency_ms=LatencyMs(mean=mean_ms)), pipeline=pipeline)
    assert (FLAG_LITTLES_LAW_MISMATCH in result) is flagged


def test_littles_law_established_connections() -> None:
    assert FLAG_LITTLES_LAW_MISMATCH in flags(load(established=40))
    assert FLAG_LITTLES_LAW_MISMATCH not in flags(load(established=64))
    found = findings(load(established=40), Sample(), 64, 1, 1)
    assert "40 of 64" in found[0].detail


@pytest.mark.parametrize(
    ("errors", "requests", "flagged"),
    [
        (ErrorCounts(non2xx=100), 100_000, False),
        (ErrorCounts(non2xx=101), 100_000, True),
        (ErrorCounts(connect=60, read=60), 100_000, True),
        (ErrorCounts(), 0, True),
    ],
    ids=["at-limit", "non2xx", "socket", "nothing-completed"],
)
def test_errors(errors: ErrorCounts, requests: int, flagged: bool) -> None:
    result = flags(load(errors=errors, requests=requests))
    assert (FLAG_ERRORS in result) is flagged


def test_error_rate() -> None:
    assert error_rate(load()) == 0.0
    assert error_rate(load(errors=ErrorCounts(non2xx=10), requests=100)) == pytest.approx(0.1)
    assert error_rate(load(errors=ErrorCounts(timeout=100), requests=100)) == pytest.approx(0.5)
    assert error_rate(load(requests=0)) == 1.0


def test_interference() -> None:
    assert FLAG_INTERFERENCE in flags(sample=Sample(interference_pct=5.1))
    assert FLAG_INTERFERENCE not in flags(sample=Sample(interference_pct=5.0))


def test_every_flag_is_described_and_detailed() -> None:
    bad = load(latency_ms=LatencyMs(mean=1.0), errors=ErrorCounts(read=5_000))
    found = findings(bad, Sample(loadgen_cpu_pct=99.0, interference_pct=30.0), 64, 1, 1)
    found += findings(load(), Sample(server_cpu_pct=10.0), 64, 1, 1)
    # host_slow is a trial flag judged over the whole run (`run.canary.slow_trial_flags`)
    assert {f.flag for f in found} == set(FLAG_DESCRIPTIONS) - {FLAG_HOST_SLOW}
    assert all(f.detail for f in found)
