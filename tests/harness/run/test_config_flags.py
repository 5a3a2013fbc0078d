"""Configuration flags: unstable trials, intervals too weak to read, a framework that outruns the
raw floor, and winners named only when their interval stands clear of every other."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from covetbench.records import ConfigKey
from covetbench.run.validity import (
    CONFIG_FLAG_DESCRIPTIONS,
    FLAG_IMPLAUSIBLE,
    FLAG_TOO_FEW_TRIALS,
    FLAG_UNSTABLE,
    MAX_CV,
    Standing,
    implausible,
    outruns,
    tied,
    too_few_trials,
    unstable,
)
from covetbench.stats import median, median_interval


@dataclass(frozen=True)
class Config:
    app: str
    server: str
    scenario: str
    loadgen: str
    concurrency: int
    ci_low: float
    ci_high: float
    pipeline: int = 1


def _alternating_trials(
    fast_rps: float, slow_rps: float, trials: int, seconds: float, gap: float
) -> list[float]:
    """requests/s of back-to-back trials of an app that serves `fast_rps` in even seconds and
    `slow_rps` in odd ones, integrated over each trial's window in 1 ms steps."""
    out = []
    start = 0.0
    steps = int(seconds * 1000)
    for _ in range(trials):
        done = sum(
            (fast_rps if int(start + i / 1000) % 2 == 0 else slow_rps) / 1000 for i in range(steps)
        )
        out.append(done / seconds)
        start += seconds + gap
    return out


def test_flag_names() -> None:
    assert (FLAG_UNSTABLE, FLAG_TOO_FEW_TRIALS, FLAG_IMPLAUSIBLE) == (
        "unstable",
        "too_few_trials",
        "implausible",
    )
    assert set(CONFIG_FLAG_DESCRIPTIONS) == {FLAG_UNSTABLE, FLAG_TOO_FEW_TRIALS, FLAG_IMPLAUSIBLE}


def test_unstable_fires_on_an_app_that_alternates_fast_and_slow_seconds() -> None:
    trials = _alternating_trials(30_000.0, 10_000.0, trials=5, seconds=1.5, gap=0.7)
    assert max(trials) / min(trials) > 1.3
    assert unstable(trials)


def test_unstable_spares_a_steady_app_and_follows_max_cv() -> None:
    steady = [20_000.0, 20_400.0, 19_800.0, 20_100.0, 19_900.0]
    assert not unstable(steady)
    assert unstable(steady, max_cv=0.005)
    assert MAX_CV == 0.10
    assert not unstable([5_000.0]), "one trial has no spread to judge"
    assert unstable([10_500.0, 19_300.0])  # the quick run's "ok" at CV 42 %


@pytest.mark.parametrize(("n", "flagged"), [(2, True), (3, True), (4, True), (5, False)])
def test_too_few_trials_follows_the_interval_level(n: int, flagged: bool) -> None:
    interval = median_interval([float(v) for v in range(1, n + 1)])
    assert too_few_trials(interval.level) is flagged


def test_outruns_only_beyond_both_intervals() -> None:
    assert outruns((12.0, 13.0), (10.0, 11.0))
    assert not outruns((11.0, 13.0), (10.0, 11.0)), "touching intervals are consistent"
    assert not outruns((9.0, 10.0), (10.0, 11.0))


def test_implausible_fires_when_a_framework_outruns_the_floor() -> None:
    # covet@uvicorn json at 14.9k against the raw floor at 11.2k, as the quick run reported it
    covet = median_interval([14_500.0, 14_900.0, 15_200.0])
    raw = median_interval([10_900.0, 11_200.0, 11_600.0])
    configs = [
        Config("raw", "uvicorn", "json", "wrk", 64, raw.low, raw.high),
        Config("covet", "uvicorn", "json", "wrk", 64, covet.low, covet.high),
        # slower than the floor: fine
        Config("starlette", "uvicorn", "json", "wrk", 64, 8_000.0, 9_000.0),
        # overlapping the floor: within noise, fine
        Config("fastapi", "uvicorn", "json", "wrk", 64, 11_000.0, 12_500.0),
        # faster than raw on ANOTHER server, concurrency or scenario: not comparable
        Config("covet", "granian", "json", "wrk", 64, 30_000.0, 31_000.0),
        Config("covet", "uvicorn", "json", "wrk", 256, 30_000.0, 31_000.0),
        Config("covet", "uvicorn", "plaintext", "wrk", 64, 30_000.0, 31_000.0),
    ]
    assert implausible(configs) == {ConfigKey("covet", "uvicorn", "json", "wrk", 64)}


def test_implausible_needs_a_floor() -> None:
    configs = [Config("covet", "uvicorn", "json", "wrk", 64, 30_000.0, 31_000.0)]
    assert implausible(configs) == set()
    assert implausible([*configs, Config("raw", "uvicorn", "json", "wrk", 64, 1.0, 2.0)]) == {
        ConfigKey("covet", "uvicorn", "json", "wrk", 64)
    }


def test_a_clear_leader_wins_with_its_lead() -> None:
    standing = tied({"granian": (32.0, 31.0, 33.0), "covet": (25.0, 24.0, 26.0)})
    assert standing.winner == "granian"
    assert standing.tied == ("granian",)
    assert standing.lead == pytest.approx(0.28)


def test_overlapping_intervals_are_tied_within_noise() -> None:
    # a 1.6 % lead inside overlapping intervals is no win
    standing = tied(
        {
            "covet": (20_300.0, 19_000.0, 21_500.0),
            "granian": (20_625.0, 19_800.0, 22_000.0),
            "uvicorn": (12_000.0, 9_900.0, 13_000.0),
            "hypercorn": (19_500.0, 18_000.0, 19_900.0),
        }
    )
    assert standing == Standing(None, ("granian", "covet", "hypercorn"))


def test_standing_of_one_or_none() -> None:
    assert tied({"only": (1.0, 0.5, 2.0)}) == Standing("only", ("only",))
    assert tied({}) == Standing(None, ())


def test_flags_compose_on_real_summaries() -> None:
    """The quick run's covet@uvicorn json: two trials, CV 42 %: neither stable nor readable."""
    trials = [10_500.0, 19_300.0]
    interval = median_interval(trials)
    assert median(trials) == 14_900.0
    assert unstable(trials) and too_few_trials(interval.level)
    assert interval.level == 0.5
