"""github-action-benchmark's custom tools: a JSON list of `{name, unit, value, range?, extra?}`.

Throughput goes to the `customBiggerIsBetter` tool, latency to `customSmallerIsBetter` (the tool
decides which way is worse, so one file holds one direction). `range` is a free-text spread (the
half-width of the median's interval), `extra` the tooltip text: trials, interval and its level,
CV and flags.

    - uses: benchmark-action/github-action-benchmark@v1
      with: {tool: customBiggerIsBetter, output-file-path: throughput.json}
"""

from __future__ import annotations

from typing import Any

from covetbench.export.bmf import benchmark_name
from covetbench.records import ConfigSummary

#: measure name -> (github-action-benchmark tool, unit)
MEASURES: dict[str, tuple[str, str]] = {
    "throughput": ("customBiggerIsBetter", "req/s"),
    "latency-p50": ("customSmallerIsBetter", "ms"),
    "latency-p99": ("customSmallerIsBetter", "ms"),
}


def _extra(s: ConfigSummary) -> str:
    level = s.interval_note or "95 %"
    lines = [
        f"median of {s.trials} trials ({s.valid_trials} unflagged)",
        f"interval {s.ci_low:,.0f}..{s.ci_high:,.0f} req/s ({level})",
        f"CV {s.cv * 100:.1f} %",
    ]
    if s.all_flags:
        lines.append("flags: " + ", ".join(s.all_flags))
    return "\n".join(lines)


def entries(summaries: list[ConfigSummary], measure: str = "throughput") -> list[dict[str, Any]]:
    """The tool's JSON list for `measure` (a key of `MEASURES`)."""
    _, unit = MEASURES[measure]
    rows: list[dict[str, Any]] = []
    for s in summaries:
        if measure == "throughput":
            half = (s.ci_high - s.ci_low) / 2.0
            rows.append(
                {
                    "name": benchmark_name(s),
                    "unit": unit,
                    "value": s.median_rps,
                    "range": f"± {half:,.0f}",
                    "extra": _extra(s),
                }
            )
            continue
        value = s.median_latency_ms.get(measure.removeprefix("latency-"))
        if value is not None:
            rows.append(
                {"name": benchmark_name(s), "unit": unit, "value": value, "extra": _extra(s)}
            )
    return rows
