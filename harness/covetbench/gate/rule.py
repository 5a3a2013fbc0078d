"""The gate's rule for one configuration: the statistics of two samples, and the verdict.

Shared CI runners drift by tens of percent between jobs, so a fixed percentage against a stored
number raises false alarms; a significance test alone flags differences too small to matter. A
configuration (`ConfigKey`) is a **regression** only when all three hold:

1. the one-sided test (current below baseline) gives p < alpha after the Holm-Bonferroni
   correction over the gate's configurations (`covetbench.gate.family`): Mann-Whitney U for
   independent runs, rank based as asv; the Wilcoxon signed-rank test on per-trial log ratios
   for paired A/B trials;
2. the ratio of medians current/baseline is below 1 - threshold (default 5 %): the drop matters;
3. the 95 % bootstrap interval of that ratio lies entirely below 1: resampling agrees there is a
   drop at all. Requiring the whole interval beyond the threshold was rejected for clean
   comparisons: with the 5-10 trials a CI job affords, that would miss most real 10 % drops.

An **improvement** is the mirror image, and never for a comparison carrying any flag.

A comparison where either side carries a flag of `BLOCKING_FLAGS` (`errors`,
`generator_bound`, `unstable`, `implausible`: the figure measured failures, the generator or
noise) can neither pass nor improve: it is **inconclusive** (exit 2) unless it is a
**regression beyond doubt**, defined as: the Holm-adjusted one-sided p < alpha AND the whole
bootstrap interval of the ratio below 1 - threshold (not merely below 1). A flag can make a
figure look slower or faster by any amount, but not consistently across resampling beyond the
threshold while the rank test agrees; such a drop fails the gate whatever the flags.

Other flags (`interference`, `server_unsaturated`, `littles_law_mismatch`, `too_few_trials`)
are reported with the comparison and forbid an improvement, but a clean-looking pass stays a
pass: the runner already repeated disturbed trials, and `underpowered` covers too few trials.

**underpowered**: with n trials a side the test cannot go below 1/C(2n, n) (Mann-Whitney) or
1/2^n (signed-rank); when that floor is not below the corrected level alpha / family size no
difference can be called significant, so the gate refuses to pass silently (exit 2) and names
the trials needed.

    comp = compare_samples(key, base_rps, cur_rps, GateConfig())   # a family of one
    comp.verdict, comp.detectable_change_pct
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from covetbench.gate.power import log_sd
from covetbench.records import (
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    FLAG_IMPLAUSIBLE,
    FLAG_UNSTABLE,
    ConfigKey,
)
from covetbench.stats import (
    mann_whitney,
    median,
    min_p_value,
    min_p_value_paired,
    paired_ratio_ci,
    ratio_ci,
    wilcoxon_paired,
)
from covetbench.verdicts import (
    GATE_INCONCLUSIVE,
    IMPROVEMENT,
    REGRESSION,
    UNCHANGED,
    UNDERPOWERED,
)

#: flags after which a comparison cannot pass or improve (trial and configuration flags alike)
BLOCKING_FLAGS = frozenset({FLAG_ERRORS, FLAG_GENERATOR_BOUND, FLAG_UNSTABLE, FLAG_IMPLAUSIBLE})

TEST_MANN_WHITNEY = "mann-whitney"
TEST_WILCOXON_PAIRED = "wilcoxon-paired"


@dataclass(frozen=True)
class GateConfig:
    """How strict the gate is. `threshold_pct`: smallest change that matters; `alpha`: the
    family-wise significance level (Holm over the gate's configurations); `confidence`: of the
    bootstrap ratio interval."""

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
    #: one-sided p-value for "current is slower", before the family-wise correction
    p_value: float
    #: one-sided p-value for "current is faster", before the correction
    p_value_improvement: float
    verdict: str = ""
    note: str = ""
    flags: list[str] = field(default_factory=list)
    #: `TEST_MANN_WHITNEY` (independent runs) or `TEST_WILCOXON_PAIRED` (interleaved A/B)
    test: str = TEST_MANN_WHITNEY
    pipeline: int = 1
    #: Holm-adjusted p-values (`covetbench.gate.family`); the verdict is decided on these
    p_value_adjusted: float | None = None
    p_value_improvement_adjusted: float | None = None
    #: how many configurations the correction ran over
    family_size: int = 1
    #: spread of log(requests/s) per side, and of the per-pair log ratios when paired
    baseline_log_sd: float = 0.0
    current_log_sd: float = 0.0
    pair_log_sd: float | None = None
    #: smallest drop in % the gate catches 80 % of the time here (`covetbench.gate.power`)
    detectable_change_pct: float | None = None

    @property
    def key(self) -> ConfigKey:
        return ConfigKey.of(asdict(self))

    @property
    def change_pct(self) -> float:
        return (self.ratio - 1.0) * 100.0

    @property
    def blocking_flags(self) -> list[str]:
        return [f for f in self.flags if f in BLOCKING_FLAGS]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["change_pct"] = self.change_pct
        return data


def trials_needed(alpha: float, paired: bool = False, family: int = 1) -> int:
    """Smallest equal number of trials per side for which the test can reach alpha / family."""
    level = alpha / max(family, 1)
    n = 1
    while (min_p_value_paired(n) if paired else min_p_value(n, n)) >= level:
        n += 1
    return n


def p_floor(comp: Comparison) -> float:
    """The smallest p-value the comparison's test can give at its sample sizes."""
    if comp.test == TEST_WILCOXON_PAIRED:
        return min_p_value_paired(comp.baseline_n)
    return min_p_value(comp.baseline_n, comp.current_n)


def measure_samples(
    key: Sequence[Any],
    baseline: Sequence[float],
    current: Sequence[float],
    config: GateConfig,
    flags: Sequence[str] = (),
    paired: bool = False,
) -> Comparison:
    """The statistics of one configuration's two samples of rps, not yet judged (`verdict` "").

    `paired`: `baseline[i]` and `current[i]` ran back to back (same length required).
    """
    base_median, cur_median = median(baseline), median(current)
    positive = min(min(baseline), min(current)) > 0
    pair_sd: float | None = None
    if paired and positive:
        ratio, low, high = paired_ratio_ci(baseline, current, confidence=config.confidence)
        p_less = wilcoxon_paired(baseline, current, "less")
        p_greater = wilcoxon_paired(baseline, current, "greater")
        pair_sd = log_sd([c / b for b, c in zip(baseline, current, strict=True)])
    else:
        paired = False
        if base_median > 0:
            ratio, low, high = ratio_ci(baseline, current, confidence=config.confidence)
        else:
            ratio, low, high = math.inf if cur_median > 0 else 1.0, math.nan, math.nan
        p_less = mann_whitney(baseline, current, "less")
        p_greater = mann_whitney(baseline, current, "greater")
    return Comparison(
        **ConfigKey(*key)._asdict(),
        baseline_n=len(baseline),
        current_n=len(current),
        baseline_median=base_median,
        current_median=cur_median,
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        p_value=p_less,
        p_value_improvement=p_greater,
        flags=sorted(set(flags)),
        test=TEST_WILCOXON_PAIRED if paired else TEST_MANN_WHITNEY,
        baseline_log_sd=log_sd(baseline),
        current_log_sd=log_sd(current),
        pair_log_sd=pair_sd,
    )


def judge(comp: Comparison, config: GateConfig) -> None:
    """Set `comp.verdict` and `comp.note` from its Holm-adjusted p-values (module docstring)."""
    alpha, m = config.alpha, comp.family_size
    limit = config.threshold_pct / 100.0
    p_less = comp.p_value if comp.p_value_adjusted is None else comp.p_value_adjusted
    p_greater = comp.p_value_improvement
    if comp.p_value_improvement_adjusted is not None:
        p_greater = comp.p_value_improvement_adjusted
    blocking = comp.blocking_flags
    corrected = f" (Holm over {m})" if m > 1 else ""
    if p_floor(comp) >= alpha / m:
        paired = comp.test == TEST_WILCOXON_PAIRED
        comp.verdict = UNDERPOWERED
        comp.note = (
            f"{comp.baseline_n} vs {comp.current_n} trials cannot reach p < {alpha / m:.3g}"
            f"{corrected}; need {trials_needed(alpha, paired, m)} per side"
        )
        return
    significant_drop = p_less < alpha
    if blocking:
        named = ", ".join(blocking)
        if significant_drop and comp.ci_high < 1.0 - limit:
            comp.verdict = REGRESSION
            comp.note = f"regression beyond doubt despite flags ({named})"
        else:
            comp.verdict = GATE_INCONCLUSIVE
            comp.note = f"flagged ({named}): cannot pass or improve"
        return
    if significant_drop and comp.ratio < 1.0 - limit and comp.ci_high < 1.0:
        comp.verdict = REGRESSION
    elif p_greater < alpha and comp.ratio > 1.0 + limit and comp.ci_low > 1.0:
        comp.verdict = IMPROVEMENT
        if comp.flags:
            # a figure a neighbour or the generator disturbed cannot prove a gain
            comp.verdict = UNCHANGED
            comp.note = f"faster, but flagged ({', '.join(comp.flags)}): not an improvement"
    else:
        comp.verdict = UNCHANGED
        if significant_drop and comp.ratio < 1.0:
            comp.note = f"significant but within the {config.threshold_pct:g}% threshold"
        elif comp.p_value < alpha and comp.ratio < 1.0 - limit and comp.ci_high < 1.0:
            comp.note = (
                f"drop significant alone (p={comp.p_value:.3g}) but not after the Holm "
                f"correction over {m} configurations (adjusted p={p_less:.3g})"
            )
        elif comp.ratio < 1.0 - limit:
            comp.note = f"drop not significant (p={p_less:.3g})"


def compare_samples(
    key: Sequence[Any],
    baseline: Sequence[float],
    current: Sequence[float],
    config: GateConfig,
    flags: Sequence[str] = (),
    paired: bool = False,
) -> Comparison:
    """Measure and judge one configuration as a family of one (no correction)."""
    from covetbench.gate.family import judge_family

    comp = measure_samples(key, baseline, current, config, flags, paired)
    judge_family([comp], config)
    return comp
