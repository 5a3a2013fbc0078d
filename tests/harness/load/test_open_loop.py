"""The open-loop generator: its request bytes, its process split, exact histogram merging, and
real runs against covet's server: the schedule held at 2,000 req/s, an unholdable rate counted
as late sends, and the stall self-test (wrk2's README: a stopped server must show in the tail)."""

from __future__ import annotations

from typing import Any

import pytest

from covetbench.exceptions import LoadGeneratorError
from covetbench.load import LoadRequest, get_loadgen, hdr
from covetbench.load.open_loop import OpenLoopDriver, process_count, request_bytes
from covetbench.records import LATENCY_OPEN_LOOP, LoadResult
from covetbench.run.stall import StallInjector, StallSpec
from covetbench.scenarios import get_scenario
from tests.harness.conftest import LaunchServer


def _request(base_url: str, rate: float, duration_s: float, **kw: Any) -> LoadRequest:
    spec = get_scenario("plaintext")
    fields: dict[str, Any] = {"concurrency": 16, "threads": 1, "timeout_s": 4.0}
    fields.update(kw)
    return LoadRequest(
        url=spec.url(base_url),
        scenario=spec,
        duration_s=duration_s,
        rate=rate,
        **fields,
    )


def test_request_bytes_carry_method_host_headers_and_body() -> None:
    get = request_bytes(get_scenario("plaintext"), "127.0.0.1", 8000)
    assert get == b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"
    post = request_bytes(get_scenario("echo"), "127.0.0.1", 8000)
    head, _, body = post.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /echo HTTP/1.1\r\n")
    assert b"Content-Type: application/json" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert body == get_scenario("echo").body


@pytest.mark.parametrize(
    ("rate", "concurrency", "threads", "cores", "expected"),
    [
        (2_000, 64, 1, 4, 1),
        (40_000, 64, 1, 4, 3),
        (40_000, 64, 1, 1, 1),  # one load core: a second process would only share it
        (40_000, 2, 1, 4, 2),
        (100, 64, 2, 1, 2),  # asked for explicitly
        (100, 1, 4, 4, 1),
    ],
)
def test_process_count(
    rate: float, concurrency: int, threads: int, cores: int, expected: int
) -> None:
    assert process_count(rate, concurrency, threads, cores) == expected


def test_histograms_merge_exactly() -> None:
    """Merged counts equal one histogram fed every value: added bucket by bucket, and the
    merged p99 is not the mean of the parts' p99s."""
    fast = [100 + i % 50 for i in range(9_900)]
    slow = [1_000_000] * 100 + [200] * 9_900
    a, b, whole = hdr.new_histogram(), hdr.new_histogram(), hdr.new_histogram()
    for value in fast:
        hdr.record_us(a, value)
        hdr.record_us(whole, value)
    for value in slow:
        hdr.record_us(b, value)
        hdr.record_us(whole, value)
    merged = hdr.merge([hdr.encode(a), hdr.encode(b)])
    assert merged.get_total_count() == whole.get_total_count() == 19_900
    for pct in (50.0, 90.0, 99.0, 99.5, 99.9, 100.0):
        assert merged.get_value_at_percentile(pct) == whole.get_value_at_percentile(pct)
    assert hdr.latency_of(merged) == hdr.latency_of(whole)
    averaged = (a.get_value_at_percentile(99.0) + b.get_value_at_percentile(99.0)) / 2
    assert merged.get_value_at_percentile(99.0) != pytest.approx(averaged, rel=0.01)


def test_empty_histogram_has_unknown_percentiles() -> None:
    assert hdr.latency_of(hdr.merge([])).p99 is None


def test_a_rate_is_required() -> None:
    with pytest.raises(LoadGeneratorError, match="--rate"):
        OpenLoopDriver().run(_request("http://127.0.0.1:1", 0, 1.0))
    with pytest.raises(LoadGeneratorError, match="pipeline"):
        OpenLoopDriver().run(_request("http://127.0.0.1:1", 10, 1.0, pipeline=2))


def _sent(result: LoadResult) -> int:
    return result.requests + result.errors.timeout + result.errors.read


def test_schedule_held_at_2000_per_second(launch_server: LaunchServer) -> None:
    """Two processes share the schedule; every intended request is sent (a count, not a time)."""
    server = launch_server("covet", "raw")
    result = get_loadgen("open").run(_request(server.base_url, 2_000, 3.0, threads=2))
    assert result.intended_requests == 6_000
    assert abs(_sent(result) - 6_000) <= 60  # within 1 %
    assert result.errors.total == 0
    assert result.corrected and result.latency_method == LATENCY_OPEN_LOOP
    assert result.histogram is not None
    merged = hdr.merge([result.histogram])
    assert merged.get_total_count() == result.requests
    assert result.latency_uncorrected_ms is not None
    assert result.latency_ms.p50 is not None and result.latency_uncorrected_ms.p50 is not None
    assert "--processes=2" in result.command


def test_unholdable_rate_is_counted_late(launch_server: LaunchServer) -> None:
    """Two connections cannot carry 100k req/s: the misses are counted, never hidden."""
    server = launch_server("covet", "raw")
    result = get_loadgen("open").run(_request(server.base_url, 100_000, 1.0, concurrency=2))
    assert result.intended_requests == 100_000
    assert result.requests < 100_000 * 0.9
    assert (result.late_sends or 0) > 100_000 - _sent(result) - 1


@pytest.mark.slow
def test_stall_self_test(launch_server: LaunchServer) -> None:
    """wrk2's self-test: a 1 s SIGSTOP in a 10 s trial at 1,000 req/s. From the intended start
    the tail shows it (p99 > 500 ms); from the actual send it hardly moves."""
    server = launch_server("covet", "raw")
    with StallInjector(StallSpec.parse("1@3"), server.pid) as stall:
        result = get_loadgen("open").run(_request(server.base_url, 1_000, 10.0, concurrency=64))
    record = stall.record()
    assert record is not None and record["stopped"] and record["processes"] >= 1
    corrected, uncorrected = result.latency_ms.p99, result.latency_uncorrected_ms
    assert corrected is not None and uncorrected is not None and uncorrected.p99 is not None
    assert corrected > 500.0
    assert uncorrected.p99 < corrected / 3
    assert (result.late_sends or 0) > 0
