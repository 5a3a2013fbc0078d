"""Locust's statistics files, read into the harness's records (no locust import here).

What one run leaves behind, under the `--csv` / `--json-file` prefix:

- `PREFIX.json` (`--json-file`, final): one object per request name with `num_requests`,
  `num_failures`, `total_response_time`, `max_response_time`, `start_time`,
  `last_request_timestamp` and `response_times`, locust's histogram {rounded ms: count}.
- `PREFIX_final_failures.csv`: locust's failures CSV, written at exit by `locust_export`
  (locust's periodic `PREFIX_stats.csv` and `PREFIX_failures.csv` can be a second stale).

Figures, and how they map onto a wrk-like `LoadResult`:

- Percentiles are locust's own (`calculate_response_time_percentile`) over the merged
  histograms. Locust rounds each stored time to two significant digits (whole ms below 100 ms,
  147 -> 150, 3432 -> 3400), so a sub-millisecond answer is stored as 0 or 1 ms: the record
  says `latency_method` "locust-rounded". Mean and max are exact.
- Locust counts a failed request as a request; wrk does not count socket errors as requests.
  So `requests` here is what got an answer: locust's count minus the failures that got none
  (connect, read, write, timeout), and the error rate reads alike for both generators.
- Failures by kind come from the failure messages (`error_kind`).

    stats = read_locust_run(workdir / "locust")
    stats.requests, stats.rps, stats.latency_ms.p99, stats.errors.timeout
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.exceptions import LoadGeneratorError
from covetbench.records import LATENCY_LOCUST_ROUNDED, ErrorCounts, LatencyMs

#: the file `locust_export` writes at exit, after the `--csv` prefix
FINAL_FAILURES_SUFFIX = "_final_failures.csv"
#: what `--json-file PREFIX` writes
JSON_SUFFIX = ".json"
#: the `latency_method` of every locust trial
LATENCY_METHOD = LATENCY_LOCUST_ROUNDED
#: the prefix a locustfile's status check gives its failure message ("status 503")
STATUS_FAILURE_PREFIX = "status "

#: (kind, pattern over the lowercased message), first match wins; unmatched: "other"
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("non2xx", re.compile(r"badstatuscode|httperror|^status \d|\bstatus code\b|code=\d")),
    ("timeout", re.compile(r"timeout|timed out")),
    ("connect", re.compile(r"refused|gaierror|unreachable|no route|connecterror|connect\b")),
    ("write", re.compile(r"broken ?pipe|brokenpipe")),
    (
        "read",
        re.compile(r"reset|closed|disconnect|incomplete|eof|parse|protocol|connectionerror"),
    ),
)


def error_kind(message: str) -> str:
    """The `ErrorCounts` field a locust failure message belongs to.

    error_kind("LocustBadStatusCode(code=404)")                   # -> "non2xx"
    error_kind("CatchResponseError('status 503')")                # -> "non2xx"
    error_kind("ConnectionRefusedError(111, 'Connection refused')")  # -> "connect"
    error_kind("CatchResponseError('body: expected ...')")        # -> "other"
    """
    text = message.lower()
    inner = re.search(r"catchresponseerror\(['\"](.*)['\"]\)", text)
    if inner is not None:  # a locustfile's own check: its message says what it rejected
        text = inner.group(1)
        return "non2xx" if text.startswith(STATUS_FAILURE_PREFIX) else "other"
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return "other"


def percentile(histogram: Mapping[int, int], count: int, fraction: float) -> int:
    """Locust's `calculate_response_time_percentile`: the smallest stored (rounded) time at or
    under which `fraction` of the `count` requests finished; 0 for an empty histogram."""
    wanted = int(count * fraction)
    seen = 0
    for value in sorted(histogram, reverse=True):
        seen += histogram[value]
        if count - seen <= wanted:
            return value
    return 0


@dataclass
class LocustStats:
    """One locust run, summed over its request names (a journey has several)."""

    #: locust's own count: answered and failed alike
    num_requests: int
    num_failures: int
    duration_s: float
    latency_ms: LatencyMs
    errors: ErrorCounts
    #: "GET /json", ... : the request names locust reported
    names: list[str] = field(default_factory=list)
    #: wall-clock (epoch) span of the requests: first request's start to the last's end
    window: tuple[float, float] | None = None

    @property
    def requests(self) -> int:
        """Requests that got an answer (wrk's meaning): failures without one left out."""
        return max(0, self.num_requests - self.errors.socket)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


def _number(entry: Mapping[str, Any], key: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LoadGeneratorError(f"locust stats entry {entry.get('name')!r}: bad {key!r}")
    return float(value)


def parse_stats_json(text: str) -> list[dict[str, Any]]:
    """The entries of a `--json-file` (a JSON list of objects); LoadGeneratorError otherwise."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LoadGeneratorError(f"locust's JSON stats do not parse: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise LoadGeneratorError("locust's JSON stats are not a list of objects")
    return data


def merge_entries(entries: Sequence[Mapping[str, Any]]) -> LocustStats:
    """Every entry summed (failures all `other` until `errors_by_kind` sorts them): histograms
    added (not averaged), percentiles taken from the sum."""
    histogram: dict[int, int] = {}
    requests = failures = 0
    total_ms = 0.0
    maximum: float | None = None
    starts: list[float] = []
    ends: list[float] = []
    names = []
    for entry in entries:
        count = int(_number(entry, "num_requests"))
        requests += count
        failures += int(_number(entry, "num_failures"))
        names.append(f"{entry.get('method') or ''} {entry.get('name') or ''}".strip())
        if count == 0:
            continue
        total_ms += _number(entry, "total_response_time")
        peak = _number(entry, "max_response_time")
        maximum = peak if maximum is None else max(maximum, peak)
        starts.append(_number(entry, "start_time"))
        ends.append(_number(entry, "last_request_timestamp"))
        buckets = entry.get("response_times")
        if not isinstance(buckets, dict):
            raise LoadGeneratorError(f"locust stats entry {entry.get('name')!r}: no histogram")
        for key, value in buckets.items():
            bucket = int(float(key))
            histogram[bucket] = histogram.get(bucket, 0) + int(value)
    timed = sum(histogram.values())
    if requests == 0 or timed == 0:
        return LocustStats(requests, failures, 0.0, LatencyMs(), ErrorCounts(other=failures), names)
    latency = LatencyMs(
        p50=float(percentile(histogram, timed, 0.50)),
        p90=float(percentile(histogram, timed, 0.90)),
        p99=float(percentile(histogram, timed, 0.99)),
        p999=float(percentile(histogram, timed, 0.999)),
        max=round(maximum, 4) if maximum is not None else None,
        mean=round(total_ms / timed, 4),
    )
    window = (min(starts), max(ends))
    return LocustStats(
        requests,
        failures,
        max(0.0, window[1] - window[0]),
        latency,
        ErrorCounts(other=failures),
        names,
        window,
    )


def parse_failures_csv(text: str) -> list[tuple[str, int]]:
    """(message, occurrences) per row of locust's failures CSV
    (`Method,Name,Error,Occurrences,First Seen,Last Seen`)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    out = []
    for row in rows:
        try:
            out.append((row["Error"] or "", int(row["Occurrences"])))
        except (KeyError, TypeError, ValueError):
            raise LoadGeneratorError(f"locust's failures CSV has a bad row: {row!r}") from None
    return out


def errors_by_kind(failures: Iterable[tuple[str, int]], total: int | None = None) -> ErrorCounts:
    """Failure messages counted into `ErrorCounts`; when `total` (locust's failure count) is
    more than the messages account for, the rest is `other`."""
    counts = ErrorCounts()
    for message, occurrences in failures:
        kind = error_kind(message)
        setattr(counts, kind, getattr(counts, kind) + occurrences)
    if total is not None and total > counts.total:
        counts.other += total - counts.total
    return counts


def read_locust_run(prefix: Path) -> LocustStats:
    """The statistics one run left under `prefix`; LoadGeneratorError when they are missing."""
    json_path = prefix.with_name(prefix.name + JSON_SUFFIX)
    if not json_path.is_file():
        raise LoadGeneratorError(f"locust wrote no statistics ({json_path.name} is missing)")
    stats = merge_entries(parse_stats_json(json_path.read_text(encoding="utf-8")))
    failures_path = prefix.with_name(prefix.name + FINAL_FAILURES_SUFFIX)
    rows = (
        parse_failures_csv(failures_path.read_text(encoding="utf-8"))
        if failures_path.is_file()
        else []
    )
    stats.errors = errors_by_kind(rows, total=stats.num_failures)
    return stats
