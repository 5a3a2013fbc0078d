"""`covet-bench sweep`: latency against offered load, open loop, knee marked.

For every app x server pair: launch it pinned (as `run` does), verify the scenario, measure its
capacity with a short closed-loop wrk run (or take `--capacity`), then offer it each fraction of
that capacity (10 % .. 120 %) with the open-loop generator, one trial per rate, each monitored
and judged by the same validity rules as a `run` trial. The knee (`run.knee`) is marked on each
curve. Everything lands in `sweep.json` (validated, rewritten after every curve), the generator
output in `raw/`, the server logs in `logs/`, then the report renders the curves.

The measurement holds the benchmark lock (`run.lock`), like `run`: two benchmarks never overlap.

    document = Sweep(SweepOptions(out_dir=Path("reports/x"), apps=[...], servers=["covet"])).run()
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.apps import AppTarget
from covetbench.exceptions import LoadGeneratorError, ServerStartError
from covetbench.load import LoadRequest, LoadResult, OpenLoopDriver, WrkDriver
from covetbench.results.meta import collect_meta
from covetbench.results.sweeps import SWEEP_SCHEMA_VERSION, write_sweep
from covetbench.run import validity
from covetbench.run.knee import DEFAULT_FRACTIONS, KneeRule, SweepPoint, find_knee, sweep_rates
from covetbench.run.lock import LOCK_PATH, bench_lock
from covetbench.scenarios import get_scenario
from covetbench.servers import RunningServer, ServerOptions, get_server
from covetbench.verify import verify_server

Note = Callable[[str], None]


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class SweepOptions:
    """What one sweep measures and how."""

    out_dir: Path
    apps: list[AppTarget]
    servers: list[str]
    scenario: str = "plaintext"
    concurrency: int = 64
    #: seconds per offered rate
    duration_s: float = 5.0
    #: seconds of the closed-loop capacity run
    capacity_s: int = 3
    #: a known capacity (req/s): no closed-loop run
    capacity_rps: float | None = None
    fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    rule: KneeRule = field(default_factory=KneeRule)
    server_cpus: list[int] = field(default_factory=lambda: [0])
    loadgen_cpus: list[int] = field(default_factory=lambda: [1])
    timeout_s: float = 4.0
    idle_timeout_s: float = 20.0
    lock_path: Path | None = LOCK_PATH
    host: str = "127.0.0.1"
    command: Sequence[str] = field(default_factory=lambda: list(sys.argv))


class Sweep:
    """Runs one sweep; `run()` returns the `sweep.json` document it wrote."""

    def __init__(self, options: SweepOptions, note: Note = _print) -> None:
        self.options = options
        self.note = note
        self.scenario = get_scenario(options.scenario)
        self.open_loop = OpenLoopDriver()
        self.wrk = WrkDriver()
        self.document: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        o = self.options
        if not self.open_loop.is_installed():
            raise LoadGeneratorError(self.open_loop.install_hint)
        if o.capacity_rps is None and not self.wrk.is_installed():
            raise LoadGeneratorError(self.wrk.install_hint + "; or give --capacity R")
        o.out_dir.mkdir(parents=True, exist_ok=True)
        (o.out_dir / "raw").mkdir(exist_ok=True)
        (o.out_dir / "logs").mkdir(exist_ok=True)
        pinning = {"server_cpus": o.server_cpus, "loadgen_cpus": o.loadgen_cpus}
        meta = collect_meta(o.command, pinning, suite=None)
        meta["loadgens"] = {"open": self.open_loop.version(), "wrk": self.wrk.version()}
        self.document = {
            "schema_version": SWEEP_SCHEMA_VERSION,
            "meta": meta,
            "rule": {
                "p99_factor": o.rule.p99_factor,
                "achieved_fraction": o.rule.achieved_fraction,
                "fractions": list(o.fractions),
                "duration_s": o.duration_s,
                "concurrency": o.concurrency,
                "scenario": o.scenario,
            },
            "curves": [],
            "failures": [],
        }
        with bench_lock(o.lock_path, self.note):
            for app in o.apps:
                for server in o.servers:
                    self._pair(app, server)
        return self.document

    def _write(self) -> None:
        write_sweep(self.options.out_dir, self.document)

    def _fail(self, app: str, server: str, stage: str, reason: str) -> None:
        self.note(f"{app}@{server}: {stage} failed: {reason}")
        self.document["failures"].append(
            {"app": app, "server": server, "stage": stage, "reason": reason}
        )
        self._write()

    def _pair(self, app: AppTarget, server: str) -> None:
        o = self.options
        adapter = get_server(server)
        if not adapter.is_installed():
            self._fail(app.name, server, "skip", f"server {server!r} is not installed")
            return
        self.note(f"launching {app.name}@{server}")
        log = o.out_dir / "logs" / f"{app.name}-{server}.log"
        try:
            running = adapter.launch(
                app, ServerOptions(host=o.host, workers=1, cpus=list(o.server_cpus)), log
            )
        except ServerStartError as exc:
            self._fail(app.name, server, "launch", str(exc))
            return
        try:
            records = verify_server(running.base_url, app.name, server, [self.scenario])
            failed = [r for r in records if r.status == "fail"]
            if failed:
                reason = "; ".join(reason for r in failed for reason in r.reasons)
                self._fail(app.name, server, "verify", reason)
                return
            self._curve(app.name, server, running)
        except LoadGeneratorError as exc:
            self._fail(app.name, server, "load", str(exc))
        finally:
            running.stop()

    def _request(
        self, running: RunningServer, duration_s: float, rate: float | None
    ) -> LoadRequest:
        o = self.options
        return LoadRequest(
            url=self.scenario.url(running.base_url),
            scenario=self.scenario,
            concurrency=o.concurrency,
            duration_s=duration_s,
            threads=len(o.loadgen_cpus),
            cpus=list(o.loadgen_cpus),
            timeout_s=o.timeout_s,
            rate=rate,
        )

    def _capacity(self, running: RunningServer) -> tuple[float, str]:
        o = self.options
        if o.capacity_rps is not None:
            return o.capacity_rps, "given (--capacity)"
        self.note(f"measuring capacity: wrk closed loop, {o.capacity_s}s at c{o.concurrency}")
        result = self.wrk.run(self._request(running, o.capacity_s, None))
        if result.rps <= 0:
            raise LoadGeneratorError("the capacity run completed no request")
        return result.rps, f"wrk closed loop, {o.capacity_s}s at {o.concurrency} connections"

    def _curve(self, app: str, server: str, running: RunningServer) -> None:
        o = self.options
        capacity, method = self._capacity(running)
        points: list[SweepPoint] = []
        for fraction, rate in zip(
            sorted(o.fractions), sweep_rates(capacity, o.fractions), strict=True
        ):
            self.note(f"{app}@{server}: {rate:.0f} req/s ({fraction:.0%} of {capacity:.0f})")
            points.append(self._point(app, server, running, fraction, rate))
            if not running.alive():
                raise LoadGeneratorError("server exited under load: " + running.log_tail(5))
        knee = find_knee(points, o.rule)
        self.note(f"{app}@{server}: knee: {knee.reason}")
        self.document["curves"].append(
            {
                "app": app,
                "server": server,
                "scenario": o.scenario,
                "concurrency": o.concurrency,
                "capacity_rps": capacity,
                "capacity_method": method,
                "points": [p.to_dict() for p in points],
                "knee_index": knee.index,
                "knee_offered_rps": None if knee.index is None else points[knee.index].offered_rps,
                "knee_reason": knee.reason,
            }
        )
        self._write()

    def _point(
        self, app: str, server: str, running: RunningServer, fraction: float, rate: float
    ) -> SweepPoint:
        from covetbench.run.monitor import TrialMonitor, wait_for_idle

        o = self.options
        cpus = sorted(set(o.server_cpus) | set(o.loadgen_cpus))
        if o.idle_timeout_s > 0:
            wait_for_idle(cpus, timeout_s=o.idle_timeout_s)
        monitor = TrialMonitor(running.pid, list(o.server_cpus), list(o.loadgen_cpus))
        monitor.start()
        result = self.open_loop.run(self._request(running, o.duration_s, rate))
        sample = monitor.stop(result.cpu_s or 0.0)
        flags = validity.judge(
            result,
            sample,
            concurrency=o.concurrency,
            server_cores=1,
            loadgen_cores=validity.generator_cores(sample, o.loadgen_cpus, len(o.loadgen_cpus)),
        )
        raw = Path("raw") / f"{app}-{server}-{o.scenario}-open-c{o.concurrency}-r{rate:.0f}.txt"
        (o.out_dir / raw).write_text(shlex.join(result.command) + "\n\n" + result.raw_output)
        return _point_of(result, fraction, rate, sample, flags, str(raw))


def _point_of(
    result: LoadResult,
    fraction: float,
    rate: float,
    sample: validity.MonitorSampleLike,
    flags: list[str],
    raw: str,
) -> SweepPoint:
    fields = result.trial_fields()
    return SweepPoint(
        fraction=fraction,
        offered_rps=rate,
        achieved_rps=result.rps,
        latency_ms=dict(vars(result.latency_ms)),
        latency_uncorrected_ms=fields["latency_uncorrected_ms"] or {},
        intended_requests=result.intended_requests or 0,
        late_sends=result.late_sends or 0,
        error_rate=validity.error_rate(result),
        server_cpu_pct=sample.server_cpu_pct,
        loadgen_cpu_pct=sample.loadgen_cpu_pct,
        interference_pct=sample.interference_pct,
        flags=flags,
        raw_output_file=raw,
    )
