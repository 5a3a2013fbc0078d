"""Baseline comparison rows: taken from `gate.json` when the gate ran, else computed here.

The gate's verdicts are authoritative (it knows the threshold and alpha it was run with). When
only `--baseline DIR` is given, the report compares matching configurations itself with the same
statistics the gate uses (`covetbench.stats`): ratio of medians with a bootstrap interval and a
one-sided Mann-Whitney test, at the gate's default threshold and alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from covetbench.records import TrialRecord
from covetbench.report.inputs import ReportInputs
from covetbench.stats import group_by_key, mann_whitney, median, ratio_ci

DEFAULT_THRESHOLD_PCT = 5.0
DEFAULT_ALPHA = 0.01
_KEY_FIELDS = ("app", "server", "scenario", "loadgen", "concurrency")


@dataclass(frozen=True)
class Comparison:
    """One configuration measured in both runs; ratio = current / baseline."""

    label: str
    baseline_median: float
    current_median: float
    ratio: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str  # "regression" | "improvement" | "no change" | whatever the gate said

    @property
    def delta_pct(self) -> float:
        return (self.ratio - 1.0) * 100.0


@dataclass(frozen=True)
class BaselineView:
    source: str
    threshold_pct: float | None
    alpha: float | None
    comparisons: list[Comparison]

    @property
    def regressions(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == "regression"]


def _label(row: dict[str, Any]) -> str:
    parts = [str(row[k]) for k in _KEY_FIELDS if row.get(k) not in (None, "")]
    if "concurrency" in row:
        parts[-1] = f"c{row['concurrency']}"
    return " · ".join(parts) or str(row.get("key", "?"))


def _verdict(text: Any) -> str:
    word = str(text or "").lower()
    if "regress" in word or word == "fail":
        return "regression"
    if "improv" in word or "faster" in word:
        return "improvement"
    return word or "no change"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _from_gate(gate: dict[str, Any]) -> BaselineView:
    rows = []
    for row in gate.get("comparisons") or []:
        ratio = _number(row.get("ratio"))
        base, cur = _number(row.get("baseline_median")), _number(row.get("current_median"))
        if ratio is None and base and cur is not None:
            ratio = cur / base
        if ratio is None:
            continue
        rows.append(
            Comparison(
                label=_label(row),
                baseline_median=base or 0.0,
                current_median=cur or 0.0,
                ratio=ratio,
                ci_low=_number(row.get("ci_low")),
                ci_high=_number(row.get("ci_high")),
                p_value=_number(row.get("p_value")),
                verdict=_verdict(row.get("verdict")),
            )
        )
    return BaselineView(
        source=f"gate.json (baseline {gate.get('baseline', '?')})",
        threshold_pct=_number(gate.get("threshold_pct")),
        alpha=_number(gate.get("alpha")),
        comparisons=rows,
    )


def _compare(base: list[TrialRecord], cur: list[TrialRecord], label: str) -> Comparison | None:
    base_rps, cur_rps = [t.rps for t in base], [t.rps for t in cur]
    try:
        ratio, low, high = ratio_ci(base_rps, cur_rps)
    except ValueError:
        return None
    p_less = mann_whitney(base_rps, cur_rps, alternative="less")
    p_greater = mann_whitney(base_rps, cur_rps, alternative="greater")
    big = abs(ratio - 1.0) * 100.0 > DEFAULT_THRESHOLD_PCT
    verdict = "no change"
    if big and ratio < 1.0 and p_less < DEFAULT_ALPHA:
        verdict = "regression"
    elif big and ratio > 1.0 and p_greater < DEFAULT_ALPHA:
        verdict = "improvement"
    return Comparison(
        label=label,
        baseline_median=median(base_rps),
        current_median=median(cur_rps),
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        p_value=min(p_less, p_greater),
        verdict=verdict,
    )


def baseline_view(inputs: ReportInputs) -> BaselineView | None:
    """The comparison to show, or None when there is neither gate.json nor a usable baseline."""
    if inputs.gate is not None:
        return _from_gate(inputs.gate)
    if not inputs.baseline_trials or not inputs.trials:
        return None
    baseline = group_by_key(inputs.baseline_trials)
    rows = []
    for key, trials in group_by_key(inputs.trials).items():
        if key in baseline:
            row = _compare(baseline[key], trials, _label(dict(zip(_KEY_FIELDS, key, strict=True))))
            if row is not None:
                rows.append(row)
    return BaselineView(
        source=f"{inputs.baseline_dir} (computed by the report)",
        threshold_pct=DEFAULT_THRESHOLD_PCT,
        alpha=DEFAULT_ALPHA,
        comparisons=rows,
    )
