"""Plain records handed from one step of the harness to the next.

Every load generator returns one `LoadResult`; the runner wraps it with what the monitor saw
into one `TrialRecord`; stats turn trials into one `ConfigSummary` per configuration (one
`ConfigKey`). `results.json` is these records as JSON (`to_dict`), validated against
`results/schema.json` on write. Report, gate and claims read only
these records, never live processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

SCHEMA_VERSION = 1

#: Validity flags a trial can carry (see `covetbench.run.validity`). The report explains each.
FLAG_GENERATOR_BOUND = "generator_bound"
FLAG_SERVER_UNSATURATED = "server_unsaturated"
FLAG_LITTLES_LAW_MISMATCH = "littles_law_mismatch"
FLAG_ERRORS = "errors"
FLAG_INTERFERENCE = "interference"
FLAG_DESCRIPTIONS: dict[str, str] = {
    FLAG_GENERATOR_BOUND: "the load generator used >= 90% of its cores: the figure measures the "
    "generator, not the server",
    FLAG_SERVER_UNSATURATED: "the server's CPU stayed well below its cores while the generator "
    "was busy: something other than the server limited throughput",
    FLAG_LITTLES_LAW_MISMATCH: "connections and requests/s x mean latency disagree by more than "
    "20%: connections were not all established or latency is misreported",
    FLAG_ERRORS: "more than 0.1% of requests failed",
    FLAG_INTERFERENCE: "another process used more than 5% of a core during the trial",
}


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

    @property
    def total(self) -> int:
        return self.non2xx + self.connect + self.read + self.write + self.timeout


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> ConfigKey:
        return ConfigKey(
            self.app, self.server, self.scenario, self.loadgen, self.concurrency, self.pipeline
        )


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
    ci95_low: float
    ci95_high: float
    cv: float
    median_latency_ms: dict[str, float | None]
    flags: list[str]
    pipeline: int = 1

    @property
    def key(self) -> ConfigKey:
        return ConfigKey(
            self.app, self.server, self.scenario, self.loadgen, self.concurrency, self.pipeline
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
