from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from covetbench.records import ConfigKey, TrialRecord
from covetbench.stats import (
    bootstrap_ci,
    cv,
    group_by_key,
    mann_whitney,
    median,
    min_p_value,
    min_p_value_paired,
    paired_ratio_ci,
    ratio_ci,
    summarize,
    wilcoxon_paired,
)
from tests.harness.factories import make_trial


def trial(rps: float, **overrides: Any) -> TrialRecord:
    return make_trial(rps, **overrides)


def noisy(center: float, n: int, rel_sd: float, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(v) for v in rng.normal(center, center * rel_sd, size=n)]


def test_median_and_cv() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert cv([5.0]) == 0.0
    assert cv([0.0, 0.0]) == 0.0
    assert cv([9.0, 10.0, 11.0]) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        median([])
    with pytest.raises(ValueError):
        cv([1.0, math.nan])


def test_bootstrap_ci_contains_median_and_is_seeded() -> None:
    values = noisy(10_000, 7, 0.03, seed=1)
    low, high = bootstrap_ci(values)
    assert low <= median(values) <= high
    assert min(values) <= low and high <= max(values)
    assert bootstrap_ci(values) == (low, high)
    assert bootstrap_ci([42.0]) == (42.0, 42.0)
    assert bootstrap_ci([5.0, 5.0, 5.0]) == (5.0, 5.0)


def test_ratio_ci_brackets_known_shift() -> None:
    base = noisy(10_000, 10, 0.01, seed=2)
    cur = [v * 0.8 for v in noisy(10_000, 10, 0.01, seed=3)]
    ratio, low, high = ratio_ci(base, cur)
    assert ratio == pytest.approx(0.8, abs=0.02)
    assert low <= ratio <= high
    assert high < 0.9
    with pytest.raises(ValueError, match="baseline median"):
        ratio_ci([0.0, 0.0], [1.0])


def test_mann_whitney_detects_shift_and_not_noise() -> None:
    base = noisy(10_000, 8, 0.02, seed=4)
    slower = [v * 0.85 for v in noisy(10_000, 8, 0.02, seed=5)]
    same = noisy(10_000, 8, 0.02, seed=6)
    assert mann_whitney(base, slower, "less") < 0.01
    assert mann_whitney(base, slower, "greater") > 0.5
    assert mann_whitney(base, same, "less") > 0.01
    assert mann_whitney([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], "less") == 1.0
    with pytest.raises(ValueError, match="alternative"):
        mann_whitney(base, same, "sideways")


def test_min_p_value() -> None:
    assert min_p_value(3, 3) == pytest.approx(0.05)
    assert min_p_value(5, 5) == pytest.approx(1 / 252)
    assert min_p_value(5, 5, "two-sided") == pytest.approx(2 / 252)
    assert min_p_value(0, 5) == 1.0
    # the exact test reaches the bound when the samples do not overlap at all
    assert mann_whitney([10.0, 11, 12, 13, 14], [1.0, 2, 3, 4, 5], "less") == pytest.approx(1 / 252)


def test_summarize_groups_by_key_in_order() -> None:
    trials = [
        trial(100.0, trial=0),
        trial(200.0, trial=0, server="granian"),
        trial(110.0, trial=1, flags=["errors"]),
        trial(90.0, trial=2, latency_ms={"p50": 3.0, "p99": 5.0}),
        trial(210.0, trial=1, server="granian", flags=["interference"]),
    ]
    assert list(group_by_key(trials)) == [
        ConfigKey("covet", "uvicorn", "json", "wrk", 64, pipeline=1),
        ConfigKey("covet", "granian", "json", "wrk", 64, pipeline=1),
    ]
    first, second = summarize(trials)
    assert (first.server, first.trials, first.valid_trials) == ("uvicorn", 3, 2)
    # median over all trials, flagged ones included; flags unioned
    assert first.median_rps == 100.0
    assert first.flags == ["errors"]
    assert first.ci_low <= 100.0 <= first.ci_high
    assert (first.ci_low, first.ci_high, first.ci_level, first.ci_method) == (
        90.0,
        110.0,
        0.75,
        "min-max",
    )
    assert first.config_flags == [], "configuration flags are judged by validity.judge_configs"
    assert first.cv == pytest.approx(cv([100.0, 110.0, 90.0]))
    assert first.median_latency_ms["p50"] == 1.0
    assert first.median_latency_ms["p99"] == 3.0
    assert first.median_latency_ms["p999"] is None
    assert first.median_latency_ms["mean"] is None
    assert (second.median_rps, second.valid_trials, second.flags) == (205.0, 1, ["interference"])


def test_pipeline_depth_is_part_of_the_configuration() -> None:
    plain, piped = summarize([trial(100.0), trial(900.0, pipeline=16)])
    assert (plain.pipeline, plain.median_rps) == (1, 100.0)
    assert (piped.pipeline, piped.median_rps) == (16, 900.0)
    assert piped.key == ConfigKey("covet", "uvicorn", "json", "wrk", 64, 16)
    assert piped.to_dict()["pipeline"] == 16


def test_summarize_empty() -> None:
    assert summarize([]) == []


def test_wilcoxon_paired() -> None:
    base = [100.0, 90.0, 80.0, 70.0, 60.0, 50.0, 40.0]
    slower = [v * 0.9 for v in base]
    assert wilcoxon_paired(base, slower, "less") == pytest.approx(1 / 128)
    assert wilcoxon_paired(base, slower, "greater") == pytest.approx(1.0)
    assert wilcoxon_paired(base, base, "less") == 1.0
    assert min_p_value_paired(7) == pytest.approx(1 / 128)
    assert min_p_value_paired(7, "two-sided") == pytest.approx(2 / 128)
    assert min_p_value_paired(0) == 1.0
    with pytest.raises(ValueError, match="same length"):
        wilcoxon_paired([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="positive"):
        wilcoxon_paired([0.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="alternative"):
        wilcoxon_paired(base, slower, "up")


def test_paired_ratio_ci() -> None:
    base = [100.0, 90.0, 80.0, 70.0, 60.0]
    ratio, low, high = paired_ratio_ci(base, [v * 0.8 for v in base])
    assert ratio == pytest.approx(0.8)
    assert low == pytest.approx(0.8) and high == pytest.approx(0.8)
    ratio, low, high = paired_ratio_ci([10.0], [12.0])
    assert (ratio, low, high) == pytest.approx((1.2, 1.2, 1.2))
    ratio, low, high = paired_ratio_ci(base, [99.0, 95.0, 76.0, 70.0, 57.0])
    assert low <= ratio <= high
