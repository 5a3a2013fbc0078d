"""HdrHistograms of latency in microseconds: one shape for every recorder, merged losslessly.

Each open-loop process records into its own histogram and hands it back encoded (HdrHistogram's
compressed base64 form); the parent adds the encodings into one histogram and reads the
percentiles from that. Percentiles are never averaged across processes: the p99 of two halves
is not the mean of their p99s, and a stall seen by one process must stay in the merged tail.

    hist = new_histogram()
    hist.record_value(1_250)                 # 1.25 ms
    merged = merge([hist.encode(), other])   # exact: counts are added bucket by bucket
    latency_of(merged).p99                   # in ms
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from covetbench.exceptions import LoadGeneratorError
from covetbench.records import LatencyMs

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram

#: the range every histogram covers: 1 us .. 10 min (a timeout is far below), 3 significant
#: digits (a recorded value is within 0.1 % of the true one)
LOWEST_US = 1
HIGHEST_US = 600_000_000
SIGNIFICANT_DIGITS = 3

MISSING_HINT = (
    "the open-loop generator needs the hdrhistogram package: pip install 'covetpy[bench]'"
)


def _histogram_class() -> type[HdrHistogram]:
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError as exc:
        raise LoadGeneratorError(MISSING_HINT) from exc
    histogram_class: type[HdrHistogram] = HdrHistogram
    return histogram_class


def new_histogram() -> HdrHistogram:
    """An empty histogram of the shared shape (so any two can be added)."""
    return _histogram_class()(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_us(hist: HdrHistogram, value_us: float) -> None:
    """Record one latency, clamped into the histogram's range (a value past it would be lost)."""
    hist.record_value(min(HIGHEST_US, max(LOWEST_US, round(value_us))))


def encode(hist: HdrHistogram) -> str:
    """The histogram's lossless compressed base64 form, as text."""
    encoded: bytes = hist.encode()
    return encoded.decode("ascii")


def merge(encoded: Iterable[str]) -> HdrHistogram:
    """One histogram holding every count of `encoded` (added, never averaged)."""
    merged = new_histogram()
    for text in encoded:
        if text:
            merged.decode_and_add(text.encode("ascii"))
    return merged


def _ms(value_us: float) -> float:
    return round(value_us / 1000.0, 4)


def latency_of(hist: HdrHistogram) -> LatencyMs:
    """p50, p90, p99, p99.9, max and mean in ms; all None when nothing was recorded."""
    if hist.get_total_count() == 0:
        return LatencyMs()
    return LatencyMs(
        p50=_ms(hist.get_value_at_percentile(50.0)),
        p90=_ms(hist.get_value_at_percentile(90.0)),
        p99=_ms(hist.get_value_at_percentile(99.0)),
        p999=_ms(hist.get_value_at_percentile(99.9)),
        max=_ms(hist.get_max_value()),
        mean=_ms(hist.get_mean_value()),
    )
