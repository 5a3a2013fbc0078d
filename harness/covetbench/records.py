"""Plain records handed from one step of the harness to the next.

Every load generator returns one `LoadResult`; the runner wraps it with what the monitor saw
into one `TrialRecord`; stats turn trials into one `ConfigSummary` per configuration (one
`ConfigKey`). `results.json` is these records as JSON (`to_dict`), validated against
`results/schema.json` on write. Report, gate and claims read only
these records, never live processes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

#: 2: summaries carry `ci_low`/`ci_high`/`ci_level`/`ci_method` and `config_flags` (1 had
#: `ci95_low`/`ci95_high`, a bootstrap that was [min, max] at n <= 5); 1 is still read
SCHEMA_VERSION = 2

#: Validity flags a trial can carry (see `covetbench.run.validity`). The report explains each.
FLAG_GENERATOR_BOUND = "generator_bound"
FLAG_SERVER_UNSATURATED = "server_unsaturated"
FLAG_LITTLES_LAW_MISMATCH = "littles_law_mismatch"
FLAG_ERRORS = "errors"
FLAG_INTERFERENCE = "interference"
FLAG_HOST_SLOW = "host_slow"
FLAG_DESCRIPTIONS: dict[str, str] = {
    FLAG_GENERATOR_BOUND: "the load generator used >= 90% of its cores: the figure measures the "
    "generator, not the server",
    FLAG_SERVER_UNSATURATED: "the server's CPU stayed well below its cores while the generator "
    "was busy: something other than the server limited throughput",
    FLAG_LITTLES_LAW_MISMATCH: "connections and requests/s x mean latency disagree by more than "
    "20%: connections were not all established or latency is misreported",
    FLAG_ERRORS: "more than 0.1% of requests failed",
    FLAG_INTERFERENCE: "another process used more than 5% of a core during the trial",
    FLAG_HOST_SLOW: "the host canary (a fixed piece of CPU work timed on the server's core "
    "before the trial) ran more than 10% slower than the run's median: the host, not the "
    "server, was slow",
}

#: Flags a whole configuration can carry, judged over its trials when summaries are built
#: (see `covetbench.run.validity.judge_configs`); a summary keeps them in `config_flags`.
FLAG_UNSTABLE = "unstable"
FLAG_TOO_FEW_TRIALS = "too_few_trials"
FLAG_IMPLAUSIBLE = "implausible"
CONFIG_FLAG_DESCRIPTIONS: dict[str, str] = {
    FLAG_UNSTABLE: "the trials' requests/s varied by more than the allowed CV (default 10%), "
    "or adaptive trials (--precision) ran out of budget before the median's interval was that "
    "narrow: the median is one draw of a moving figure",
    FLAG_TOO_FEW_TRIALS: "too few trials for the median's interval to reach a 90% level",
    FLAG_IMPLAUSIBLE: "measured faster than the raw ASGI app on the same server beyond both "
    "intervals, which cannot be: the run measured noise, not the apps",
}
#: every flag a table may show, trial and configuration flags alike
ALL_FLAG_DESCRIPTIONS: dict[str, str] = FLAG_DESCRIPTIONS | CONFIG_FLAG_DESCRIPTIONS

#: How a summary's interval of the median was computed (`ci_method`).
CI_METHOD_ORDER_STATISTICS = "order-statistics"
#: the interval is the whole sample range: too few trials to reach the requested level
CI_METHOD_MIN_MAX = "min-max"
#: schema 1's percentile bootstrap (its level was never known: [min, max] at n <= 5)
CI_METHOD_BOOTSTRAP = "bootstrap"
#: an interval at this level or above is printed bare; below it, its level is printed with it
CI_LEVEL_SHOWN = 0.95


def interval_note(level: float | None, method: str) -> str:
    """What a reader must be told about an interval: nothing at 95 % or more, else its level
    (rounded DOWN, so it never reads higher than it is) and "min-max" when it is the range.

        interval_note(0.75, "min-max")            # -> "min-max, 75 %"
        interval_note(0.9375, "order-statistics") # -> "93 %"
        interval_note(0.969, "order-statistics")  # -> ""
        interval_note(None, "bootstrap")          # -> "bootstrap, level unknown"
    """
    if level is None:
        return f"{method}, level unknown"
    if level >= CI_LEVEL_SHOWN:
        return ""
    shown = f"{math.floor(level * 100 + 1e-9):.0f} %"
    return f"{CI_METHOD_MIN_MAX}, {shown}" if method == CI_METHOD_MIN_MAX else shown


class ConfigKey(NamedTuple):
    """What makes trials the same configuration: they are summarized, compared and trended
    together. Pipeline depth is part of it: 16 requests per write at 64 connections measures
    something else than one.

        ConfigKey("covet", "uvicorn", "json", "wrk", 64)            # pipeline 1
        ConfigKey.of({"app": "covet", ..., "concurrency": 64})      # from a results row
    """

    app: str
    server: str
    scenario: str
    loadgen: str
    concurrency: int
    pipeline: int = 1

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ConfigKey:
        """The key of a `results.json` / `gate.json` row (rows without `pipeline` are depth 1)."""
        return cls(
            str(row["app"]),
            str(row["server"]),
            str(row["scenario"]),
            str(row["loadgen"]),
            int(row["concurrency"]),
            int(row.get("pipeline") or 1),
        )

    @property
    def label(self) -> str:
        """`app/server/scenario c64` (`p16` appended when pipelined), for tables and trends."""
        deep = f" p{self.pipeline}" if self.pipeline > 1 else ""
        return f"{self.app}/{self.server}/{self.scenario} c{self.concurrency}{deep}"


#: the key's field names, in order (columns of the gate's and the history's rows)
KEY_FIELDS: tuple[str, ...] = ConfigKey._fields


#: How a trial's latency percentiles were measured (`LoadResult.latency_method`, the record's
#: `latency_method`); the report prints the description next to every latency figure.
LATENCY_WRK_BACKFILLED = "wrk-backfilled"
LATENCY_OPEN_LOOP = "open-loop-intended-start"
LATENCY_LOCUST_ROUNDED = "locust-rounded"
LATENCY_METHODS: dict[str, str] = {
    LATENCY_WRK_BACKFILLED: "wrk's own percentiles: closed loop, back-filled with synthetic "
    "samples at the mean interval (wrk 4's coordinated-omission 'correction', not wrk2's)",
    LATENCY_OPEN_LOOP: "open loop, from each request's intended start on a fixed schedule "
    "(HdrHistogram; coordinated omission corrected); the service-time percentiles are kept "
    "beside them as latency_uncorrected_ms",
    LATENCY_LOCUST_ROUNDED: "locust's percentiles: closed loop (each user waits for its "
    "answer), response times stored rounded to two significant digits",
}


@dataclass
class LatencyMs:
    """Latency percentiles in milliseconds; None where the generator could not tell."""

    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    p999: float | None = None
    max: float | None = None
    mean: float | None = None


@dataclass
class ErrorCounts:
    """Failed requests by kind, as counted by the load generator."""

    non2xx: int = 0
    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0
    #: answered, but rejected by a scripted check (a locustfile's body check) or of no kind above
    other: int = 0

    @property
    def socket(self) -> int:
        """Attempts that got no answer at all (connect, read, write, timeout)."""
        return self.connect + self.read + self.write + self.timeout

    @property
    def total(self) -> int:
        return self.non2xx + self.socket + self.other


@dataclass
class LoadResult:
    """What every load driver returns for one measured window."""

    loadgen: str
    requests: int
    duration_s: float
    rps: float
    latency_ms: LatencyMs
    errors: ErrorCounts
    connections: int
    #: connections actually established, where the generator reports it
    established: int | None = None
    #: True when latency is corrected for coordinated omission (open-loop generators)
    corrected: bool = False
    #: lossless HdrHistogram (base64) of latencies in microseconds, where available
    histogram: str | None = None
    raw_output: str = ""
    command: list[str] = field(default_factory=list)
    #: CPU seconds (user + system) the generator itself used, e.g. from `os.wait4`
    cpu_s: float | None = None
    #: how `latency_ms` was measured (a key of `LATENCY_METHODS`)
    latency_method: str | None = None
    #: cores the generator can keep busy at once (locust: its worker processes, each one
    #: single-threaded); None: one per generator thread. `validity.generator_cores` caps with it
    parallelism: int | None = None
    #: the generator's CPU % (100 = one core) over its own measured window, where its processes
    #: live well beyond it (locust: start-up, workers connecting, shutdown: ~4 s around a 2 s
    #: run with 2 workers); None: `cpu_s` over the trial tells it
    window_cpu_pct: float | None = None
    #: open loop: service-time percentiles (from the actual send), beside the corrected ones
    latency_uncorrected_ms: LatencyMs | None = None
    #: open loop: the rate asked for (req/s) and the requests its schedule held in the window
    offered_rps: float | None = None
    intended_requests: int | None = None
    #: open loop: requests sent later than the stated tolerance after their due time, or never
    late_sends: int | None = None
    #: open loop: the generator's own timers firing late (its clock, not the server, behind)
    late_wakeups: int | None = None

    def trial_fields(self) -> dict[str, Any]:
        """What a `TrialRecord` keeps of this result beyond the fields every generator fills."""
        uncorrected = self.latency_uncorrected_ms
        return {
            "latency_method": self.latency_method,
            "latency_uncorrected_ms": None if uncorrected is None else asdict(uncorrected),
            "offered_rps": self.offered_rps,
            "intended_requests": self.intended_requests,
            "late_sends": self.late_sends,
            "late_wakeups": self.late_wakeups,
        }


@dataclass
class TrialRecord:
    """One measured trial of one configuration: a row of `results.json["runs"]`."""

    app: str
    server: str
    scenario: str
    loadgen: str
    concurrency: int
    trial: int
    rps: float
    requests: int
    duration_s: float
    latency_ms: dict[str, float | None]
    errors: dict[str, int]
    error_rate: float
    server_cpu_pct: float
    loadgen_cpu_pct: float
    server_rss_mb: float
    #: CPU % of one core used by processes other than server and generator during the trial
    interference_pct: float
    flags: list[str]
    started_at: str
    ended_at: str
    #: how many disturbed attempts were discarded before this one was kept
    retries: int = 0
    pipeline: int = 1
    server_cpus: list[int] = field(default_factory=list)
    loadgen_cpus: list[int] = field(default_factory=list)
    raw_output_file: str | None = None
    #: `LoadResult.trial_fields()`: how latency was measured and the open loop's schedule
    latency_method: str | None = None
    latency_uncorrected_ms: dict[str, float | None] | None = None
    offered_rps: float | None = None
    intended_requests: int | None = None
    late_sends: int | None = None
    late_wakeups: int | None = None
    #: `--inject-stall`: what was done to the server during the trial (`run.stall`)
    stall: dict[str, Any] | None = None
    #: the interleaved round the trial ran in (trials of one round ran back to back, which is
    #: what pairs them for `ratios`); None in files written before rounds were recorded
    round: int | None = None
    #: the host canary's median time before this trial (`covetbench.run.canary`), ms
    canary_ms: float | None = None
    #: CPU % of one core the database's processes used (a database test on a local
    #: PostgreSQL; not counted in `interference_pct`); None when there was none to watch
    database_cpu_pct: float | None = None

    @classmethod
    def from_load(
        cls, key: ConfigKey, trial: int, load: LoadResult, **measured: Any
    ) -> TrialRecord:
        """The record of one kept trial of configuration `key`: the generator's figures from
        `load` (with `LoadResult.trial_fields()`), everything else by keyword."""
        return cls(
            **key._asdict(),
            trial=trial,
            rps=load.rps,
            requests=load.requests,
            duration_s=load.duration_s,
            latency_ms=asdict(load.latency_ms),
            errors=asdict(load.errors),
            **load.trial_fields(),
            **measured,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> ConfigKey:
        return ConfigKey(
            self.app, self.server, self.scenario, self.loadgen, self.concurrency, self.pipeline
        )


#: `RatioRecord.kind`: each app against the `raw` floor on the same server, and each server
#: against the reference server for the same app
RATIO_APP_VS_RAW = "app_vs_raw"
RATIO_SERVER_VS_REFERENCE = "server_vs_reference"
#: a ratio whose interval is below a 90 % level: too few shared rounds to say much
FLAG_TOO_FEW_ROUNDS = "too_few_rounds"


@dataclass
class RatioRecord:
    """A paired comparison of two configurations: a row of `results.json["ratios"]`.

    `median` is the median over rounds of numerator rps / denominator rps, both measured in the
    same round (back to back, so the host's drift cancels); `ci_*` its distribution-free
    interval (`covetbench.stats.paired_ratio`) with the level it actually has. `numerator` and
    `denominator` are what differs (app names for `app_vs_raw`, server names for
    `server_vs_reference`); `server` and `app` say what is shared. `flags` are both sides'
    trial and configuration flags, plus `too_few_rounds`.
    """

    kind: str
    numerator: str
    denominator: str
    server: str
    app: str
    scenario: str
    loadgen: str
    concurrency: int
    pipeline: int
    median: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    rounds: int
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        """`covet/raw on uvicorn json c64` or `app covet: granian/uvicorn json c64`."""
        deep = f" p{self.pipeline}" if self.pipeline > 1 else ""
        where = f"{self.scenario} c{self.concurrency}{deep}"
        if self.kind == RATIO_APP_VS_RAW:
            return f"{self.numerator}/{self.denominator} on {self.server} {where}"
        return f"app {self.app}: {self.numerator}/{self.denominator} {where}"

    @property
    def interval_note(self) -> str:
        return interval_note(self.ci_level, self.ci_method)


@dataclass
class VerifyRecord:
    """Outcome of the verify step for one app x server x scenario."""

    app: str
    server: str
    scenario: str
    status: str  # "pass" | "warn" | "fail"
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FailureRecord:
    """A configuration that could not be measured (server did not start, verify failed...)."""

    app: str
    server: str
    scenario: str | None
    stage: str  # "launch" | "verify" | "load"
    reason: str
    log_tail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ConfigSummary:
    """Statistics over the trials of one configuration: a row of `results.json["summary"]`."""

    app: str
    server: str
    scenario: str
    loadgen: str
    concurrency: int
    trials: int
    valid_trials: int
    median_rps: float
    #: distribution-free interval of the median (`covetbench.stats.median_interval`)
    ci_low: float
    ci_high: float
    #: the interval's actual level; None for schema-1 files, whose level was never known
    ci_level: float | None
    ci_method: str
    cv: float
    median_latency_ms: dict[str, float | None]
    #: union of the trials' flags
    flags: list[str]
    pipeline: int = 1
    #: flags of the configuration as a whole (`CONFIG_FLAG_DESCRIPTIONS`)
    config_flags: list[str] = field(default_factory=list)

    @property
    def key(self) -> ConfigKey:
        return ConfigKey(
            self.app, self.server, self.scenario, self.loadgen, self.concurrency, self.pipeline
        )

    @property
    def all_flags(self) -> list[str]:
        """Trial flags, then configuration flags: what a table's flag column shows."""
        return [*self.flags, *(f for f in self.config_flags if f not in self.flags)]

    @property
    def ok(self) -> bool:
        """No trial flag and no configuration flag: the only state a table may call "ok"."""
        return not self.flags and not self.config_flags and self.valid_trials == self.trials

    @property
    def interval_note(self) -> str:
        """`interval_note` of this summary's interval ("" when it is 95 % or more)."""
        return interval_note(self.ci_level, self.ci_method)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
