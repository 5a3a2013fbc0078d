"""The median's order-statistics interval says the confidence it has: its stated level matches its
coverage, checked by simulation over n = 2..20 and several shapes of noise; paired ratios use it
over per-round ratios, never over the two sides' medians."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from covetbench.stats import (
    CI_METHOD_MIN_MAX,
    CI_METHOD_ORDER_STATISTICS,
    MedianInterval,
    bootstrap_ci,
    median_interval,
    median_ranks,
    paired_ratio,
)

Sampler = Callable[[np.random.Generator, tuple[int, int]], npt.NDArray[np.float64]]
SAMPLES = 4000
SEED = 20_261_201


def _normal(rng: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
    return rng.normal(20_000.0, 2_000.0, size=shape)


def _lognormal(rng: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
    return rng.lognormal(np.log(15_000.0), 0.4, size=shape)


def _bimodal(rng: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
    # a host that is either fast or slow, unevenly: 60 % of trials near 25k, the rest near 12k
    fast = rng.random(size=shape) < 0.6
    return np.where(fast, rng.normal(25_000.0, 800.0, size=shape), rng.normal(12_000, 800, shape))


def _true_median(sampler: Sampler) -> float:
    rng = np.random.default_rng(SEED + 1)
    return float(np.median(sampler(rng, (1, 2_000_000))))


@pytest.mark.parametrize("sampler", [_normal, _lognormal, _bimodal], ids=lambda f: f.__name__)
def test_coverage_matches_the_stated_level(sampler: Sampler) -> None:
    truth = _true_median(sampler)
    rng = np.random.default_rng(SEED)
    for n in range(2, 21):
        low, high, level = median_ranks(n)
        samples = np.sort(sampler(rng, (SAMPLES, n)), axis=1)
        covered = (samples[:, low - 1] <= truth) & (truth <= samples[:, high - 1])
        coverage = float(covered.mean())
        assert abs(coverage - level) <= 0.02, (n, coverage, level)


def test_the_bootstrap_interval_does_not_have_the_level_it_claims() -> None:
    """Why the order statistics: at n = 3 the bootstrap's "95 %" interval is [min, max]."""
    values = [9_800.0, 10_100.0, 10_050.0]
    assert bootstrap_ci(values) == (9_800.0, 10_100.0)
    assert median_interval(values) == MedianInterval(9_800.0, 10_100.0, 0.75, CI_METHOD_MIN_MAX)


@pytest.mark.parametrize(
    ("n", "level"),
    [(1, 0.0), (2, 0.5), (3, 0.75), (4, 0.875), (5, 0.9375), (6, 0.96875), (7, 0.984375)],
)
def test_too_few_trials_give_the_whole_range_at_its_true_level(n: int, level: float) -> None:
    values = [float(v) for v in range(n, 0, -1)]
    interval = median_interval(values)
    assert (interval.low, interval.high) == (1.0, float(n))
    assert interval.level == level
    assert interval.method == CI_METHOD_MIN_MAX


def test_more_trials_narrow_the_interval_to_the_requested_level() -> None:
    values = [float(v) for v in range(1, 21)]
    interval = median_interval(values)
    assert interval.method == CI_METHOD_ORDER_STATISTICS
    assert interval.level >= 0.95
    assert (interval.low, interval.high) == (6.0, 15.0)
    # no narrower pair of ranks reaches 95 % at n = 20
    assert median_ranks(20)[1] - median_ranks(20)[0] == 9
    assert median_interval(values, level=0.5).high - median_interval(values, level=0.5).low < 9


def test_the_interval_is_the_order_statistics_whatever_the_input_order() -> None:
    rng = np.random.default_rng(SEED)
    for n in (2, 5, 9, 16):
        values = [float(v) for v in rng.normal(100.0, 10.0, size=n)]
        low, high, level = median_ranks(n)
        ordered = sorted(values)
        interval = median_interval(values)
        assert (interval.low, interval.high, interval.level) == (
            ordered[low - 1],
            ordered[high - 1],
            level,
        )
        assert interval.low <= float(np.median(values)) <= interval.high


def test_fields_name_the_summary_columns() -> None:
    interval = median_interval([1.0, 2.0, 3.0])
    assert interval.fields() == {
        "ci_low": 1.0,
        "ci_high": 3.0,
        "ci_level": 0.75,
        "ci_method": CI_METHOD_MIN_MAX,
    }


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        median_interval([])
    with pytest.raises(ValueError):
        median_interval([1.0, float("nan")])
    with pytest.raises(ValueError):
        median_ranks(5, level=1.0)


def test_paired_ratio_is_the_median_of_per_round_ratios() -> None:
    # the host drifts from fast to slow over the run; each round's ratio stays at 0.9
    rounds = [(0.9 * d, d) for d in (30_000.0, 24_000.0, 18_000.0, 12_000.0, 10_000.0)]
    result = paired_ratio(rounds)
    assert result.median == pytest.approx(0.9)
    assert (result.low, result.high) == pytest.approx((0.9, 0.9))
    assert result.level == 0.9375 and result.method == CI_METHOD_MIN_MAX
    assert result.rounds == 5


def test_paired_ratio_is_not_the_ratio_of_medians() -> None:
    # numerator and denominator each drift; the medians of the sides pair unrelated rounds
    rounds = [(10.0, 10.0), (30.0, 20.0), (21.0, 30.0)]
    result = paired_ratio(rounds)
    assert result.median == pytest.approx(1.0)
    assert (result.low, result.high) == pytest.approx((0.7, 1.5))
    assert np.median([r[0] for r in rounds]) / np.median([r[1] for r in rounds]) == 1.05


def test_paired_ratio_interval_follows_the_rank_rule() -> None:
    rng = np.random.default_rng(SEED)
    den = rng.normal(20_000.0, 4_000.0, size=12)
    num = den * rng.normal(0.95, 0.02, size=12)
    result = paired_ratio(list(zip(num.tolist(), den.tolist(), strict=True)))
    ratios = sorted((num / den).tolist())
    low, high, level = median_ranks(12)
    assert (result.low, result.high, result.level) == (ratios[low - 1], ratios[high - 1], level)
    assert result.method == CI_METHOD_ORDER_STATISTICS
    assert result.low <= result.median <= result.high


def test_paired_ratio_refuses_empty_or_non_positive_rounds() -> None:
    with pytest.raises(ValueError):
        paired_ratio([])
    with pytest.raises(ValueError):
        paired_ratio([(1.0, 0.0)])
