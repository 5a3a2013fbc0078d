"""Statistics over trials: medians, honest intervals, dispersion and significance.

Throughput samples from a handful of trials are small, skewed by interference (a disturbed trial
is slower, never faster) and not normal, so everything here is rank- or resampling-based:

- `median` is the headline figure of a configuration; one outlier trial cannot move it far.
- `bootstrap_ci`: percentile bootstrap of the median (resample the trials with replacement,
  take the 2.5th and 97.5th percentiles of the resampled medians). Seeded, so the same trials
  always give the same interval. With 3-5 trials the interval is coarse (it cannot be narrower
  than the spread of the middle trials): it is honest about how little 3 trials say.
- `median_interval`: the distribution-free interval of the median from order statistics. With
  B ~ Binomial(n, 1/2) trials below the true median, [x_(l), x_(u)] holds it with probability
  exactly P(l <= B < u) for any continuous distribution, so the level is COMPUTED, not assumed:
  the narrowest pair of ranks reaching the requested level (0.95) when n allows it, else the
  whole range [min, max] with the level it actually has (n=2: 50 %, n=3: 75 %, n=5: 93.75 %,
  n=6: 96.9 %). The bootstrap of the median at n <= 5 is [min, max] too, but calls it 95 %.
  `paired_ratio`: the same interval over per-round ratios (trials of one round ran back to
  back, so host drift cancels in their ratio).
- `cv`: coefficient of variation (sample standard deviation / mean), the noise figure the report
  shows next to each median.
- `ratio_ci`: ratio of medians current/baseline with a bootstrap interval, resampling each side
  independently: the gate's effect size.
- `mann_whitney`: Mann-Whitney U p-value (scipy), the gate's significance test for independent
  runs; it makes no normality assumption. `wilcoxon_paired` / `paired_ratio_ci`: the same
  questions for interleaved A/B trials taken pair by pair (drift cancels; `min_p_value_paired`
  is 1/2^n one-sided). With n trials per side the smallest possible two-sample one-sided p-value
  is 1/C(2n, n): 0.05 for n=3, 0.0143 for n=4, 0.0040 for n=5. `min_p_value` tells the gate
  whether a significance level is reachable at all.

    summarize(trials)                       # -> [ConfigSummary], one per TrialRecord.key
    median_interval([9800, 10100, 10050])   # -> MedianInterval(9800.0, 10100.0, 0.75, "min-max")
    paired_ratio([(9.6, 10.0), (9.9, 10.1)])  # -> PairedRatio(median=0.97..., level=0.5, ...)
    bootstrap_ci([9800, 10100, 10050])      # -> (9800.0, 10100.0)
    ratio_ci(baseline_rps, current_rps)     # -> (0.93, 0.91, 0.95)
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# the method names are declared with the summary record; re-exported here beside the method
from covetbench.records import CI_METHOD_MIN_MAX as CI_METHOD_MIN_MAX
from covetbench.records import CI_METHOD_ORDER_STATISTICS as CI_METHOD_ORDER_STATISTICS
from covetbench.records import (
    ConfigKey,
    ConfigSummary,
    TrialRecord,
)

DEFAULT_RESAMPLES = 4000
DEFAULT_SEED = 20_261_127
LATENCY_KEYS = ("p50", "p90", "p99", "p999", "max", "mean")
#: the level an interval of the median aims at; below it the record says what it reached
CI_LEVEL = 0.95

_FloatArray = npt.NDArray[np.float64]


def _array(values: Sequence[float]) -> _FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("need a non-empty sequence of numbers")
    if not np.all(np.isfinite(arr)):
        raise ValueError("values must be finite")
    return arr


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sample."""
    return float(np.median(_array(values)))


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (sample stdev / mean); 0.0 for fewer than 2 values or mean 0."""
    arr = _array(values)
    mean = float(arr.mean())
    if arr.size < 2 or mean == 0.0:
        return 0.0
    return float(arr.std(ddof=1) / abs(mean))


def _bootstrap_medians(arr: _FloatArray, rng: np.random.Generator, n: int) -> _FloatArray:
    idx = rng.integers(0, arr.size, size=(n, arr.size))
    medians: _FloatArray = np.median(arr[idx], axis=1)
    return medians


def bootstrap_ci(
    values: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the median; a single value gives (value, value)."""
    arr = _array(values)
    if arr.size == 1:
        return float(arr[0]), float(arr[0])
    rng = np.random.default_rng(seed)
    medians = _bootstrap_medians(arr, rng, n_resamples)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(medians, [tail, 100.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class MedianInterval:
    """A distribution-free interval of the median and the confidence it actually has.

    `level` is the exact probability, for any continuous distribution, that the interval holds
    the true median; `method` is "order-statistics", or "min-max" when the interval is the
    whole sample range (so more trials would narrow it or raise its level).
    """

    low: float
    high: float
    level: float
    method: str

    def fields(self) -> dict[str, float | str]:
        """The interval as the summary record's `ci_low`, `ci_high`, `ci_level`, `ci_method`."""
        return {
            "ci_low": self.low,
            "ci_high": self.high,
            "ci_level": self.level,
            "ci_method": self.method,
        }


@functools.lru_cache(maxsize=256)
def median_ranks(n: int, level: float = CI_LEVEL) -> tuple[int, int, float]:
    """(l, u, coverage): 1-based ranks of the order statistics bounding the median's interval.

    Coverage of [x_(l), x_(u)] is P(l <= B < u) for B ~ Binomial(n, 1/2). Among all rank pairs
    reaching `level`, the narrowest (u - l) wins, ties going to the higher coverage and then to
    the more central pair; when none reaches it, (1, n) and its coverage. n = 1 gives (1, 1, 0.0).
    Exact integer arithmetic, so the coverage is the true figure, not a rounding of it.
    """
    if n < 1:
        raise ValueError("need at least one value")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n == 1:
        return 1, 1, 0.0
    total = 2**n
    # below[k] = #outcomes with B < k, so P(l <= B < u) = (below[u] - below[l]) / 2^n
    below = [0]
    for k in range(n + 1):
        below.append(below[-1] + math.comb(n, k))
    for span in range(1, n):
        best: tuple[int, int, int] | None = None  # (count, -off_centre, l)
        for low in range(1, n - span + 1):
            count = below[low + span] - below[low]
            if count / total < level:
                continue
            candidate = (count, -abs((low + low + span) - (n + 1)), low)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        if best is not None:
            return best[2], best[2] + span, best[0] / total
    return 1, n, (below[n] - below[1]) / total


def median_interval(values: Sequence[float], level: float = CI_LEVEL) -> MedianInterval:
    """The order-statistics interval of the median of `values` (see `median_ranks`).

    A single value gives (value, value) at level 0.0: one trial says nothing about spread.
    """
    arr = np.sort(_array(values))
    low, high, coverage = median_ranks(int(arr.size), level)
    method = CI_METHOD_MIN_MAX if (low, high) == (1, arr.size) else CI_METHOD_ORDER_STATISTICS
    return MedianInterval(float(arr[low - 1]), float(arr[high - 1]), coverage, method)


@dataclass(frozen=True)
class PairedRatio:
    """The median of per-round ratios numerator/denominator and its `MedianInterval`."""

    median: float
    low: float
    high: float
    level: float
    method: str
    rounds: int


def paired_ratio(rounds: Sequence[tuple[float, float]], level: float = CI_LEVEL) -> PairedRatio:
    """Median of the per-round ratios `numerator / denominator`, with a distribution-free interval.

    Each round is (numerator, denominator) measured back to back, e.g. (covet@uvicorn rps,
    raw@uvicorn rps) of the same round: the host's drift moves both, so their ratio keeps what
    the medians of each side lose. Raises ValueError for no rounds or a non-positive value.
    """
    if not rounds:
        raise ValueError("need at least one round")
    pairs = _array([v for pair in rounds for v in pair]).reshape(-1, 2)
    if np.any(pairs <= 0.0):
        raise ValueError("paired ratios need positive values")
    ratios: _FloatArray = pairs[:, 0] / pairs[:, 1]
    interval = median_interval([float(r) for r in ratios], level)
    return PairedRatio(
        median=float(np.median(ratios)),
        low=interval.low,
        high=interval.high,
        level=interval.level,
        method=interval.method,
        rounds=int(ratios.size),
    )


def ratio_ci(
    baseline: Sequence[float],
    current: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float, float]:
    """(ratio, low, high): median(current) / median(baseline) and its bootstrap interval.

    Each side is resampled independently (the trials of A and B are separate samples).
    Raises ValueError when the baseline median is 0 (no ratio exists).
    """
    base, cur = _array(baseline), _array(current)
    base_median = float(np.median(base))
    if base_median == 0.0:
        raise ValueError("baseline median is 0: no ratio")
    ratio = float(np.median(cur)) / base_median
    rng = np.random.default_rng(seed)
    base_meds = _bootstrap_medians(base, rng, n_resamples)
    cur_meds = _bootstrap_medians(cur, rng, n_resamples)
    # A resampled baseline median of 0 is only possible if the baseline holds zeros; drop those.
    ok = base_meds != 0.0
    ratios = cur_meds[ok] / base_meds[ok]
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    return ratio, float(low), float(high)


def mann_whitney(
    baseline: Sequence[float], current: Sequence[float], alternative: str = "two-sided"
) -> float:
    """p-value of the Mann-Whitney U test of `current` against `baseline`.

    `alternative="less"`: current tends to be smaller than baseline (a throughput regression);
    "greater" the opposite. Exact distribution for small samples without ties, the normal
    approximation otherwise (scipy's "auto"). Identical samples give 1.0.
    """
    from scipy.stats import mannwhitneyu

    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be two-sided, less or greater, not {alternative!r}")
    cur, base = _array(current), _array(baseline)
    result: Any = mannwhitneyu(cur, base, alternative=alternative, method="auto")
    p = float(result.pvalue)
    return 1.0 if math.isnan(p) else p


def _pair_log_ratios(baseline: Sequence[float], current: Sequence[float]) -> _FloatArray:
    base, cur = _array(baseline), _array(current)
    if base.size != cur.size:
        raise ValueError("paired samples must have the same length")
    if np.any(base <= 0) or np.any(cur <= 0):
        raise ValueError("paired ratios need positive values")
    logs: _FloatArray = np.log(cur / base)
    return logs


def wilcoxon_paired(
    baseline: Sequence[float], current: Sequence[float], alternative: str = "less"
) -> float:
    """p-value of the Wilcoxon signed-rank test on log(current / baseline), pair by pair.

    For interleaved A/B trials: trial i of A and of B ran next to each other, so their ratio
    cancels the machine's drift over the run, which an unpaired test counts as noise. Exact for
    small samples; identical pairs give 1.0.
    """
    from scipy.stats import wilcoxon

    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be two-sided, less or greater, not {alternative!r}")
    logs = _pair_log_ratios(baseline, current)
    if not np.any(logs != 0.0):
        return 1.0
    result: Any = wilcoxon(logs, alternative=alternative)
    p = float(result.pvalue)
    return 1.0 if math.isnan(p) else p


def paired_ratio_ci(
    baseline: Sequence[float],
    current: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float, float]:
    """(ratio, low, high): median of the per-pair ratios current/baseline, bootstrap interval
    from resampling whole pairs."""
    logs = _pair_log_ratios(baseline, current)
    ratio = float(np.exp(np.median(logs)))
    if logs.size == 1:
        return ratio, ratio, ratio
    rng = np.random.default_rng(seed)
    meds = _bootstrap_medians(logs, rng, n_resamples)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.exp(np.percentile(meds, [tail, 100.0 - tail]))
    return ratio, float(low), float(high)


def min_p_value_paired(n_pairs: int, alternative: str = "less") -> float:
    """Smallest p-value the exact Wilcoxon signed-rank test can give for `n_pairs`."""
    if n_pairs < 1:
        return 1.0
    p = 0.5**n_pairs
    return min(1.0, 2.0 * p) if alternative == "two-sided" else p


def min_p_value(n_baseline: int, n_current: int, alternative: str = "less") -> float:
    """Smallest p-value Mann-Whitney can give for these sample sizes (no ties).

    If it exceeds the gate's alpha, no difference, however large, can be called significant.
    """
    if n_baseline < 1 or n_current < 1:
        return 1.0
    p = 1.0 / math.comb(n_baseline + n_current, n_current)
    return min(1.0, 2.0 * p) if alternative == "two-sided" else p


def _median_or_none(values: Sequence[float | None]) -> float | None:
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    return float(statistics.median(known)) if known else None


def group_by_key(trials: Sequence[TrialRecord]) -> dict[ConfigKey, list[TrialRecord]]:
    """Trials grouped by configuration, in order of first appearance."""
    groups: dict[ConfigKey, list[TrialRecord]] = {}
    for trial in trials:
        groups.setdefault(trial.key, []).append(trial)
    return groups


def summarize(trials: Sequence[TrialRecord], level: float = CI_LEVEL) -> list[ConfigSummary]:
    """One `ConfigSummary` per configuration (`TrialRecord.key`), in order of first appearance.

    The interval is `median_interval` at `level`, recorded with the level it actually reached
    (0.5 for 2 trials, 0.75 for 3). Configuration flags are left empty: they compare
    configurations with each other and take the run's `--max-cv`, so they are judged by
    `covetbench.run.validity.judge_configs` over the whole list.

    The median, interval and CV are taken over ALL trials of a configuration, flagged or not:
    the runner already retried disturbed trials before keeping one flagged, and dropping flagged
    trials would silently shrink (or empty) the sample: a generator-bound configuration is bound
    in every trial. Instead the union of the trials' flags travels with the summary and
    `valid_trials` says how many trials carried no flag, so every table and chart can show how
    far to trust the figure. Latency figures are medians of the per-trial percentiles.
    """
    summaries: list[ConfigSummary] = []
    for key, group in group_by_key(trials).items():
        rps = [t.rps for t in group]
        interval = median_interval(rps, level)
        flags = sorted({flag for t in group for flag in t.flags})
        latency = {k: _median_or_none([t.latency_ms.get(k) for t in group]) for k in LATENCY_KEYS}
        summaries.append(
            ConfigSummary(
                **key._asdict(),
                trials=len(group),
                valid_trials=sum(1 for t in group if not t.flags),
                median_rps=median(rps),
                ci_low=interval.low,
                ci_high=interval.high,
                ci_level=interval.level,
                ci_method=interval.method,
                cv=cv(rps),
                median_latency_ms=latency,
                flags=flags,
            )
        )
    return summaries
