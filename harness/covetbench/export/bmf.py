"""Bencher Metric Format: `{benchmark name: {measure slug: {value, lower_value?, upper_value?}}}`.

Bencher's built-in measures are `throughput` (operations/s) and `latency` (nanoseconds); a slug
it does not know (`latency-p99`) is created on upload. Throughput carries the interval of the
median the run computed (its level is in results.json: with 2-3 trials it is min-max, 50-75 %).

    bencher run --adapter json --file bmf.json
"""

from __future__ import annotations

from typing import Any

from covetbench.records import ConfigSummary

NS_PER_MS = 1_000_000.0


def benchmark_name(summary: ConfigSummary) -> str:
    """One name per configuration, the same in every export: `app/server/scenario c64`."""
    return summary.key.label


def bmf_document(summaries: list[ConfigSummary]) -> dict[str, dict[str, dict[str, float]]]:
    """The BMF JSON object for these configurations."""
    doc: dict[str, dict[str, dict[str, float]]] = {}
    for s in summaries:
        measures: dict[str, dict[str, float]] = {
            "throughput": {
                "value": s.median_rps,
                "lower_value": s.ci_low,
                "upper_value": s.ci_high,
            }
        }
        for slug, key in (("latency", "p50"), ("latency-p99", "p99")):
            value: Any = s.median_latency_ms.get(key)
            if isinstance(value, int | float):
                measures[slug] = {"value": float(value) * NS_PER_MS}
        doc[benchmark_name(s)] = measures
    return doc
