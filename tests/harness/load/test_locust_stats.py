"""Reading locust's statistics: its real `--json-file` and failures CSV, kinds and percentiles.

The fixtures in `data/` are the files of a real locust 2.47 run of `locustfiles/mixed.py`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from covetbench.exceptions import LoadGeneratorError
from covetbench.load.locust_stats import (
    FINAL_FAILURES_SUFFIX,
    error_kind,
    errors_by_kind,
    merge_entries,
    parse_failures_csv,
    parse_stats_json,
    percentile,
    read_locust_run,
)

DATA = Path(__file__).parent / "data"
PREFIX = DATA / "locust-mixed"


def _rank(histogram: dict[int, int], fraction: float) -> int:
    """The same percentile the slow way: the value at index int(count * fraction) of the sorted
    list of every stored time (locust's rule, independent of its loop)."""
    values = sorted(v for v, n in histogram.items() for _ in range(n))
    return values[min(int(len(values) * fraction), len(values) - 1)]


def test_real_run_maps_onto_a_wrk_like_record() -> None:
    stats = read_locust_run(PREFIX)
    entries = json.loads((DATA / "locust-mixed.json").read_text())
    by_name = {e["name"]: e for e in entries}
    assert stats.num_requests == sum(e["num_requests"] for e in entries)
    assert stats.num_failures == sum(e["num_failures"] for e in entries)
    # every failure kind of the file, counted from its messages
    assert (
        stats.errors.non2xx
        == by_name["/missing"]["num_failures"] + by_name["/json"]["num_failures"]
    )
    assert stats.errors.connect == by_name["refused"]["num_failures"]
    assert stats.errors.other == by_name["/plaintext body"]["num_failures"]
    assert stats.errors.read == stats.errors.write == stats.errors.timeout == 0
    assert stats.errors.total == stats.num_failures
    # refused requests got no answer: they are not requests in wrk's sense
    assert stats.requests == stats.num_requests - stats.errors.connect
    assert stats.window is not None
    assert stats.duration_s == pytest.approx(stats.window[1] - stats.window[0])
    assert stats.rps == pytest.approx(stats.requests / stats.duration_s)
    assert sorted(stats.names) == sorted(f"GET {name}" for name in by_name)


def test_percentiles_come_from_the_summed_histograms() -> None:
    entries = parse_stats_json((DATA / "locust-mixed.json").read_text())
    histogram: dict[int, int] = {}
    for entry in entries:
        for key, count in entry["response_times"].items():
            histogram[int(key)] = histogram.get(int(key), 0) + count
    stats = merge_entries(entries)
    latency = stats.latency_ms
    assert latency.p50 == _rank(histogram, 0.5)
    assert latency.p99 == _rank(histogram, 0.99)
    assert latency.p999 == _rank(histogram, 0.999)
    assert latency.p50 is not None and latency.p90 is not None and latency.max is not None
    assert latency.p50 <= latency.p90 <= latency.max
    total_ms = sum(e["total_response_time"] for e in entries)
    assert latency.mean == pytest.approx(total_ms / sum(histogram.values()), abs=1e-3)
    assert latency.max == pytest.approx(max(e["max_response_time"] for e in entries), abs=1e-3)


def test_histograms_are_added_not_averaged() -> None:
    slow = {"num_requests": 1, "num_failures": 0, "total_response_time": 900.0}
    fast = {"num_requests": 99, "num_failures": 0, "total_response_time": 99.0}
    common = {"start_time": 10.0, "last_request_timestamp": 12.0, "max_response_time": 900.0}
    entries = [
        {**common, **slow, "name": "slow", "response_times": {"900": 1}},
        {**common, **fast, "name": "fast", "response_times": {"1": 99}},
    ]
    stats = merge_entries(entries)
    assert stats.latency_ms.p50 == 1.0  # an average of the two medians would say 450
    assert stats.latency_ms.p999 == 900.0
    assert stats.duration_s == 2.0


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("LocustBadStatusCode(code=404)", "non2xx"),
        ("BadStatusCode('http://127.0.0.1:8000/x', code=500)", "non2xx"),
        ("CatchResponseError('status 503')", "non2xx"),
        ("CatchResponseError(\"body: 'Hello'\")", "other"),
        ("ConnectionRefusedError(111, 'Connection refused')", "connect"),
        ("ConnectionResetError(104, 'Connection reset by peer')", "read"),
        ("HTTPConnectionClosed('connection closed.')", "read"),
        ("timeout('timed out')", "timeout"),
        ("BrokenPipeError(32, 'Broken pipe')", "write"),
        ("ValueError('something else')", "other"),
    ],
)
def test_failure_messages_sort_into_kinds(message: str, kind: str) -> None:
    assert error_kind(message) == kind


def test_failures_the_messages_do_not_cover_are_other() -> None:
    counts = errors_by_kind([("LocustBadStatusCode(code=500)", 3)], total=5)
    assert (counts.non2xx, counts.other, counts.total) == (3, 2, 5)


def test_empty_histogram_has_percentile_zero() -> None:
    assert percentile({}, 0, 0.99) == 0


def test_missing_or_broken_files_are_load_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadGeneratorError, match="no statistics"):
        read_locust_run(tmp_path / "nothing")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LoadGeneratorError, match="do not parse"):
        read_locust_run(tmp_path / "bad")
    (tmp_path / "obj.json").write_text('{"a": 1}')
    with pytest.raises(LoadGeneratorError, match="not a list"):
        read_locust_run(tmp_path / "obj")
    with pytest.raises(LoadGeneratorError, match="bad row"):
        parse_failures_csv("Method,Name,Error,Occurrences\nGET,/,x,many\n")


def test_without_the_final_failures_file_every_failure_is_other(tmp_path: Path) -> None:
    shutil.copy(DATA / "locust-mixed.json", tmp_path / "run.json")
    stats = read_locust_run(tmp_path / "run")
    assert stats.errors.other == stats.num_failures
    assert not (tmp_path / f"run{FINAL_FAILURES_SUFFIX}").exists()
