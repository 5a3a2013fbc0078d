"""The host canary: the same work every time, timed on the core it was asked for, and the two
pure judgements made from its timings (host_slow per trial, rank correlation with rps)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from covetbench.records import TrialRecord
from covetbench.run.canary import (
    DEFAULT_REPEATS,
    Canary,
    canary_summary,
    host_slow,
    rank_correlation,
    run_canary,
    slow_trial_flags,
    workload,
)
from tests.harness.factories import make_trial


def test_the_work_is_the_same_every_time() -> None:
    assert workload(5_000) == workload(5_000)
    assert workload(5_000) != workload(5_001)


@pytest.mark.parametrize("core", sorted(os.sched_getaffinity(0)))
def test_canary_times_positive_durations_on_the_requested_core(core: int) -> None:
    before = os.sched_getaffinity(0)
    canary = run_canary(core=core, rounds=5_000)
    assert canary.core == core and canary.ran_on == {core}
    assert os.sched_getaffinity(0) == before, "the thread's CPU set is restored"
    assert len(canary.durations_s) == DEFAULT_REPEATS
    assert all(d > 0 for d in canary.durations_s)
    assert canary.min_s <= canary.median_s
    assert canary.checksum == workload(5_000)


def test_canary_is_repeatable_in_shape() -> None:
    first, second = run_canary(rounds=5_000, repeats=4), run_canary(rounds=5_000, repeats=4)
    assert isinstance(first, Canary)
    assert (first.rounds, len(first.durations_s), first.checksum, first.ran_on) == (
        second.rounds,
        len(second.durations_s),
        second.checksum,
        second.ran_on,
    )
    assert first.core is None and first.ran_on == frozenset(os.sched_getaffinity(0))


def test_canary_refuses_a_core_it_may_not_use() -> None:
    with pytest.raises(ValueError):
        run_canary(core=max(os.sched_getaffinity(0)) + 1024)
    with pytest.raises(ValueError):
        run_canary(repeats=0)


def test_host_slow_marks_trials_slower_than_the_median() -> None:
    assert host_slow([0.020, 0.021, 0.026, 0.019, 0.020]) == [False, False, True, False, False]
    assert host_slow([0.020, 0.0215], tolerance=0.10) == [False, False]
    assert host_slow([]) == []


def test_rank_correlation_sees_a_canary_that_tracks_throughput() -> None:
    canary = [0.020, 0.030, 0.022, 0.040, 0.021]
    rps = [30_000.0, 20_000.0, 27_000.0, 15_000.0, 29_000.0]
    assert rank_correlation(canary, rps) == pytest.approx(-1.0)
    assert rank_correlation([0.02, 0.02, 0.02], [1.0, 2.0, 3.0]) is None
    assert rank_correlation([0.02, 0.03], [1.0, 2.0]) is None
    with pytest.raises(ValueError):
        rank_correlation([0.02], [1.0, 2.0])


def test_rank_correlation_shares_ranks_between_ties() -> None:
    # ties in rps: scipy.stats.spearmanr gives -0.9486832980505139 for these
    canary = [0.020, 0.030, 0.022, 0.040]
    rps = [30_000.0, 20_000.0, 30_000.0, 15_000.0]
    assert rank_correlation(canary, rps) == pytest.approx(-0.9486832980505139)


def test_canary_summary_relates_each_trial_to_its_own_configuration() -> None:
    # two apps at very different speeds; in both, the slow-canary trials are the slow ones
    rows = [
        ("raw", 30_000.0, 20.0),
        ("raw", 20_000.0, 30.0),
        ("raw", 29_000.0, 21.0),
        ("covet", 10_000.0, 22.0),
        ("covet", 7_000.0, 31.0),
        ("covet", 9_800.0, 20.5),
    ]
    trials = [
        dataclasses.replace(_record(app, rps), canary_ms=ms, trial=i)
        for i, (app, rps, ms) in enumerate(rows, start=1)
    ]
    summary = canary_summary(trials)
    assert summary is not None
    assert summary["trials"] == 6 and summary["median_ms"] == pytest.approx(21.5)
    assert summary["spread_pct"] == pytest.approx(31.0 / 20.0 * 100 - 100)
    assert summary["slow_trials"] == 2
    assert summary["rank_correlation"] < -0.7
    assert canary_summary([_record("raw", 1.0)]) is None


def _record(app: str, rps: float) -> TrialRecord:
    return make_trial(rps, 1, app=app)


def test_host_slow_is_flagged_only_where_the_canary_tracked_throughput() -> None:
    # 12 trials of one configuration: the slow-canary ones are the slow ones -> trusted
    tracked = [
        dataclasses.replace(_record("raw", rps), canary_ms=ms, trial=i)
        for i, (rps, ms) in enumerate(
            [(100.0, 20.0), (99.0, 20.5), (70.0, 30.0), (101.0, 19.8), (98.0, 21.0)] * 2
            + [(60.0, 32.0), (102.0, 20.1)],
            start=1,
        )
    ]
    flags = slow_trial_flags(tracked)
    assert summary_of(tracked)["trusted"] is True
    assert flags == [t.canary_ms is not None and t.canary_ms > 22.0 for t in tracked]
    assert sum(flags) == 3
    # the same canary times against throughput they do not track -> recorded, not flagged
    untracked = [dataclasses.replace(t, rps=100.0 + (i % 3)) for i, t in enumerate(tracked)]
    assert summary_of(untracked)["trusted"] is False
    assert slow_trial_flags(untracked) == [False] * len(untracked)


def summary_of(trials: list[TrialRecord]) -> dict[str, object]:
    summary = canary_summary(trials)
    assert summary is not None
    return summary
