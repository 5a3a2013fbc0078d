"""Can this trial's figure be believed? Validity flags judged from the load result and the monitor.

A throughput figure is only the server's if the server was the bottleneck and nothing else
interfered. `judge` returns the flags (the `FLAG_*` constants of `covetbench.records`) a trial
earns; the report explains each with `FLAG_DESCRIPTIONS`. Thresholds, and why:

- `generator_bound`: generator CPU >= 90 % of its cores (100 % = one core). The figure the field
  uses (TFB #5207, locust's own warning): above it the generator, not the server, sets the pace.
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
- `errors`: failed requests (non-2xx plus socket errors) over 0.1 % of attempts; a trial that
  completed no request at all is 100 % errors.
- `interference`: processes other than server and generator used more than 5 % of a core. On these
  shared machines a neighbour's compile cost 10-25 % silently.

    flags = judge(load_result, monitor_sample, concurrency=64, server_cores=1, loadgen_cores=1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from covetbench.records import (
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    FLAG_INTERFERENCE,
    FLAG_LITTLES_LAW_MISMATCH,
    FLAG_SERVER_UNSATURATED,
    LoadResult,
)

GENERATOR_BOUND_FRACTION = 0.90
SERVER_SATURATED_FRACTION = 0.75
LITTLES_LAW_TOLERANCE = 0.20
ERROR_RATE_LIMIT = 0.001
INTERFERENCE_LIMIT_PCT = 5.0


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

    Nominally its pinned cores, at most one per thread. Whatever other processes took on those
    cores during the trial was not available to it: a generator squeezed onto half a core by a
    neighbour and using all of that half is as bound as one using a whole core, and its figure
    measures the squeeze, not the server. So the share others took is subtracted (per-core busy
    time minus the generator's own CPU); the judge then flags `generator_bound` when the
    generator used >= 90 % of what was left.
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
    """Failed requests (non-2xx + socket errors) over attempts; 1.0 when nothing completed."""
    socket_errors = load.errors.total - load.errors.non2xx
    attempts = load.requests + socket_errors
    if load.requests == 0:
        return 1.0
    return load.errors.total / attempts


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
    found: list[Finding] = []
    generator_cap = 100.0 * loadgen_cores
    bound = sample.loadgen_cpu_pct >= GENERATOR_BOUND_FRACTION * generator_cap
    if bound:
        found.append(
            Finding(
                FLAG_GENERATOR_BOUND,
                f"generator CPU {sample.loadgen_cpu_pct:.0f}% of {generator_cap:.0f}% available",
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
    return found


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
