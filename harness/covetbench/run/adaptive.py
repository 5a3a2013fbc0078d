"""Adaptive trials: which configurations the next interleaved round measures, and when to stop.

A fixed trial count is either wasted on a steady configuration or too small for a jittery one.
With `--precision PCT` a configuration is done once the relative half-width of its median's
interval (the same order-statistics interval the summary reports, at the level it actually
reaches, which must be at least `MIN_CI_LEVEL`) is at most PCT %. Until then every round
measures it again, furthest from the target first, within `--max-trials` per configuration and
the run's `--time-budget`; what is still short when either runs out is flagged `unstable` by
`validity.judge_configs`.

Rounds stay interleaved and paired: a configuration picked for a round brings its comparison
partner (the `raw` floor on the same server, for `app_vs_raw` ratios) into the same round, or
the extra trial could not be paired. Without `--precision` the plan is the fixed one: every
configuration in each of `trials` rounds, the time budget (when set) cutting the last rounds.

Note on the order-statistics interval: at the 95 % level it is the whole range [min, max] up
to 8 trials (93.75 % at 5, 96.9 % at 6) and first drops the extremes at 9, so trials 6-8 raise
the interval's level rather than narrow it.

    plan = RoundPlanner(configs, partner, target=0.05, min_trials=5, max_trials=9)
    batch = plan.next_round(rps_so_far, seconds_left=120.0, trial_cost_s=3.7)
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from covetbench.run.validity import within_precision
from covetbench.stats import CI_LEVEL, median, median_interval

C = TypeVar("C", bound=Hashable)


def relative_half_width(rps: Sequence[float], level: float = CI_LEVEL) -> float:
    """Half the width of the median's interval over the median; inf below two trials."""
    if len(rps) < 2:
        return math.inf
    centre = median(rps)
    if centre <= 0:
        return math.inf
    interval = median_interval(rps, level)
    return (interval.high - interval.low) / 2.0 / centre


def meets_precision(rps: Sequence[float], target: float) -> bool:
    """`validity.within_precision` of the median interval of `rps` (what the summary reports)."""
    if len(rps) < 2:
        return False
    interval = median_interval(rps, CI_LEVEL)
    return within_precision(median(rps), (interval.low, interval.high), interval.level, target)


def distance(rps: Sequence[float], target: float) -> float:
    """How far from done: relative half-width over the target (> 1: not there yet); a
    configuration whose interval is below `MIN_CI_LEVEL` counts as at least 1 away."""
    if len(rps) < 2:
        return math.inf
    away = relative_half_width(rps) / target
    return away if meets_precision(rps, target) else max(away, 1.0 + 1e-9)


@dataclass
class RoundPlanner(Generic[C]):
    """Chooses each round's configurations (see the module docstring).

    `configs` in schedule order (compared configurations next to each other); `partner(c)` the
    configuration `c` is paired with, or None; `target` None: fixed rounds of every
    configuration until `min_trials`.
    """

    configs: Sequence[C]
    partner: Callable[[C], C | None]
    target: float | None
    min_trials: int
    max_trials: int

    def __post_init__(self) -> None:
        if self.target is None:
            self.max_trials = self.min_trials
        if self.max_trials < self.min_trials:
            raise ValueError("max_trials must be >= min_trials")

    def needs_more(self, rps: Sequence[float]) -> bool:
        if len(rps) >= self.max_trials:
            return False
        if len(rps) < self.min_trials or self.target is None:
            return True
        return not meets_precision(rps, self.target)

    def _urgency(self, rps: Sequence[float]) -> float:
        if len(rps) < self.min_trials or self.target is None:
            return math.inf
        return distance(rps, self.target)

    def next_round(
        self,
        rps: Mapping[C, Sequence[float]],
        seconds_left: float = math.inf,
        trial_cost_s: float = 0.0,
    ) -> list[C]:
        """The configurations of the next round, in schedule order; [] when the run is done.

        Furthest from the target first, each with its partner (when the partner is among
        `configs` and below `max_trials` itself), as many as `seconds_left` pays for at
        `trial_cost_s` a trial.
        """
        wanted = [c for c in self.configs if self.needs_more(rps.get(c, ()))]
        wanted.sort(key=lambda c: self._urgency(rps.get(c, ())), reverse=True)
        if seconds_left <= 0:
            affordable: float = 0
        elif trial_cost_s <= 0 or math.isinf(seconds_left):
            affordable = math.inf
        else:
            affordable = math.floor(seconds_left / trial_cost_s)
        chosen: set[C] = set()
        for config in wanted:
            mate = self.partner(config)
            group = {config}
            if (
                mate is not None
                and mate in self.configs
                and len(rps.get(mate, ())) < self.max_trials
            ):
                group.add(mate)
            extra = group - chosen
            if len(chosen) + len(extra) > affordable:
                continue
            chosen |= extra
        return [c for c in self.configs if c in chosen]


def run_rounds(
    planner: RoundPlanner[C],
    take: Callable[[C, int, int], float | None],
    is_active: Callable[[C], bool],
    deadline: float | None = None,
    first_cost_s: float = 4.0,
    clock: Callable[[], float] = time.monotonic,
) -> list[C]:
    """Measure round after round as `planner` chooses, alternating direction, until it chooses
    nothing; return the configurations still short of their trials or target (the deadline,
    on `clock`, stopped them). No round starts that the time left cannot pay for at the mean
    wall time of a trial so far (`first_cost_s` before the first); every configuration is
    measured at least once. `is_active(c)` False drops a configuration (its server failed).
    """
    rps: dict[C, list[float]] = {}
    walls: list[float] = []
    round_no = 0
    while True:
        planner.configs = [c for c in planner.configs if is_active(c)]
        left_s = math.inf if deadline is None else deadline - clock()
        cost_s = statistics.fmean(walls) if walls else first_cost_s
        batch = planner.next_round(rps, left_s, cost_s)
        if round_no == 0 and not batch:
            batch = list(planner.configs)
        if not batch:
            break
        round_no += 1
        for config in batch if round_no % 2 else list(reversed(batch)):
            if not is_active(config):
                continue
            began = clock()
            kept = take(config, len(rps.get(config, ())) + 1, round_no)
            if kept is not None:
                rps.setdefault(config, []).append(kept)
                walls.append(clock() - began)
    return [c for c in planner.configs if planner.needs_more(rps.get(c, ()))]
