"""Configuration flags: unstable trials, intervals too weak to read, a framework that outruns the
raw floor, and winners named only when their interval stands clear of every other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console

from covetbench.records import ConfigKey, ConfigSummary, TrialRecord
from covetbench.run.progress import summary_table
from covetbench.run.standing import Standing, tied
from covetbench.run.validity import (
    CONFIG_FLAG_DESCRIPTIONS,
    FLAG_IMPLAUSIBLE,
    FLAG_TOO_FEW_TRIALS,
    FLAG_UNSTABLE,
    MAX_CV,
    implausible,
    judge_configs,
    max_cv_of,
    outruns,
    too_few_trials,
    unstable,
)
from covetbench.stats import median, median_interval
from tests.harness.factories import make_trial


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


# -- wired into the summaries ----------------------------------------------------------------


def _trials(rps: list[float], **overrides: Any) -> list[TrialRecord]:
    return [make_trial(v, i, **overrides) for i, v in enumerate(rps)]


def test_a_two_trial_summary_states_its_level_and_method() -> None:
    [summary] = judge_configs(_trials([10_500.0, 19_300.0]))
    assert (summary.ci_low, summary.ci_high) == (10_500.0, 19_300.0)
    assert (summary.ci_level, summary.ci_method) == (0.5, "min-max")
    assert summary.config_flags == [FLAG_UNSTABLE, FLAG_TOO_FEW_TRIALS]
    assert not summary.ok
    assert summary.interval_note == "min-max, 50 %"


def test_a_steady_five_trial_summary_is_ok() -> None:
    [summary] = judge_configs(_trials([20_000.0, 20_400.0, 19_800.0, 20_100.0, 19_900.0]))
    assert summary.ci_level == 0.9375 and summary.ci_method == "min-max"
    assert summary.config_flags == [] and summary.ok
    assert summary.interval_note == "min-max, 93 %", "rounded down, never up to 95 %"


def test_max_cv_decides_unstable() -> None:
    rps = [20_000.0, 23_000.0, 17_000.0, 20_500.0, 19_500.0]  # CV ~11 %
    [loose] = judge_configs(_trials(rps), max_cv=0.20)
    [strict] = judge_configs(_trials(rps))
    assert loose.config_flags == [] and strict.config_flags == [FLAG_UNSTABLE]


def test_judge_configs_flags_the_framework_that_outruns_raw_on_its_own_key() -> None:
    fast = [14_500.0, 14_900.0, 15_200.0, 14_800.0, 15_000.0]
    floor = [10_900.0, 11_200.0, 11_600.0, 11_000.0, 11_300.0]
    trials = _trials(fast) + _trials(floor, app="raw")
    # on another server, or pipelined, the floor is another configuration: not comparable
    trials += _trials(fast, server="granian") + _trials(fast, pipeline=16)
    flagged = {s.key: s.config_flags for s in judge_configs(trials)}
    assert flagged == {
        ConfigKey("covet", "uvicorn", "json", "wrk", 64): [FLAG_IMPLAUSIBLE],
        ConfigKey("raw", "uvicorn", "json", "wrk", 64): [],
        ConfigKey("covet", "granian", "json", "wrk", 64): [],
        ConfigKey("covet", "uvicorn", "json", "wrk", 64, 16): [],
    }


def test_max_cv_of_reads_what_the_run_used() -> None:
    assert max_cv_of({}) == MAX_CV
    assert max_cv_of({"suite_config": {"max_cv_pct": 5.0}}) == pytest.approx(0.05)


def _console_text(summary: list[ConfigSummary]) -> str:
    console = Console(record=True, width=160)
    console.print(summary_table([s.to_dict() for s in summary]))
    return console.export_text()


def test_console_table_shows_config_flags_and_the_level() -> None:
    shaky = _trials([20_000.0, 24_000.0, 16_000.0, 21_000.0, 19_000.0])  # CV ~15 %
    steady = _trials([20_000.0, 20_400.0, 19_800.0, 20_100.0, 19_900.0], server="granian")
    text = _console_text(judge_configs(shaky + steady))
    shaky_row = next(line for line in text.splitlines() if "covet@uvicorn" in line)
    steady_row = next(line for line in text.splitlines() if "covet@granian" in line)
    assert shaky_row.split("│")[-2].strip() == "unstable" and " ok " not in shaky_row
    assert "15%" in shaky_row
    assert steady_row.split("│")[-2].strip() == "ok"
    assert "(min-max, 93 %)" in steady_row
    assert "95" not in text, "no interval here reaches 95 %: none may be called so"
    two = _console_text(judge_configs(_trials([10_500.0, 19_300.0])))
    assert "10.5k-19.3k (min-max, 50 %)" in two and "too_few_trials" in two
