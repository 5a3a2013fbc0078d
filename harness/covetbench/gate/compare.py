"""The regression gate: compare two runs' throughput, configuration by configuration.

The rule, and why. Shared CI runners drift by tens of percent between jobs, so a fixed
percentage against a stored number raises false alarms; a significance test alone flags
differences too small to matter. A configuration (`TrialRecord.key`) is a **regression** only when
all three hold:

1. Mann-Whitney U, one-sided (current below baseline), p < alpha (default 0.01); rank based, as asv.
2. The ratio of medians current/baseline is below 1 - threshold (default 5 %): the drop is large
   enough to matter.
3. The 95 % bootstrap interval of that ratio lies entirely below 1: resampling agrees that there
   is a drop at all. Requiring the whole interval beyond the threshold was rejected: with the 5-10
   trials a CI job can afford the interval spans the trials' spread, so that rule would miss most
   real 10 % regressions while the first two rules already bound false alarms.

With `--paired` (`GateConfig.paired`), trial i of each side is taken as a pair (they ran back
to back in an interleaved A/B run): the Wilcoxon signed-rank test on the per-trial log ratios
replaces Mann-Whitney and the interval is that of the median per-pair ratio; its smallest
one-sided p-value is 1/2^n (7 pairs for alpha 0.01). It is not the default because measured on
this 2-core shared VM (10 interleaved runs, 8 trials per side, CV ~16 % per configuration) the
noise was trial-to-trial, not slow drift, and pairing lost power: a 29 % slowdown was caught
9/10 times unpaired, 7/10 paired, with 0/10 false alarms either way; a 12 % slowdown was missed
10/10 by both (at that noise 8 trials cannot separate 12 %). `paired=None` pairs
automatically when both runs carry `meta.ab`.

An **improvement** is the mirror image. With n trials per side Mann-Whitney cannot go below
1/C(2n, n) (0.0040 at n=5), so a comparison whose sample sizes cannot reach alpha is
**underpowered**: the gate refuses to pass it silently and exits 2 (a data error) naming how many
trials are needed. Validity flags of either side, trial and configuration flags alike
(`unstable`, `too_few_trials`, `implausible` from the summaries), are carried into every
comparison, and a flagged comparison is never an improvement (a regression still is: a slower
figure under interference or noise stays worth a look).

Exit codes (`ExitCode`): 0 pass, 1 a regression, 2 usage or data error (missing or invalid
results, nothing comparable, underpowered).
    outcome = compare_dirs(Path("base"), Path("cur"), GateConfig(threshold_pct=5, alpha=0.01))
    outcome.exit_code   # 0 / 1 / 2
    write_outputs(outcome, Path("cur"))   # gate.json + summary.md
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from covetbench.exceptions import ExitCode, ResultsError
from covetbench.records import FLAG_DESCRIPTIONS, ConfigKey
from covetbench.results.files import GATE_JSON, SUMMARY_MD
from covetbench.results.meta import utc_now
from covetbench.results.store import atomic_write, load_results, trial_records
from covetbench.stats import (
    group_by_key,
    mann_whitney,
    median,
    min_p_value,
    min_p_value_paired,
    paired_ratio_ci,
    ratio_ci,
    wilcoxon_paired,
)
from covetbench.verdicts import IMPROVEMENT, REGRESSION, UNCHANGED, UNDERPOWERED


@dataclass(frozen=True)
class GateConfig:
    """How strict the gate is. `threshold_pct`: smallest change that matters; `alpha`: one-sided
    Mann-Whitney significance level; `confidence`: of the bootstrap ratio interval."""

    threshold_pct: float = 5.0
    alpha: float = 0.01
    confidence: float = 0.95
    #: pair trial i of baseline with trial i of current; None: when both are one A/B run's
    paired: bool | None = False

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold_pct < 100.0:
            raise ValueError(f"threshold must be between 0 and 100 %, not {self.threshold_pct}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be between 0 and 1, not {self.alpha}")


@dataclass
class Comparison:
    """One configuration, baseline against current: a row of `gate.json["comparisons"]`."""

    app: str
    server: str
    scenario: str
    loadgen: str
    concurrency: int
    baseline_n: int
    current_n: int
    baseline_median: float
    current_median: float
    ratio: float
    ci_low: float
    ci_high: float
    #: one-sided Mann-Whitney p-value for "current is slower"
    p_value: float
    #: one-sided Mann-Whitney p-value for "current is faster"
    p_value_improvement: float
    verdict: str
    note: str = ""
    flags: list[str] = field(default_factory=list)
    #: "mann-whitney" (independent runs) or "wilcoxon-paired" (interleaved A/B)
    test: str = "mann-whitney"
    pipeline: int = 1

    @property
    def key(self) -> ConfigKey:
        return ConfigKey.of(asdict(self))

    @property
    def change_pct(self) -> float:
        return (self.ratio - 1.0) * 100.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["change_pct"] = self.change_pct
        return data


@dataclass
class GateOutcome:
    """Everything the gate decided; `to_dict` is `gate.json`."""

    baseline: str
    current: str
    config: GateConfig
    comparisons: list[Comparison]
    baseline_only: list[dict[str, Any]]
    current_only: list[dict[str, Any]]
    baseline_commit: str | None = None
    current_commit: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == REGRESSION]

    @property
    def exit_code(self) -> int:
        if self.regressions:
            return ExitCode.FAILURE
        if self.errors or not self.comparisons:
            return ExitCode.ERROR
        if any(c.verdict == UNDERPOWERED for c in self.comparisons):
            return ExitCode.ERROR
        return ExitCode.OK

    @property
    def headline(self) -> str:
        if self.errors and not self.comparisons:
            return "ERROR: " + "; ".join(self.errors)
        if not self.comparisons:
            return "ERROR: nothing comparable between baseline and current"
        n = len(self.comparisons)
        if self.regressions:
            return f"FAIL: {len(self.regressions)} of {n} configurations regressed"
        weak = [c for c in self.comparisons if c.verdict == UNDERPOWERED]
        if weak:
            return f"ERROR: {len(weak)} of {n} comparisons are underpowered: {weak[0].note}"
        return f"PASS: no regression beyond {self.config.threshold_pct:g}% in {n} configurations"

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "current": self.current,
            "baseline_commit": self.baseline_commit,
            "current_commit": self.current_commit,
            "threshold_pct": self.config.threshold_pct,
            "alpha": self.config.alpha,
            "confidence": self.config.confidence,
            "metric": "rps",
            "rule": (
                "regression when the one-sided test (Mann-Whitney; Wilcoxon signed-rank on "
                "paired A/B trials) gives p < alpha AND the ratio of medians < 1 - threshold "
                "AND the bootstrap interval of the ratio lies below 1"
            ),
            "generated_at": utc_now(),
            "headline": self.headline,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "baseline_only": self.baseline_only,
            "current_only": self.current_only,
            "errors": self.errors,
            "exit_code": self.exit_code,
        }


def trials_needed(alpha: float, paired: bool = False) -> int:
    """Smallest equal number of trials per side for which the test can reach `alpha`."""
    n = 1
    while (min_p_value_paired(n) if paired else min_p_value(n, n)) >= alpha:
        n += 1
    return n


def _key_dict(key: Sequence[Any]) -> dict[str, Any]:
    """A key (a `ConfigKey`, or a plain tuple without the pipeline depth) as named fields."""
    return ConfigKey(*key)._asdict()


def compare_samples(
    key: Sequence[Any],
    baseline: Sequence[float],
    current: Sequence[float],
    config: GateConfig,
    flags: Sequence[str] = (),
    paired: bool = False,
) -> Comparison:
    """Apply the gate's rule (module docstring) to one configuration's two samples of rps.

    `paired`: `baseline[i]` and `current[i]` ran back to back (same length required).
    """
    base_median, cur_median = median(baseline), median(current)
    positive = min(min(baseline), min(current)) > 0
    if paired and positive:
        ratio, low, high = paired_ratio_ci(baseline, current, confidence=config.confidence)
        p_less = wilcoxon_paired(baseline, current, "less")
        p_greater = wilcoxon_paired(baseline, current, "greater")
        floor = min_p_value_paired(len(baseline))
    else:
        paired = False
        if base_median > 0:
            ratio, low, high = ratio_ci(baseline, current, confidence=config.confidence)
        else:
            ratio, low, high = math.inf if cur_median > 0 else 1.0, math.nan, math.nan
        p_less = mann_whitney(baseline, current, "less")
        p_greater = mann_whitney(baseline, current, "greater")
        floor = min_p_value(len(baseline), len(current))
    limit = config.threshold_pct / 100.0
    note = ""
    if floor >= config.alpha:
        verdict = UNDERPOWERED
        note = (
            f"{len(baseline)} vs {len(current)} trials cannot reach p < {config.alpha:g}; "
            f"need {trials_needed(config.alpha, paired)} per side"
        )
    elif p_less < config.alpha and ratio < 1.0 - limit and high < 1.0:
        verdict = REGRESSION
    elif p_greater < config.alpha and ratio > 1.0 + limit and low > 1.0:
        verdict = IMPROVEMENT
        if flags:
            # a figure that measured the generator, a neighbour or noise cannot prove a gain
            verdict = UNCHANGED
            note = f"faster, but flagged ({', '.join(sorted(set(flags)))}): not an improvement"
    else:
        verdict = UNCHANGED
        if p_less < config.alpha and ratio < 1.0:
            note = f"significant but within the {config.threshold_pct:g}% threshold"
        elif ratio < 1.0 - limit:
            note = f"drop not significant (p={p_less:.3g})"
    return Comparison(
        **_key_dict(key),
        baseline_n=len(baseline),
        current_n=len(current),
        baseline_median=base_median,
        current_median=cur_median,
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        p_value=p_less,
        p_value_improvement=p_greater,
        verdict=verdict,
        note=note,
        flags=sorted(set(flags)),
        test="wilcoxon-paired" if paired else "mann-whitney",
    )


def _config_flags(results: Mapping[str, Any]) -> set[tuple[ConfigKey, str]]:
    """(key, flag) for every configuration flag in a results document's summary."""
    return {
        (ConfigKey.of(row), str(flag))
        for row in results.get("summary") or []
        for flag in row.get("config_flags") or []
    }


def compare_results(
    baseline: Mapping[str, Any],
    current: Mapping[str, Any],
    config: GateConfig,
    baseline_label: str = "baseline",
    current_label: str = "current",
) -> GateOutcome:
    """Compare two loaded `results.json` documents (see `load_results`)."""
    base_groups = group_by_key(trial_records(baseline))
    cur_groups = group_by_key(trial_records(current))
    paired = config.paired
    if paired is None:
        paired = bool(baseline["meta"].get("ab")) and bool(current["meta"].get("ab"))
    config_flags = _config_flags(baseline) | _config_flags(current)
    comparisons: list[Comparison] = []
    for key, cur_trials in cur_groups.items():
        base_trials = base_groups.get(key)
        if base_trials is None:
            continue
        flags = {f for t in [*base_trials, *cur_trials] for f in t.flags}
        flags |= {flag for side_key, flag in config_flags if side_key == key}
        if paired:
            base_by = {t.trial: t.rps for t in base_trials}
            cur_by = {t.trial: t.rps for t in cur_trials}
            common = sorted(set(base_by) & set(cur_by))
            base_rps, cur_rps = [base_by[i] for i in common], [cur_by[i] for i in common]
        else:
            base_rps, cur_rps = [t.rps for t in base_trials], [t.rps for t in cur_trials]
        if not base_rps:
            continue
        comparisons.append(compare_samples(key, base_rps, cur_rps, config, list(flags), paired))
    return GateOutcome(
        baseline=baseline_label,
        current=current_label,
        config=config,
        comparisons=comparisons,
        baseline_only=[_key_dict(k) for k in base_groups if k not in cur_groups],
        current_only=[_key_dict(k) for k in cur_groups if k not in base_groups],
        baseline_commit=baseline["meta"].get("git_commit"),
        current_commit=current["meta"].get("git_commit"),
    )


def compare_dirs(baseline_dir: Path, current_dir: Path, config: GateConfig) -> GateOutcome:
    """Load and compare two run directories; missing or invalid results raise `ResultsError`."""
    baseline = load_results(baseline_dir)
    current = load_results(current_dir)
    return compare_results(baseline, current, config, str(baseline_dir), str(current_dir))


def error_outcome(baseline: str, current: str, config: GateConfig, message: str) -> GateOutcome:
    """An outcome carrying only an error (exit code 2), so gate.json is written even then."""
    return GateOutcome(baseline, current, config, [], [], [], errors=[message])


# -- rendering -----------------------------------------------------------------------------------


def _fmt_ci(c: Comparison) -> str:
    if math.isnan(c.ci_low):
        return "n/a"
    return f"{(c.ci_low - 1) * 100:+.1f}% .. {(c.ci_high - 1) * 100:+.1f}%"


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else "<0.001"


_ICONS = {REGRESSION: "❌", IMPROVEMENT: "✅", UNCHANGED: "➖", UNDERPOWERED: "⚠️"}


def table_rows(outcome: GateOutcome) -> list[list[str]]:
    """Cells of the comparison table (shared by the terminal table and summary.md)."""
    rows = []
    for c in outcome.comparisons:
        rows.append(
            [
                f"{c.app} / {c.server}",
                c.scenario,
                f"{c.concurrency} p{c.pipeline}" if c.pipeline > 1 else str(c.concurrency),
                f"{c.baseline_median:,.0f} (n={c.baseline_n})",
                f"{c.current_median:,.0f} (n={c.current_n})",
                f"{c.change_pct:+.1f}%",
                _fmt_ci(c),
                _fmt_p(c.p_value if c.ratio <= 1 else c.p_value_improvement),
                c.verdict,
                "; ".join(x for x in [c.note, ", ".join(c.flags)] if x),
            ]
        )
    return rows


TABLE_HEADER = [
    "app / server",
    "scenario",
    "c",
    "baseline rps",
    "current rps",
    "change",
    "95% CI of change",
    "p",
    "verdict",
    "notes",
]


def render_markdown(outcome: GateOutcome) -> str:
    """`summary.md`: headline, comparison table, unmatched configurations, the rule."""
    cfg = outcome.config
    lines = [f"## covet-bench gate: {outcome.headline}", ""]
    base = outcome.baseline_commit[:12] if outcome.baseline_commit else "?"
    cur = outcome.current_commit[:12] if outcome.current_commit else "?"
    lines.append(f"Baseline `{outcome.baseline}` ({base}) vs current `{outcome.current}` ({cur}).")
    lines.append("")
    if outcome.comparisons:
        lines.append("| " + " | ".join(TABLE_HEADER) + " |")
        lines.append("|" + "---|" * len(TABLE_HEADER))
        for row in table_rows(outcome):
            row[8] = f"{_ICONS.get(row[8], '')} {row[8]}"
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        lines.append("")
    for label, keys in (
        ("Only in baseline", outcome.baseline_only),
        ("Only in current", outcome.current_only),
    ):
        if keys:
            names = ", ".join(ConfigKey.of(k).label for k in keys)
            lines += [f"{label} (not compared): {names}", ""]
    for error in outcome.errors:
        lines += [f"Error: {error}", ""]
    flags = sorted({f for c in outcome.comparisons for f in c.flags})
    for flag in flags:
        lines.append(f"- `{flag}`: {FLAG_DESCRIPTIONS.get(flag, '')}")
    if flags:
        lines.append("")
    tests = sorted({c.test for c in outcome.comparisons}) or ["mann-whitney"]
    lines.append(
        f"Rule: a regression is a one-sided {' / '.join(tests)} p < {cfg.alpha:g}, a drop beyond "
        f"{cfg.threshold_pct:g}%, and a {cfg.confidence:.0%} bootstrap interval of the ratio "
        "entirely below 1. Exit code "
        f"{outcome.exit_code}."
    )
    return "\n".join(lines) + "\n"


def write_outputs(outcome: GateOutcome, out_dir: Path) -> tuple[Path, Path]:
    """Write `gate.json` and `summary.md` into `out_dir` (atomically); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gate_path, md_path = out_dir / GATE_JSON, out_dir / SUMMARY_MD
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
