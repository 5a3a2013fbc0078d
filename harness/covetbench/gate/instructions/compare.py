"""The instructions gate's verdict: a stored or freshly measured `instructions.json` against a
baseline (a stored one, or a git revision measured with the same driver).

A target whose count grew by more than `threshold_pct` (default 1 %) is a regression: exit 0
pass, 1 regression, 2 usage or data error (`ExitCode`).

Each side's figure is a median over heap layouts (`measure`), and the layouts themselves can
disagree by about 1 % on the server path (147,011 and 148,507 for one commit's
server-python/covet/plaintext, 2026-12-05). So a change beyond the threshold counts only when
the two sides' layout ranges do not overlap (every current layout above every baseline one, or
below for an improvement); otherwise it is `unchanged`, marked `within_layout_spread`.
Documents without `per_layout` (older files) are judged on their single figure.

    outcome = compare(baseline_doc, current_doc, threshold_pct=1.0)
    write_outputs(out_dir, current_doc, baseline_doc, outcome, "origin/main")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.exceptions import ExitCode, ResultsError
from covetbench.results.files import INSTRUCTIONS_JSON, SUMMARY_MD
from covetbench.results.store import atomic_write
from covetbench.verdicts import IMPROVEMENT, REGRESSION, UNCHANGED


def load_document(path: Path) -> dict[str, Any]:
    """A stored `instructions.json` (or the directory holding one); ResultsError if unusable."""
    file = path / INSTRUCTIONS_JSON if path.is_dir() else path
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"cannot read {file}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("measurements"), list):
        raise ResultsError(f"{file}: no 'measurements' list")
    for item in doc["measurements"]:
        if not isinstance(item, dict) or not isinstance(
            item.get("instructions_per_request"), int | float
        ):
            raise ResultsError(f"{file}: a measurement lacks instructions_per_request")
    return doc


@dataclass
class InstructionsComparison:
    """One target, baseline against current: two exact counts, no sample (hence not the
    statistical gate's `Comparison`)."""

    key: str
    baseline: float
    current: float
    verdict: str
    #: the change passed the threshold but the sides' heap-layout ranges overlap
    within_layout_spread: bool = False

    @property
    def change_pct(self) -> float:
        return (self.current / self.baseline - 1.0) * 100.0 if self.baseline else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "baseline": self.baseline,
            "current": self.current,
            "change_pct": round(self.change_pct, 3),
            "verdict": self.verdict,
            "within_layout_spread": self.within_layout_spread,
        }


@dataclass
class InstructionsOutcome:
    """The verdict of one deterministic gate run."""

    threshold_pct: float
    comparisons: list[InstructionsComparison] = field(default_factory=list)
    baseline_only: list[str] = field(default_factory=list)
    current_only: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None or not self.comparisons:
            return ExitCode.ERROR
        if any(c.verdict == REGRESSION for c in self.comparisons):
            return ExitCode.FAILURE
        return ExitCode.OK

    @property
    def headline(self) -> str:
        if self.error is not None:
            return f"error: {self.error}"
        if not self.comparisons:
            return "error: nothing comparable between baseline and current"
        worse = [c for c in self.comparisons if c.verdict == REGRESSION]
        if worse:
            return (
                f"REGRESSION: {len(worse)} of {len(self.comparisons)} targets over "
                f"+{self.threshold_pct:g}% instructions per request"
            )
        return f"pass: {len(self.comparisons)} targets within +{self.threshold_pct:g}%"


def _per_request(doc: Mapping[str, Any]) -> dict[str, float]:
    return {m["key"]: float(m["instructions_per_request"]) for m in doc["measurements"]}


def _layout_range(doc: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Lowest and highest count over each target's heap layouts (its figure when not kept)."""
    ranges = {}
    for m in doc["measurements"]:
        values = [float(v) for v in m.get("per_layout") or [m["instructions_per_request"]]]
        ranges[m["key"]] = (min(values), max(values))
    return ranges


def compare(
    baseline: Mapping[str, Any], current: Mapping[str, Any], threshold_pct: float
) -> InstructionsOutcome:
    """Targets present on both sides, each judged against `threshold_pct`."""
    base, cur = _per_request(baseline), _per_request(current)
    base_range, cur_range = _layout_range(baseline), _layout_range(current)
    outcome = InstructionsOutcome(threshold_pct)
    outcome.baseline_only = [k for k in base if k not in cur]
    outcome.current_only = [k for k in cur if k not in base]
    for key, value in cur.items():
        if key not in base:
            continue
        change = (value / base[key] - 1.0) * 100.0 if base[key] else 0.0
        (base_low, base_high), (cur_low, cur_high) = base_range[key], cur_range[key]
        verdict, spread = UNCHANGED, False
        if change > threshold_pct:
            verdict, spread = (REGRESSION, False) if cur_low > base_high else (UNCHANGED, True)
        elif change < -threshold_pct:
            verdict, spread = (IMPROVEMENT, False) if cur_high < base_low else (UNCHANGED, True)
        outcome.comparisons.append(InstructionsComparison(key, base[key], value, verdict, spread))
    return outcome


def summary_markdown(
    current: Mapping[str, Any], outcome: InstructionsOutcome | None, baseline_label: str | None
) -> str:
    """`summary.md`: a table of instructions per request, with the verdicts when compared."""
    meta = current.get("meta", {})
    lines = ["# covet-bench instructions (callgrind, instructions per request)", ""]
    commit = meta.get("git_commit")
    lines.append(
        f"Current: `{(commit or 'unknown')[:12]}`; requests {meta.get('requests_low')} and "
        f"{meta.get('requests_high')}; {meta.get('valgrind') or 'valgrind'}."
    )
    if outcome is None:
        lines += ["", "| target | instructions/request |", "|---|---:|"]
        for m in current["measurements"]:
            lines.append(f"| {m['key']} | {m['instructions_per_request']:,.0f} |")
        return "\n".join(lines) + "\n"
    lines += [
        f"Baseline: {baseline_label}; threshold +{outcome.threshold_pct:g}%.",
        "",
        f"**{outcome.headline}**",
        "",
        "| target | baseline | current | change | verdict |",
        "|---|---:|---:|---:|---|",
    ]
    for c in outcome.comparisons:
        spread = " (within the heap layouts' spread)" if c.within_layout_spread else ""
        lines.append(
            f"| {c.key} | {c.baseline:,.0f} | {c.current:,.0f} | {c.change_pct:+.2f}% | "
            f"{c.verdict}{spread} |"
        )
    for keys, side in ((outcome.baseline_only, "baseline"), (outcome.current_only, "current")):
        for key in keys:
            lines.append(f"| {key} | | | | only in {side} |")
    return "\n".join(lines) + "\n"


def write_outputs(
    out_dir: Path,
    current: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    outcome: InstructionsOutcome | None,
    baseline_label: str | None,
) -> tuple[Path, Path]:
    """Write `instructions.json` (current side; baseline and verdicts if any) and `summary.md`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = dict(current)
    if outcome is not None:
        doc["gate"] = {
            "baseline": baseline_label,
            "baseline_measurements": baseline["measurements"] if baseline else [],
            "threshold_pct": outcome.threshold_pct,
            "comparisons": [c.as_dict() for c in outcome.comparisons],
            "baseline_only": outcome.baseline_only,
            "current_only": outcome.current_only,
            "error": outcome.error,
            "exit_code": outcome.exit_code,
        }
    json_path, md_path = out_dir / INSTRUCTIONS_JSON, out_dir / SUMMARY_MD
    atomic_write(json_path, json.dumps(doc, indent=2) + "\n")
    atomic_write(md_path, summary_markdown(current, outcome, baseline_label))
    return json_path, md_path
