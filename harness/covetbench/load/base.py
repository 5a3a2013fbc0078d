"""The load driver contract: every generator takes a `LoadRequest` and returns a `LoadResult`.

A driver knows one generator's command line, how to tell whether it is installed, its version
and how to install it. wrk and locust (scripted journeys, `locust_driver`) are shipped;
open-loop ones (wrk2-style, HdrHistogram) slot in by subclassing `LoadDriver` and registering
in `covetbench.load.LOAD_DRIVERS`:

    driver = get_loadgen("wrk")
    result = driver.run(LoadRequest(url="http://127.0.0.1:8000/json", scenario=spec,
                                    concurrency=64, duration_s=3, threads=1, cpus=[1]))
    result.rps, result.latency_ms.p99, result.cpu_s
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from covetbench.records import LoadResult

DEFAULT_TIMEOUT_S = 4.0


class RequestShape(Protocol):
    """What a driver needs from a scenario (`covetbench.scenarios.ScenarioSpec` fits)."""

    @property
    def name(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> bytes | None: ...


@dataclass(frozen=True)
class LoadRequest:
    """One measured window to drive.

    `url` is the full URL of the request (the server's base URL joined with the scenario's
    path); `scenario` supplies method, headers and body. `threads` is capped at `concurrency`;
    `cpus` pins the generator (None: unpinned); `pipeline` > 1 sends that many requests per
    write; `timeout_s` is the per-request timeout after which a request counts as a timeout.
    `workdir`, when given, keeps the generator's helper files (scripts) for inspection.
    `locustfile` (locust only) replaces the scenario's own locustfile; `locust_workers` N > 0
    runs a locust master and N workers instead of one process.
    `rate` is the open-loop generator's offered load in requests/s (closed loops ignore it).
    """

    url: str
    scenario: RequestShape
    concurrency: int
    duration_s: float
    threads: int = 1
    cpus: list[int] | None = None
    pipeline: int = 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    workdir: Path | None = None
    locustfile: Path | None = None
    locust_workers: int = 0
    rate: float | None = None


class LoadDriver(ABC):
    """One load generator. Subclasses give its name, install hint and `run`."""

    #: registry name, e.g. "wrk"
    name: str
    #: how to install the generator, shown when it is missing
    install_hint: str
    #: True for an open-loop generator: it cannot run without `LoadRequest.rate`
    needs_rate: bool = False

    @abstractmethod
    def is_installed(self) -> bool:
        """True when the generator can be run on this machine."""

    @abstractmethod
    def version(self) -> str | None:
        """The generator's version, None when it is not installed."""

    def supports(self, scenario: RequestShape) -> bool:
        """Whether this generator can drive `scenario` (wrk cannot drive WebSockets)."""
        return getattr(scenario, "kind", "http") == "http"

    @abstractmethod
    def run(self, request: LoadRequest) -> LoadResult:
        """Drive the load and return what was measured, `cpu_s` included.

        Raises `LoadGeneratorError` when the generator is missing or produced no result.
        """
