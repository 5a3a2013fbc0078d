"""What the gate could have seen: the smallest slowdown it detects, given a comparison's spread.

A PASS means "no regression found", which says little unless the reader knows how large a
regression the comparison could have found. `detectable_drop` answers: the smallest throughput
drop d (current = (1 - d) x baseline) that the gate's rule calls a regression in at least
`POWER` (80 %) of runs with this many trials and this much trial-to-trial spread.

Method: a seeded Monte Carlo of the rule's two deciding conditions.

- Noise model: log(requests/s) is normal with the standard deviation measured on each side
  (`log_sd`; for paired A/B trials, that of the per-pair log ratios). Lognormal because
  throughput is positive and its noise is multiplicative.
- Each of `SIMULATIONS` synthetic comparisons draws the trials, shifts the current side by
  log(1 - d) and applies (1) the one-sided test at `level` (the Holm level of a lone regression:
  alpha / family size), with the test's exact null distribution (Mann-Whitney U, or Wilcoxon
  signed-rank for pairs), and (2) the ratio of medians below 1 - threshold. The gate's third
  condition (the bootstrap interval below 1) is not simulated: a 95 % two-sided interval is a
  weaker demand than a one-sided test at alpha <= 0.01, so it rarely decides.
- The same random draws serve every d (common random numbers), so the detection rate rises
  monotonically with d and a bisection finds the smallest d reaching `POWER` to 0.1 %.

    detectable_drop(8, 8, 0.12, 0.12, level=0.0025, threshold=0.05)   # -> 0.2.. (a 2x% drop)
    detectable_drop(8, 8, 0.12, 0.12, level=0.0025, threshold=0.05, pair_log_sd=0.05)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

#: detection probability a "detectable" drop must reach (the conventional 80 %)
POWER = 0.8
SIMULATIONS = 2000
SEED = 20_261_205
#: the largest drop searched: beyond it the comparison "could not detect any drop"
MAX_DROP = 0.95
#: trials per side above which the simulation is skipped as too large (the gate never runs so many)
MAX_TRIALS = 64

_Floats = npt.NDArray[np.float64]

METHOD = (
    f"smallest throughput drop caught in {POWER:.0%} of {SIMULATIONS} simulated comparisons with "
    "the same trial counts and spread (lognormal noise at each side's measured log-sd, or the "
    "pairs' for paired trials), by the exact one-sided test at alpha / family size and the "
    "threshold on the ratio of medians"
)


def log_sd(values: Sequence[float]) -> float:
    """Sample standard deviation of log(values) (0.0 below 2 values or for non-positive ones)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size < 2 or np.any(arr <= 0):
        return 0.0
    return float(np.std(np.log(arr), ddof=1))


@functools.lru_cache(maxsize=64)
def _mann_whitney_cdf(n_current: int, n_baseline: int) -> _Floats:
    """P(U <= u) under the null, U = #pairs (current > baseline), exact, no ties.

    Recursion on the largest of all values: it is a current trial with probability
    a / (a + b) (and beats all b baseline trials), else a baseline trial (beats none).
    """
    size = n_current * n_baseline + 1
    rows: list[_Floats] = []  # rows[b]: distribution for (a, b) of the current `a`
    for a in range(n_current + 1):
        row: list[_Floats] = []
        for b in range(n_baseline + 1):
            dist = np.zeros(size)
            if a == 0 or b == 0:
                dist[0] = 1.0
            else:
                dist[b:] += a / (a + b) * rows[b][: size - b]
                dist += b / (a + b) * row[b - 1]
            row.append(dist)
        rows = row
    cdf: _Floats = np.cumsum(rows[n_baseline])
    return cdf


@functools.lru_cache(maxsize=64)
def _signed_rank_cdf(n: int) -> _Floats:
    """P(W+ <= w) under the null for n pairs, exact, no ties or zeros: each rank k is in W+
    with probability 1/2, independently."""
    size = n * (n + 1) // 2 + 1
    dist = np.zeros(size)
    dist[0] = 1.0
    for k in range(1, n + 1):
        shifted = np.zeros(size)
        shifted[k:] = dist[: size - k]
        dist = 0.5 * dist + 0.5 * shifted
    cdf: _Floats = np.cumsum(dist)
    return cdf


def _bisect(rate_at: Callable[[float], float]) -> float | None:
    """Smallest drop in [0, MAX_DROP] whose detection rate reaches POWER (rate is monotone)."""
    lo, hi = 0.0, MAX_DROP
    if rate_at(hi) < POWER:
        return None
    while hi - lo > 5e-4:
        mid = (lo + hi) / 2.0
        if rate_at(mid) >= POWER:
            hi = mid
        else:
            lo = mid
    return hi


def detectable_drop(
    n_baseline: int,
    n_current: int,
    baseline_log_sd: float,
    current_log_sd: float,
    level: float,
    threshold: float,
    pair_log_sd: float | None = None,
) -> float | None:
    """Smallest drop (a fraction, 0.12 = 12 %) detected with probability `POWER`; None when no
    drop up to `MAX_DROP` is, or the counts are out of the simulated range.

    `pair_log_sd` given: paired trials (min(n_baseline, n_current) pairs, Wilcoxon signed-rank).
    """
    rng = np.random.default_rng(SEED)
    limit = math.log(1.0 - threshold)
    if pair_log_sd is not None:
        n = min(n_baseline, n_current)
        if not 1 <= n <= MAX_TRIALS:
            return None
        cdf = _signed_rank_cdf(n)
        noise = rng.standard_normal((SIMULATIONS, n)) * max(pair_log_sd, 1e-12)

        def paired_rate(drop: float) -> float:
            logs = noise + math.log(1.0 - drop)
            ranks = np.argsort(np.argsort(np.abs(logs), axis=1), axis=1) + 1
            w_plus = np.where(logs > 0, ranks, 0).sum(axis=1)
            hit = (cdf[w_plus] < level) & (np.median(logs, axis=1) < limit)
            return float(hit.mean())

        return _bisect(paired_rate)
    if not (1 <= n_baseline <= MAX_TRIALS and 1 <= n_current <= MAX_TRIALS):
        return None
    cdf = _mann_whitney_cdf(n_current, n_baseline)
    base = rng.standard_normal((SIMULATIONS, n_baseline)) * max(baseline_log_sd, 1e-12)
    cur = rng.standard_normal((SIMULATIONS, n_current)) * max(current_log_sd, 1e-12)
    base_median = np.median(base, axis=1)

    def rate(drop: float) -> float:
        shifted = cur + math.log(1.0 - drop)
        u = (shifted[:, :, None] > base[:, None, :]).sum(axis=(1, 2))
        ratio_ok = np.median(shifted, axis=1) - base_median < limit
        return float(((cdf[u] < level) & ratio_ok).mean())

    return _bisect(rate)
