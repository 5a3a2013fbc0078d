"""The host canary: the same small piece of CPU work, timed on the server's core before a trial.

On a VM the guest cannot see the host: server CPU 99 %, no interference, and still the cost of a
request moves by 2x between trials (uvicorn raw 9.9k-21.8k req/s over ten runs here). If the
host is what moves, a fixed workload timed on the same core moves with it, and a trial whose
canary ran measurably slower than the run's median can be flagged `host_slow` instead of being
read as the server's figure. Whether it actually explains the variance is an empirical question
(`rank_correlation` of canary times against requests/s); keep the flag only where it does.

The work is interpreter-bound Python (calls, small-int arithmetic, a dict, bytes formatting),
the kind of work the measured servers do per request, fixed in size so its checksum proves it
was the same work every time. It runs in this process, on one core via
`os.sched_setaffinity` of the calling thread (restored afterwards), between trials while the
server idles: call it from the thread that would otherwise wait, with no other busy thread.

    canary = run_canary(core=0)          # Canary(core=0, durations_s=(0.018, 0.017, 0.017), ...)
    canary.median_s
    host_slow([c.median_s for c in per_trial])   # -> [False, True, False, ...]
    canary_summary(trials)               # results.json meta["canary"]: spread, correlation
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from covetbench.records import TrialRecord
from covetbench.stats import group_by_key

#: rounds of the workload: tens of ms of CPython 3.11 here (42-112 ms with the VM at load 6)
DEFAULT_ROUNDS = 40_000
DEFAULT_REPEATS = 3
#: a trial's canary this much slower than the run's median marks the host as slow
HOST_SLOW_TOLERANCE = 0.10
#: a run's canary flags trials `host_slow` only when it tracked throughput in that run: a rank
#: correlation with the trials' relative requests/s at or below this, over enough trials
TRUSTED_CORRELATION = -0.5
MIN_CORRELATION_TRIALS = 10
_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
class Canary:
    """One canary measurement: `repeats` timings (wall seconds) of the same work on `core`.

    `checksum` is the work's result, identical whenever the work was; `ran_on` the CPUs the
    thread was allowed while it ran (`{core}` when pinned).
    """

    core: int | None
    rounds: int
    durations_s: tuple[float, ...]
    checksum: int
    ran_on: frozenset[int]

    @property
    def median_s(self) -> float:
        return float(statistics.median(self.durations_s))

    @property
    def min_s(self) -> float:
        return min(self.durations_s)


def _step(i: int, table: dict[int, int]) -> int:
    key = i & 255
    table[key] = (table.get(key, 0) + i) & _MASK
    return (i * 31) ^ len(b"%d" % i)


def workload(rounds: int = DEFAULT_ROUNDS) -> int:
    """The fixed work: `rounds` steps; returns a checksum that depends on every step."""
    acc = 0
    table: dict[int, int] = {}
    for i in range(rounds):
        acc = (acc * 33 + _step(i, table)) & _MASK
    return (acc + sum(table.values())) & _MASK


def run_canary(
    core: int | None = None, rounds: int = DEFAULT_ROUNDS, repeats: int = DEFAULT_REPEATS
) -> Canary:
    """Time `workload(rounds)` `repeats` times on `core` (None: wherever the thread may run).

    Only the calling thread is pinned, and its previous CPU set is restored on the way out.
    Raises ValueError for a core this process may not use, or no repeats.
    """
    if repeats < 1 or rounds < 1:
        raise ValueError("need at least one round and one repeat")
    previous = os.sched_getaffinity(0)
    if core is not None:
        if core not in previous:
            raise ValueError(f"core {core} is not available (allowed: {sorted(previous)})")
        os.sched_setaffinity(0, {core})
    try:
        ran_on = frozenset(os.sched_getaffinity(0))
        workload(min(rounds, 1_000))  # warm the code path: the first call pays for lookups
        durations = []
        checksum = 0
        for _ in range(repeats):
            started = time.perf_counter()
            checksum = workload(rounds)
            durations.append(time.perf_counter() - started)
    finally:
        if core is not None:
            os.sched_setaffinity(0, previous)
    return Canary(core, rounds, tuple(durations), checksum, ran_on)


def canary_ms(cpus: Sequence[int]) -> float | None:
    """The canary's median time on the first of `cpus`, in ms; None without one, or when this
    process may not run there (the trial is then simply not timed)."""
    if not cpus:
        return None
    try:
        return run_canary(core=cpus[0]).median_s * 1000.0
    except ValueError:
        return None


def host_slow(canary_s: Sequence[float], tolerance: float = HOST_SLOW_TOLERANCE) -> list[bool]:
    """Per trial: was its canary more than `tolerance` slower than the run's median canary?"""
    if not canary_s:
        return []
    reference = statistics.median(canary_s)
    return [c > reference * (1.0 + tolerance) for c in canary_s]


def rank_correlation(canary_s: Sequence[float], rps: Sequence[float]) -> float | None:
    """Spearman's rank correlation of canary times against requests/s, trial by trial.

    Strongly negative (slow canary, low throughput) means the canary sees what moves the
    figures; near 0 means it does not and `host_slow` should not be trusted. None with fewer
    than three trials or when either side is constant.
    """
    if len(canary_s) != len(rps):
        raise ValueError("one canary time per trial")
    if len(rps) < 3 or len(set(canary_s)) < 2 or len(set(rps)) < 2:
        return None
    return statistics.correlation(_ranks(canary_s), _ranks(rps))


def _ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank (as Spearman's coefficient needs)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def canary_summary(trials: Sequence[TrialRecord]) -> dict[str, Any] | None:
    """The run's canary figures for `meta["canary"]` (None when no trial timed it).

    `spread_pct` is how much slower the slowest canary ran than the fastest; `rank_correlation`
    relates each trial's canary to its requests/s as a fraction of its configuration's median
    (so the apps' different speeds do not count): near -1, the canary sees what moves the
    figures; near 0 it does not. `trusted` says whether it did in this run (see
    `TRUSTED_CORRELATION`); only then are its `slow_trials` flagged `host_slow`.
    """
    timed = [t for t in trials if t.canary_ms is not None]
    if not timed:
        return None
    canary = [float(t.canary_ms or 0.0) for t in timed]
    medians = {
        key: statistics.median(t.rps for t in group) for key, group in group_by_key(timed).items()
    }
    relative = [t.rps / medians[t.key] if medians[t.key] > 0 else 0.0 for t in timed]
    correlation = rank_correlation(canary, relative)
    trusted = (
        correlation is not None
        and correlation <= TRUSTED_CORRELATION
        and len(timed) >= MIN_CORRELATION_TRIALS
    )
    return {
        "median_ms": statistics.median(canary),
        "min_ms": min(canary),
        "max_ms": max(canary),
        "spread_pct": (max(canary) / min(canary) - 1.0) * 100.0 if min(canary) > 0 else None,
        "trials": len(timed),
        "slow_trials": sum(host_slow(canary)),
        "tolerance_pct": HOST_SLOW_TOLERANCE * 100.0,
        "rank_correlation": correlation,
        "trusted": trusted,
    }


def slow_trial_flags(trials: Sequence[TrialRecord]) -> list[bool]:
    """Per trial (in order): flag it `host_slow`? Only in a run whose canary is `trusted`."""
    summary = canary_summary(trials)
    if summary is None or not summary["trusted"]:
        return [False] * len(trials)
    reference = summary["median_ms"] * (1.0 + HOST_SLOW_TOLERANCE)
    return [t.canary_ms is not None and t.canary_ms > reference for t in trials]
