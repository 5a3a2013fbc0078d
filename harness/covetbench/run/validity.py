"""Can this trial's figure be believed? Validity flags judged from the load result and the monitor.

A throughput figure is only the server's if the server was the bottleneck and nothing else
interfered. `judge` returns the flags (the `FLAG_*` constants of `covetbench.records`) a trial
earns; the report explains each with `FLAG_DESCRIPTIONS`. Thresholds, and why:

- `generator_bound`: generator CPU >= 90 % of its cores (100 % = one core). The figure the field
  uses (TFB #5207, locust's own warning): above it the generator, not the server, sets the pace.
  Its cores are the pinned ones it can keep busy at once: one per wrk thread, one per locust
  worker process (`LoadResult.parallelism`); its CPU is the whole generator's (for locust the
  master's and every worker's, summed) over its own measured window when the driver gives one
  (`LoadResult.window_cpu_pct`: locust's processes live seconds beyond the requests), so a
  saturated locust is never read as the server's speed (FastHttpUser: ~16k requests/s per core
  at best).
- `server_unsaturated`: server CPU < 75 % of the cores it can use, while the generator is not
  bound. A saturated single-worker Python server sits at 95-100 % of a core; part of its network
  work runs in softirq context that may be charged elsewhere and psutil's sampling has a few
  percent of jitter, so 75 % leaves room for both while still catching the classic failure
  (server at 50 % because of too few connections, a lock, or a sleeping backend). When the
  generator is bound that flag already says why the server idled, so this one is not added.
  `server_cores` must be the cores the server can actually use: min(pinned cores, workers) for
  single-threaded workers.
- `littles_law_mismatch`: in a closed loop, concurrency = throughput x mean latency (Little's law).
  More than 20 % apart means connections were not all established, or the latency is wrong. Skipped
  when the mean latency is unknown or requests are pipelined (several in flight per connection,
  and wrk's latency is then per batch). Also raised when the generator reports fewer than 80 % of
  the requested connections established.
- Open loop (`load.corrected`, a rate given): the server is meant to idle below its capacity
  and the connections are not all busy, so `server_unsaturated` and Little's law do not apply
  as above. What matters is whether the schedule was held: when more than 1 % of the intended
  sends were late (`LoadResult.late_sends`, never sent included), the trial is
  `generator_bound` if the generator itself was busy (CPU >= 75 % of what it could get: lower
  than the closed loop's 90 %, since falling behind is already established) or its own timers
  fired late for more than 1 % of them (`late_wakeups`); otherwise, with the server's CPU below
  75 % of its cores, `server_unsaturated` (too few connections, or the server was stopped);
  otherwise the server was saturated: a true figure of an overloaded server, not flagged.
- `errors`: failed requests (non-2xx plus socket errors) over 0.1 % of attempts; a trial that
  completed no request at all is 100 % errors.
- `interference`: processes other than server and generator used more than 5 % of a core. On these
  shared machines a neighbour's compile cost 10-25 % silently.

    flags = judge(load_result, monitor_sample, concurrency=64, server_cores=1, loadgen_cores=1)

Configuration flags judge the trials of one configuration together, as pure functions over the
figures `covetbench.stats` computes; `judge_configs` builds the summaries with them in
`config_flags` (the names and descriptions live in `covetbench.records`):

- `unstable`: CV of the trials' requests/s above `max_cv` (default 10 %): the median of trials
  that far apart is one draw of a moving target (uvicorn raw here: 9.9k-21.8k, CV ~25 %).
- `too_few_trials`: the median interval's actual level below 0.90 (n <= 4 with order
  statistics): the interval is [min, max] and holds the median less often than it seems.
- `implausible`: a framework app's interval lies wholly above the `raw` app's on the same
  server, scenario, load generator, concurrency and pipeline depth. raw does the least work an
  app can do, so a framework cannot be faster: the run measured noise, not the apps. A check
  the harness makes about itself.
- `tied` (in `run.standing`): "fastest" only when the leader's interval overlaps no other's,
  else the tied set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# the configuration flags are declared with the trial flags in records; re-exported here
from covetbench.records import CONFIG_FLAG_DESCRIPTIONS as CONFIG_FLAG_DESCRIPTIONS
from covetbench.records import (
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    FLAG_INTERFERENCE,
    FLAG_LITTLES_LAW_MISMATCH,
    FLAG_SERVER_UNSATURATED,
    ConfigKey,
    ConfigSummary,
    LoadResult,
    TrialRecord,
)
from covetbench.records import FLAG_IMPLAUSIBLE as FLAG_IMPLAUSIBLE
from covetbench.records import FLAG_TOO_FEW_TRIALS as FLAG_TOO_FEW_TRIALS
from covetbench.records import FLAG_UNSTABLE as FLAG_UNSTABLE
from covetbench.stats import CI_LEVEL, cv, group_by_key, summarize

GENERATOR_BOUND_FRACTION = 0.90
SERVER_SATURATED_FRACTION = 0.75
LITTLES_LAW_TOLERANCE = 0.20
ERROR_RATE_LIMIT = 0.001
INTERFERENCE_LIMIT_PCT = 5.0
#: open loop: share of the intended sends that may be late (or late wake-ups) before it counts
LATE_SENDS_LIMIT = 0.01
#: open loop: generator CPU (of what it could get) that makes a missed schedule its own fault
OPEN_LOOP_BUSY_FRACTION = 0.75

#: `--max-cv`: trials' coefficient of variation above which a configuration is unstable
MAX_CV = 0.10
#: interval level below which a configuration has too few trials to be read
MIN_CI_LEVEL = 0.90
#: the app whose figure is the floor no framework app can beat on the same server
FLOOR_APP = "raw"


class MonitorSampleLike(Protocol):
    """What validity needs from `covetbench.run.monitor.MonitorSample` (CPU %: 100 = one core)."""

    @property
    def server_cpu_pct(self) -> float: ...

    @property
    def loadgen_cpu_pct(self) -> float: ...

    @property
    def interference_pct(self) -> float: ...


def generator_cores(sample: MonitorSampleLike, cpus: Sequence[int], threads: int) -> float:
    """The CPU the generator could actually get, in cores, for `validity.judge`.

    Nominally its pinned cores, at most one per thread (`threads`: the generator's parallelism,
    e.g. `LoadResult.parallelism`, locust's worker processes). Whatever other processes took on
    those cores during the trial was not available to it: a generator squeezed onto half a core
    by a neighbour and using all of that half is as bound as one using a whole core, and its
    figure measures the squeeze, not the server. So the share others took is subtracted
    (per-core busy time minus the generator's own CPU); the judge then flags `generator_bound`
    when the generator used >= 90 % of what was left.
    """
    nominal = float(max(1, min(len(cpus), threads)))
    per_core: dict[int, float] = getattr(sample, "per_core_busy_pct", None) or {}
    if not per_core:
        return nominal
    busy = sum(per_core.get(cpu, 0.0) for cpu in cpus)
    taken = max(0.0, busy - sample.loadgen_cpu_pct) / 100.0
    return max(0.05, min(nominal, len(cpus) - taken))


@dataclass(frozen=True)
class Finding:
    """One flag and the numbers that earned it, e.g. for a log line or a report tooltip."""

    flag: str
    detail: str


def error_rate(load: LoadResult) -> float:
    """Failed requests (non-2xx, socket errors, rejected answers) over attempts (answers plus
    socket errors); 1.0 when nothing completed."""
    attempts = load.requests + load.errors.socket
    if load.requests == 0:
        return 1.0
    return load.errors.total / attempts


def generator_cpu_pct(load: LoadResult, sample: MonitorSampleLike) -> float:
    """The generator's CPU % that `generator_bound` judges: over its own measured window when
    the driver measured one (`LoadResult.window_cpu_pct`), else over the trial's."""
    if load.window_cpu_pct is not None:
        return load.window_cpu_pct
    return sample.loadgen_cpu_pct


def littles_law_concurrency(load: LoadResult) -> float | None:
    """rps x mean latency (s): the concurrency the measurements imply; None if latency unknown."""
    mean_ms = load.latency_ms.mean
    if mean_ms is None:
        return None
    return load.rps * mean_ms / 1000.0


def findings(
    load: LoadResult,
    sample: MonitorSampleLike,
    concurrency: int,
    server_cores: float,
    loadgen_cores: float,
    pipeline: int = 1,
) -> list[Finding]:
    """Every validity flag this trial earns, with the figures behind it."""
    if load.corrected and load.intended_requests is not None:
        schedule = _open_loop_findings(load, sample, server_cores, loadgen_cores)
        return schedule + _common_findings(load, sample, concurrency, schedule)
    found: list[Finding] = []
    generator_cap = 100.0 * loadgen_cores
    generator_pct = generator_cpu_pct(load, sample)
    bound = generator_pct >= GENERATOR_BOUND_FRACTION * generator_cap
    if bound:
        found.append(
            Finding(
                FLAG_GENERATOR_BOUND,
                f"generator CPU {generator_pct:.0f}% of {generator_cap:.0f}% available",
            )
        )

    server_cap = 100.0 * server_cores
    if not bound and sample.server_cpu_pct < SERVER_SATURATED_FRACTION * server_cap:
        found.append(
            Finding(
                FLAG_SERVER_UNSATURATED,
                f"server CPU {sample.server_cpu_pct:.0f}% of {server_cap:.0f}% available",
            )
        )

    implied = littles_law_concurrency(load)
    if pipeline <= 1 and implied is not None and concurrency > 0 and load.requests > 0:
        gap = abs(implied - concurrency) / concurrency
        if gap > LITTLES_LAW_TOLERANCE:
            found.append(
                Finding(
                    FLAG_LITTLES_LAW_MISMATCH,
                    f"rps x mean latency = {implied:.1f} in flight vs {concurrency} connections "
                    f"({gap:.0%} apart)",
                )
            )
    return found + _common_findings(load, sample, concurrency, found)


def _open_loop_findings(
    load: LoadResult, sample: MonitorSampleLike, server_cores: float, loadgen_cores: float
) -> list[Finding]:
    """Whether an open-loop trial held its schedule, and if not, whose fault it was."""
    intended = max(1, load.intended_requests or 0)
    late = load.late_sends or 0
    wakeups = load.late_wakeups or 0
    generator_cap = 100.0 * loadgen_cores
    if sample.loadgen_cpu_pct >= GENERATOR_BOUND_FRACTION * generator_cap:
        return [
            Finding(
                FLAG_GENERATOR_BOUND,
                f"generator CPU {sample.loadgen_cpu_pct:.0f}% of {generator_cap:.0f}% available",
            )
        ]
    if late <= LATE_SENDS_LIMIT * intended:
        return []
    behind = f"{late} of {intended} sends late"
    busy = sample.loadgen_cpu_pct >= OPEN_LOOP_BUSY_FRACTION * generator_cap
    if busy or wakeups > LATE_SENDS_LIMIT * intended:
        return [
            Finding(
                FLAG_GENERATOR_BOUND,
                f"{behind}; generator CPU {sample.loadgen_cpu_pct:.0f}% of "
                f"{generator_cap:.0f}% available, {wakeups} late wake-ups: the generator "
                "could not hold its rate",
            )
        ]
    server_cap = 100.0 * server_cores
    if sample.server_cpu_pct < SERVER_SATURATED_FRACTION * server_cap:
        return [
            Finding(
                FLAG_SERVER_UNSATURATED,
                f"{behind} while the server used {sample.server_cpu_pct:.0f}% of "
                f"{server_cap:.0f}%: too few connections, or the server was stopped",
            )
        ]
    return []


def _common_findings(
    load: LoadResult, sample: MonitorSampleLike, concurrency: int, found: list[Finding]
) -> list[Finding]:
    """The flags every generator's trial is judged on alike."""
    found = list(found)
    start = len(found)
    if (
        load.established is not None
        and load.established < (1.0 - LITTLES_LAW_TOLERANCE) * concurrency
        and not any(f.flag == FLAG_LITTLES_LAW_MISMATCH for f in found)
    ):
        found.append(
            Finding(
                FLAG_LITTLES_LAW_MISMATCH,
                f"{load.established} of {concurrency} connections established",
            )
        )

    rate = error_rate(load)
    if rate > ERROR_RATE_LIMIT:
        found.append(
            Finding(FLAG_ERRORS, f"{rate:.2%} of requests failed ({load.errors.total} errors)")
        )

    if sample.interference_pct > INTERFERENCE_LIMIT_PCT:
        found.append(
            Finding(
                FLAG_INTERFERENCE,
                f"other processes used {sample.interference_pct:.1f}% of a core",
            )
        )
    return found[start:]


def judge(
    load: LoadResult,
    sample: MonitorSampleLike,
    concurrency: int,
    server_cores: float,
    loadgen_cores: float,
    pipeline: int = 1,
) -> list[str]:
    """The validity flags of one trial, in a stable order (see the module docstring)."""
    return [
        f.flag for f in findings(load, sample, concurrency, server_cores, loadgen_cores, pipeline)
    ]


def unstable(rps: Sequence[float], max_cv: float = MAX_CV) -> bool:
    """True when the trials' coefficient of variation exceeds `max_cv`."""
    return len(rps) >= 2 and cv(rps) > max_cv


def too_few_trials(ci_level: float, min_level: float = MIN_CI_LEVEL) -> bool:
    """True when the median interval's actual level is below `min_level`."""
    return ci_level < min_level


def within_precision(
    centre: float,
    interval: tuple[float, float],
    level: float | None,
    target: float,
    min_level: float = MIN_CI_LEVEL,
) -> bool:
    """Is an interval of a median at least `min_level` sure and at most +-`target` of it wide?"""
    if level is None or level < min_level or centre <= 0:
        return False
    return (interval[1] - interval[0]) / 2.0 <= target * centre


def precise(summary: ConfigSummary, target: float) -> bool:
    """`within_precision` of a configuration's median interval."""
    interval = (summary.ci_low, summary.ci_high)
    return within_precision(summary.median_rps, interval, summary.ci_level, target)


def outruns(framework: tuple[float, float], floor: tuple[float, float]) -> bool:
    """True when interval `framework` (low, high) lies wholly above `floor`'s."""
    return framework[0] > floor[1]


class IntervalConfig(Protocol):
    """What `implausible` needs from a configuration's summary."""

    @property
    def app(self) -> str: ...

    @property
    def server(self) -> str: ...

    @property
    def scenario(self) -> str: ...

    @property
    def loadgen(self) -> str: ...

    @property
    def concurrency(self) -> int: ...

    @property
    def pipeline(self) -> int: ...

    @property
    def ci_low(self) -> float: ...

    @property
    def ci_high(self) -> float: ...


def _key(c: IntervalConfig) -> ConfigKey:
    return ConfigKey(c.app, c.server, c.scenario, c.loadgen, c.concurrency, c.pipeline)


def implausible(configs: Sequence[IntervalConfig], floor_app: str = FLOOR_APP) -> set[ConfigKey]:
    """Keys of the configurations that outrun the floor app measured under the same key minus
    the app: server, scenario, generator, concurrency and pipeline depth.

    Configurations without a floor to compare against are never flagged.
    """
    floors = {_key(c)[1:]: (c.ci_low, c.ci_high) for c in configs if c.app == floor_app}
    found: set[ConfigKey] = set()
    for c in configs:
        floor = floors.get(_key(c)[1:])
        if c.app != floor_app and floor is not None and outruns((c.ci_low, c.ci_high), floor):
            found.add(_key(c))
    return found


def config_flags(summary: ConfigSummary, rps: Sequence[float], max_cv: float = MAX_CV) -> list[str]:
    """The flags one configuration earns on its own (not `implausible`, which compares)."""
    flags = []
    if unstable(rps, max_cv):
        flags.append(FLAG_UNSTABLE)
    if summary.ci_level is not None and too_few_trials(summary.ci_level):
        flags.append(FLAG_TOO_FEW_TRIALS)
    return flags


def max_cv_of(meta: Mapping[str, Any]) -> float:
    """The `--max-cv` a run used (its `meta.suite_config.max_cv_pct`), else `MAX_CV`: so a
    summary rebuilt later from a run's trials is judged as the run judged it."""
    suite = meta.get("suite_config")
    pct = suite.get("max_cv_pct") if isinstance(suite, Mapping) else None
    return float(pct) / 100.0 if isinstance(pct, int | float) and pct > 0 else MAX_CV


def judge_configs(
    trials: Sequence[TrialRecord],
    max_cv: float = MAX_CV,
    floor_app: str = FLOOR_APP,
    level: float = CI_LEVEL,
    precision: float | None = None,
) -> list[ConfigSummary]:
    """`stats.summarize(trials)` with every summary's `config_flags` judged: the one place
    summaries are built for results.json, the report and the claims. With a `precision`
    target (adaptive trials), a configuration whose median interval is wider than it, or
    below a `MIN_CI_LEVEL` level, is `unstable` too.

        judge_configs(trials, max_cv=0.10)[0].config_flags   # -> ["unstable", "too_few_trials"]
    """
    groups = group_by_key(trials)
    summaries = summarize(trials, level)
    outrunning = implausible(summaries, floor_app)
    judged = []
    for s in summaries:
        rps = [t.rps for t in groups[s.key]]
        flags = config_flags(s, rps, max_cv)
        if precision is not None and FLAG_UNSTABLE not in flags and not precise(s, precision):
            flags.insert(0, FLAG_UNSTABLE)
        if s.key in outrunning:
            flags.append(FLAG_IMPLAUSIBLE)
        judged.append(dataclasses.replace(s, config_flags=flags))
    return judged
