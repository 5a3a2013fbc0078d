"""The gate's outputs: `gate.json` (the outcome as data), `gate.md` (its digest for people and
`$GITHUB_STEP_SUMMARY`) and the table cells the terminal shares with gate.md.

gate.md is the gate's own file: a gate run against a run directory never overwrites that run's
`summary.md`.

    gate_path, md_path = write_outputs(outcome, out_dir)
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from covetbench.exceptions import ResultsError
from covetbench.gate.compare import GateOutcome
from covetbench.gate.power import METHOD
from covetbench.gate.rule import BLOCKING_FLAGS, Comparison
from covetbench.records import ALL_FLAG_DESCRIPTIONS
from covetbench.results.files import GATE_JSON, GATE_MD
from covetbench.results.store import atomic_write
from covetbench.verdicts import (
    GATE_INCONCLUSIVE,
    IMPROVEMENT,
    MISSING,
    REGRESSION,
    UNCHANGED,
    UNDERPOWERED,
)

TABLE_HEADER = [
    "app / server",
    "scenario",
    "c",
    "baseline rps",
    "current rps",
    "change",
    "95% CI of change",
    "p (Holm)",
    "detects",
    "verdict",
    "notes",
]
#: column of the verdict in `TABLE_HEADER`
VERDICT_COLUMN = TABLE_HEADER.index("verdict")

_ICONS = {
    REGRESSION: "❌",
    MISSING: "❌",
    IMPROVEMENT: "✅",
    UNCHANGED: "➖",
    UNDERPOWERED: "⚠️",
    GATE_INCONCLUSIVE: "⚠️",
}


def _fmt_ci(c: Comparison) -> str:
    if math.isnan(c.ci_low):
        return "n/a"
    return f"{(c.ci_low - 1) * 100:+.1f}% .. {(c.ci_high - 1) * 100:+.1f}%"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"{p:.2g}" if p >= 0.001 else "<0.001"


def _fmt_detects(c: Comparison) -> str:
    """The smallest drop this comparison catches with 80 % power: what its PASS rules out."""
    if c.detectable_change_pct is None:
        return "nothing" if c.verdict != UNDERPOWERED else "n/a"
    return f"≥ {c.detectable_change_pct:g}% drop"


def table_rows(outcome: GateOutcome) -> list[list[str]]:
    """Cells of the comparison table (terminal and gate.md): compared rows, then missing ones."""
    rows = []
    for c in outcome.comparisons:
        slower = c.ratio <= 1
        p = c.p_value_adjusted if slower else c.p_value_improvement_adjusted
        rows.append(
            [
                f"{c.app} / {c.server}",
                c.scenario,
                f"{c.concurrency} p{c.pipeline}" if c.pipeline > 1 else str(c.concurrency),
                f"{c.baseline_median:,.0f} (n={c.baseline_n})",
                f"{c.current_median:,.0f} (n={c.current_n})",
                f"{c.change_pct:+.1f}%",
                _fmt_ci(c),
                _fmt_p(p),
                _fmt_detects(c),
                c.verdict,
                "; ".join(x for x in [c.note, ", ".join(c.flags)] if x),
            ]
        )
    for m in outcome.missing:
        key = m.key
        c_cell = f"{key.concurrency} p{key.pipeline}" if key.pipeline > 1 else str(key.concurrency)
        rows.append(
            [f"{key.app} / {key.server}", key.scenario, c_cell]
            + ["", "", "", "", "", ""]
            + [m.verdict, m.reason]
        )
    return rows


def row_verdicts(outcome: GateOutcome) -> list[str]:
    """The verdict of each row of `table_rows`, in order (for row styles)."""
    return [c.verdict for c in outcome.comparisons] + [m.verdict for m in outcome.missing]


def render_markdown(outcome: GateOutcome) -> str:
    """`gate.md`: headline, comparison table, unmatched configurations, the rule."""
    cfg = outcome.config
    lines = [f"## covet-bench gate: {outcome.headline}", ""]
    base = outcome.baseline_commit[:12] if outcome.baseline_commit else "?"
    cur = outcome.current_commit[:12] if outcome.current_commit else "?"
    lines.append(f"Baseline `{outcome.baseline}` ({base}) vs current `{outcome.current}` ({cur}).")
    lines.append("")
    rows = table_rows(outcome)
    if rows:
        lines.append("| " + " | ".join(TABLE_HEADER) + " |")
        lines.append("|" + "---|" * len(TABLE_HEADER))
        for row in rows:
            row[VERDICT_COLUMN] = f"{_ICONS.get(row[VERDICT_COLUMN], '')} {row[VERDICT_COLUMN]}"
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        lines.append("")
    if outcome.current_only:
        names = ", ".join(
            f"{k['app']}/{k['server']}/{k['scenario']} c{k['concurrency']}"
            for k in outcome.current_only
        )
        lines += [f"Only in current (no baseline to compare with): {names}", ""]
    for error in outcome.errors:
        lines += [f"Error: {error}", ""]
    flags = sorted({f for c in outcome.comparisons for f in c.flags})
    for flag in flags:
        blocking = " (blocks a pass)" if flag in BLOCKING_FLAGS else ""
        lines.append(f"- `{flag}`{blocking}: {ALL_FLAG_DESCRIPTIONS.get(flag, '')}")
    if flags:
        lines.append("")
    tests = sorted({c.test for c in outcome.comparisons}) or ["mann-whitney"]
    m = outcome.family_size
    lines.append(
        f"Rule: a regression is a one-sided {' / '.join(tests)} p < {cfg.alpha:g} after the "
        f"Holm-Bonferroni correction over the family of {m} configurations, a drop beyond "
        f"{cfg.threshold_pct:g}%, and a {cfg.confidence:.0%} bootstrap interval of the ratio "
        f"entirely below 1. A comparison flagged {', '.join(sorted(BLOCKING_FLAGS))} is "
        f"inconclusive (exit 2) unless its whole interval lies below -{cfg.threshold_pct:g}% "
        "with the same significance; a baseline configuration missing, failed or unverified "
        f'in the current run fails (exit 1). "detects": the {METHOD}. '
        f"Exit code {outcome.exit_code}."
    )
    return "\n".join(lines) + "\n"


def write_outputs(outcome: GateOutcome, out_dir: Path) -> tuple[Path, Path]:
    """Write `gate.json` and `gate.md` into `out_dir` (atomically); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gate_path, md_path = out_dir / GATE_JSON, out_dir / GATE_MD
    try:
        text = json.dumps(_jsonable(outcome.to_dict()), indent=2, allow_nan=False) + "\n"
    except ValueError as exc:  # pragma: no cover - _jsonable removes non-finite numbers
        raise ResultsError(f"{gate_path}: {exc}") from exc
    atomic_write(gate_path, text)
    atomic_write(md_path, render_markdown(outcome))
    return gate_path, md_path


def _jsonable(value: Any) -> Any:
    """NaN and infinities (no ratio when a baseline is 0) become null: JSON has neither."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
