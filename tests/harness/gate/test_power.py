"""The detectable-drop simulation: exact null distributions, and figures that behave."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, wilcoxon

from covetbench.gate import power
from covetbench.gate.rule import GateConfig, compare_samples


@pytest.mark.parametrize(("n_cur", "n_base"), [(5, 5), (3, 7), (8, 6)])
def test_mann_whitney_null_matches_scipy_exact(n_cur: int, n_base: int) -> None:
    rng = np.random.default_rng(n_cur * 10 + n_base)
    cdf = power._mann_whitney_cdf(n_cur, n_base)
    for _ in range(5):
        cur, base = rng.normal(size=n_cur), rng.normal(size=n_base) + 0.5
        u = int((cur[:, None] > base[None, :]).sum())
        expected = mannwhitneyu(cur, base, alternative="less", method="exact").pvalue
        assert cdf[u] == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.parametrize("n", [5, 9])
def test_signed_rank_null_matches_scipy_exact(n: int) -> None:
    rng = np.random.default_rng(n)
    cdf = power._signed_rank_cdf(n)
    for _ in range(5):
        logs = rng.normal(size=n) - 0.3
        ranks = np.argsort(np.argsort(np.abs(logs))) + 1
        w_plus = int(ranks[logs > 0].sum())
        expected = wilcoxon(logs, alternative="less", method="exact").pvalue
        assert cdf[w_plus] == pytest.approx(float(expected), abs=1e-12)


def test_no_noise_detects_just_the_threshold() -> None:
    drop = power.detectable_drop(8, 8, 0.0, 0.0, level=0.01, threshold=0.05)
    assert drop == pytest.approx(0.05, abs=0.001)


def test_more_trials_and_less_noise_detect_smaller_drops() -> None:
    sd = math.sqrt(math.log(1 + 0.16**2))
    few = power.detectable_drop(5, 5, sd, sd, level=0.01, threshold=0.05)
    many = power.detectable_drop(12, 12, sd, sd, level=0.01, threshold=0.05)
    stricter = power.detectable_drop(12, 12, sd, sd, level=0.0025, threshold=0.05)
    assert few is not None and many is not None and stricter is not None
    assert many < few and many < stricter
    paired = power.detectable_drop(10, 10, sd, sd, 0.0025, 0.05, pair_log_sd=sd / 3)
    assert paired is not None and paired < stricter


def test_unreachable_level_detects_nothing() -> None:
    # 3 a side cannot reach 0.01 (floor 0.05): no drop is ever detected
    assert power.detectable_drop(3, 3, 0.01, 0.01, level=0.01, threshold=0.05) is None
    assert power.detectable_drop(6, 6, 0.0, 0.0, 0.01, 0.05, pair_log_sd=0.01) is None


def test_the_figure_holds_for_the_real_rule() -> None:
    """At the detectable drop the full rule (bootstrap interval included) catches most
    simulated comparisons; at a third of it, few."""
    rng = np.random.default_rng(7)
    sd = 0.08
    drop = power.detectable_drop(8, 8, sd, sd, level=0.01, threshold=0.05)
    assert drop is not None

    def rate(d: float, reps: int = 30) -> float:
        hits = 0
        for _ in range(reps):
            base = np.exp(rng.normal(0, sd, 8)) * 1000
            cur = np.exp(rng.normal(math.log(1 - d), sd, 8)) * 1000
            comp = compare_samples(("a", "s", "x", "wrk", 1), list(base), list(cur), GateConfig())
            hits += comp.verdict == "regression"
        return hits / reps

    assert rate(drop) >= 0.6
    assert rate(drop / 3) <= 0.3
