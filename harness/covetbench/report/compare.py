"""Baseline comparison rows, always decided by the gate's rule (`covetbench.gate.compare`).

With `gate.json` in the directory the report shows the gate's own verdicts (it knows the
threshold and alpha it ran with). With only `--baseline DIR`, the report asks the gate to compare
the two directories at its default strictness, so the page and `covet-bench gate` never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from covetbench.exceptions import ResultsError
from covetbench.gate.compare import GateConfig, compare_dirs
from covetbench.report.inputs import ReportInputs
from covetbench.verdicts import REGRESSION, UNCHANGED


@dataclass(frozen=True)
class BaselineRow:
    """A `gate.json` comparison row as the page shows it: labelled, and tolerant of a partial or
    older file (missing intervals are None). The record itself is `gate.compare.Comparison`;
    ratio = current / baseline."""

    label: str
    baseline_median: float
    current_median: float
    ratio: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str  # the gate's: regression | improvement | unchanged | underpowered
    note: str = ""

    @property
    def delta_pct(self) -> float:
        return (self.ratio - 1.0) * 100.0


@dataclass(frozen=True)
class BaselineView:
    source: str
    headline: str
    threshold_pct: float | None
    alpha: float | None
    comparisons: list[BaselineRow]

    @property
    def regressions(self) -> list[BaselineRow]:
        return [c for c in self.comparisons if c.verdict == REGRESSION]


def _label(row: dict[str, Any]) -> str:
    names = ("app", "server", "scenario", "loadgen")
    parts = [str(row[k]) for k in names if row.get(k) not in (None, "")]
    if row.get("concurrency") is not None:
        parts.append(f"c{row['concurrency']}")
    if (row.get("pipeline") or 1) > 1:
        parts.append(f"p{row['pipeline']}")
    return " · ".join(parts) or "?"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _view(gate: dict[str, Any], source: str) -> BaselineView:
    rows = []
    for row in gate.get("comparisons") or []:
        if not isinstance(row, dict) or (ratio := _number(row.get("ratio"))) is None:
            continue
        rows.append(
            BaselineRow(
                label=_label(row),
                baseline_median=_number(row.get("baseline_median")) or 0.0,
                current_median=_number(row.get("current_median")) or 0.0,
                ratio=ratio,
                ci_low=_number(row.get("ci_low")),
                ci_high=_number(row.get("ci_high")),
                p_value=_number(row.get("p_value")),
                verdict=str(row.get("verdict") or UNCHANGED).lower(),
                note=str(row.get("note") or ""),
            )
        )
    return BaselineView(
        source=source,
        headline=str(gate.get("headline") or ""),
        threshold_pct=_number(gate.get("threshold_pct")),
        alpha=_number(gate.get("alpha")),
        comparisons=rows,
    )


def baseline_view(inputs: ReportInputs) -> BaselineView | None:
    """The comparison to show, or None when there is neither gate.json nor a baseline."""
    if inputs.gate is not None:
        return _view(inputs.gate, f"gate.json (baseline {inputs.gate.get('baseline', '?')})")
    if inputs.baseline_dir is None or not inputs.has_results or not inputs.baseline_trials:
        return None
    try:
        outcome = compare_dirs(inputs.baseline_dir, inputs.directory, GateConfig())
    except ResultsError as exc:
        inputs.problems.append(f"baseline comparison failed: {exc}")
        return None
    return _view(outcome.to_dict(), f"{inputs.baseline_dir}, compared by the gate's rule")
