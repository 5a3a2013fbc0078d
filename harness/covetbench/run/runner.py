"""The runner: launch every pair, verify it, warm it up, then measure interleaved rounds.

Every pair's server is launched once and kept running, idle, until the end (an idle ASGI
server uses no CPU; the verifies overlap; each stays warm).

1. launch each pair pinned to the server CPUs; one that does not start becomes a
   `FailureRecord` with its log tail, the others go on;
2. verify every pair (in parallel); a scenario that fails verification is not loaded;
3. warm up each configuration once (`warmup` seconds of the same load);
4. measured rounds (`run.adaptive`: fixed, or adaptive with `--precision` within
   `--max-trials` and `--time-budget`), alternating direction, compared configurations side by
   side. Before each trial: wait for an idle machine, time the host canary on the server's
   core; `TrialMonitor` around the measured window; `validity.judge` flags it; a trial another
   process disturbed (`interference`) is repeated up to `retries` times before it is kept
   flagged; each kept trial goes to `results.json` at once. When the machine stays busy
   through an idle wait, the trial runs anyway and later waits are cut to
   `BUSY_IDLE_TIMEOUT_S` until it is idle again, so a busy machine still ends in bounded time;
5. flag `host_slow` trials where the canary tracked throughput, judge each configuration
   (`validity.judge_configs`), pair each round's trials into ratios (`run.ratios`), render.

Ctrl-C (or SIGTERM, which the CLI turns into a KeyboardInterrupt) stops the run wherever it is:
the finished trials stay in `results.json` (with a summary of them), every server and
generator process group is killed and reaped, and the exception propagates (exit 130).

    plan = build_plan(suite)
    out = Runner(plan, RunOptions(out_dir=Path("reports/x"))).run()
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.db.setup import prepare_database
from covetbench.exceptions import LoadGeneratorError, ServerStartError
from covetbench.load import LoadRequest, LoadResult, get_loadgen
from covetbench.records import FLAG_HOST_SLOW, FLAG_INTERFERENCE, FailureRecord, TrialRecord
from covetbench.results import history
from covetbench.results.meta import collect_meta, utc_now
from covetbench.results.store import ResultsWriter
from covetbench.run import validity
from covetbench.run.adaptive import RoundPlanner, run_rounds
from covetbench.run.canary import canary_ms, canary_summary, slow_trial_flags
from covetbench.run.lock import LOCK_PATH, bench_lock, signals_deferred
from covetbench.run.monitor import TrialMonitor, idle_within
from covetbench.run.observer import RunObserver
from covetbench.run.ratios import paired_ratios
from covetbench.run.schedule import Config, Pair, Plan
from covetbench.run.seams import IdleWaiter, MonitorFactory
from covetbench.run.stall import StallInjector
from covetbench.run.validity import generator_cores
from covetbench.servers import RunningServer, ServerOptions, get_server, servers_meta
from covetbench.servers.tls import ThrowawayCertificate
from covetbench.verify.pairs import verify_pairs

#: rough seconds a launch and a verify take, for the progress bar's ETA only
_LAUNCH_UNITS = 1.0
_VERIFY_UNITS = 2.5
#: idle wait before each trial once a wait has timed out, until the machine is idle again
BUSY_IDLE_TIMEOUT_S = 3.0


@dataclass
class RunOptions:
    """Where and how a plan runs (the suite holds what to run)."""

    out_dir: Path
    server_cpus: list[int] = field(default_factory=lambda: [0])
    loadgen_cpus: list[int] = field(default_factory=lambda: [1])
    command: Sequence[str] = field(default_factory=lambda: list(sys.argv))
    #: render report.html / summary.md at the end
    report: bool = True
    lock_path: Path | None = LOCK_PATH
    host: str = "127.0.0.1"
    #: longest wait for an idle machine before each trial (the trial then runs anyway)
    idle_timeout_s: float = 20.0
    #: time the host canary on the server's core before each trial (`run.canary`)
    canary: bool = True


def _render_report(out_dir: Path) -> Path:
    # imported when used: the report pulls in matplotlib and jinja, a run without it does not
    from covetbench.report import render_report

    return render_report(out_dir)


class Runner:
    """Runs one `Plan`; see the module docstring for the order of things."""

    def __init__(
        self,
        plan: Plan,
        options: RunOptions,
        observer: RunObserver | None = None,
        *,
        monitor_factory: MonitorFactory | None = None,
        wait_idle: IdleWaiter | None = None,
    ) -> None:
        self.plan = plan
        self.options = options
        self.observer = observer or RunObserver()
        self.monitor_factory: MonitorFactory = monitor_factory or TrialMonitor
        self.wait_idle: IdleWaiter = wait_idle or idle_within
        #: True after an idle wait timed out, until one succeeds again
        self._machine_busy = False
        self.servers: dict[Pair, RunningServer] = {}
        #: configurations still to measure (verify or a failure removes them)
        self.active: list[Config] = []
        self.writer: ResultsWriter | None = None
        self.report_path: Path | None = None
        self._started = time.monotonic()
        #: the servers' environment (None: this process's); holds the database URL
        self._env: dict[str, str] | None = None
        #: the database's process (a local PostgreSQL), whose CPU is not interference
        self._service_pids: list[int] = []
        #: a TLS run's certificate, shared by every server and deleted at the end
        self._tls: ThrowawayCertificate | None = None

    # -- the flow -------------------------------------------------------------------------

    def run(self) -> Path:
        """Run the plan; return the output directory. Reaps every process it started."""
        for name in self.plan.loadgens:
            driver = get_loadgen(name)
            if not driver.is_installed():
                raise LoadGeneratorError(driver.install_hint)
        with bench_lock(self.options.lock_path, self.observer.note):
            try:
                self._run()
            except KeyboardInterrupt:
                with signals_deferred():
                    self._finish(render=False)
                raise
            finally:
                with signals_deferred():  # a second Ctrl-C must not leave servers behind
                    self._stop_all()
                    if self._tls is not None:
                        self._tls.close()
                self.observer.end()
        return self.options.out_dir

    def _run(self) -> None:
        suite = self.plan.suite
        self._started = time.monotonic()
        if suite.tls:  # before the meta, which records each server's options
            self._tls = ThrowawayCertificate()
        self.writer = ResultsWriter(self.options.out_dir, self._meta())
        per_config = suite.warmup_s + suite.trial_limit * suite.duration_s
        total = len(self.plan.pairs) * (_LAUNCH_UNITS + _VERIFY_UNITS) + per_config * len(
            self.plan.configs
        )
        self.observer.begin(self.plan, total)
        for record in self.plan.skipped:
            self._fail(record)
        self.active = list(self.plan.configs)
        if suite.needs_database and suite.database:
            self.observer.step("checking the database (db init)")
            database = prepare_database(suite.database)
            self._env = database.env
            self._service_pids = [] if database.server_pid is None else [database.server_pid]
        for pair in self.plan.pairs:
            self._launch(pair)
        self._verify_all()
        # what launch and verify ruled out will not run: its share of the bar is done
        self.observer.advance(per_config * (len(self.plan.configs) - len(self.active)))
        for config in list(self.active):
            if suite.warmup_s > 0:
                self._warmup(config)
            self.observer.advance(suite.warmup_s)
        self._measure()
        self._finish(render=self.options.report)

    def _measure(self) -> None:
        """Interleaved rounds as `adaptive.RoundPlanner` chooses: fixed rounds of every
        configuration, or with `--precision` as many as the targets and budgets call for."""
        suite = self.plan.suite
        by_key = {c.key: c for c in self.active}  # configurations hold dicts: keys hash
        planner = RoundPlanner(
            configs=list(by_key),
            partner=self.plan.partner,
            target=suite.precision,
            min_trials=suite.trials,
            max_trials=suite.trial_limit,
        )
        budget = suite.time_budget_s
        deadline = None if budget is None else self._started + budget
        short = run_rounds(
            planner,
            lambda key, trial, round_no: self._trial(by_key[key], trial, round_no),
            lambda key: by_key[key] in self.active,
            deadline,
            suite.duration_s + 1.0,
        )
        if short:
            self.observer.note(
                f"time budget ({budget}s) spent with {len(short)} configuration(s) short of "
                "their trials or precision target"
            )

    def _finish(self, render: bool) -> None:
        writer = self.writer
        if writer is None:
            return
        suite = self.plan.suite
        writer.flag_trials(slow_trial_flags(writer.trials), FLAG_HOST_SLOW)
        summaries = validity.judge_configs(
            writer.trials, max_cv=suite.max_cv, precision=suite.precision
        )
        writer.finish(
            summaries,
            ratios=paired_ratios(writer.trials, summaries),
            canary=canary_summary(writer.trials),
        )
        try:  # before the report, which draws the trend from it
            history.record_run(self.options.out_dir)
        except (OSError, ValueError) as exc:
            self.observer.note(f"history not written: {exc}")
        if render:
            self.observer.step("rendering the report")
            try:
                self.report_path = _render_report(self.options.out_dir)
            except Exception as exc:  # the results stand without their report
                self.observer.note(f"report not rendered: {type(exc).__name__}: {exc}")

    # -- steps ----------------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        suite = self.plan.suite
        pinning = {
            "server_cpus": self.options.server_cpus,
            "loadgen_cpus": self.options.loadgen_cpus,
        }
        meta = collect_meta(self.options.command, pinning, suite=suite.name or None)
        meta["suite_config"] = suite.to_dict()
        meta["server_options"] = servers_meta(self.plan.servers, self._server_options())
        meta["loadgens"] = {name: get_loadgen(name).version() for name in self.plan.loadgens}
        return meta

    def _server_options(self) -> ServerOptions:
        return ServerOptions(
            host=self.options.host,
            workers=self.plan.suite.workers,
            cpus=list(self.options.server_cpus),
            tls=self._tls.files if self._tls else None,
        )

    def _launch(self, pair: Pair) -> None:
        assert self.writer is not None
        self.observer.step(f"launching {pair.label}")
        log = self.writer.logs_dir / f"{pair.app.name}-{pair.server}.log"
        try:
            running = get_server(pair.server).launch(
                pair.app, self._server_options(), log, env=self._env
            )
        except ServerStartError as exc:
            self._drop(pair, None, "launch", str(exc), exc.log_tail)
        else:
            self.servers[pair] = running
            options_file = log.with_suffix(".options.json")
            options_file.write_text(
                json.dumps(running.options_used(), indent=2, default=str) + "\n"
            )
        self.observer.advance(_LAUNCH_UNITS)

    def _verify_all(self) -> None:
        self.observer.step(f"verifying {len(self.servers)} servers")
        outcomes = verify_pairs(self.plan, self.servers)
        assert self.writer is not None
        for pair, records in outcomes:
            for record in records:
                self.writer.add_verify(record)
                self.observer.verified(record)
                if record.status == "fail":
                    reason = "verify failed: " + "; ".join(record.reasons)
                    self._drop(pair, record.scenario, "verify", reason, "")
            if not any(c.pair == pair for c in self.active):
                self._stop(pair)  # nothing left to load on it
            self.observer.advance(_VERIFY_UNITS)

    def _loadgen_threads(self) -> int:
        """Generator threads per run: the suite's, else one per generator CPU."""
        return self.plan.suite.threads or len(self.options.loadgen_cpus)

    def _request(self, config: Config, duration_s: int) -> LoadRequest:
        return LoadRequest(
            url=config.scenario.url(self.servers[config.pair].base_url),
            scenario=config.scenario,
            concurrency=config.concurrency,
            duration_s=duration_s,
            threads=self._loadgen_threads(),
            cpus=list(self.options.loadgen_cpus),
            pipeline=config.pipeline,
            timeout_s=self.plan.suite.timeout_s,
            locustfile=Path(self.plan.suite.locustfile) if self.plan.suite.locustfile else None,
            locust_workers=self.plan.suite.locust_workers,
            rate=self.plan.suite.rate,
        )

    def _load(self, config: Config, duration_s: int) -> LoadResult | None:
        """One generator run; None (and the configuration dropped) when it failed."""
        try:
            result = get_loadgen(config.loadgen).run(self._request(config, duration_s))
        except LoadGeneratorError as exc:
            self._drop(config.pair, config.scenario.name, "load", str(exc), "", config)
            return None
        running = self.servers[config.pair]
        if not running.alive():
            self._drop(config.pair, None, "load", "server exited under load", running.log_tail())
            return None
        return result

    def _warmup(self, config: Config) -> None:
        self.observer.step(f"warming up {config.label}")
        self._load(config, self.plan.suite.warmup_s)

    def _trial(self, config: Config, trial: int, round_no: int) -> float | None:
        """One kept trial (disturbed attempts repeated first); its requests/s, None if none."""
        suite = self.plan.suite
        writer = self.writer
        assert writer is not None
        running = self.servers[config.pair]
        cpus = sorted(set(self.options.server_cpus) | set(self.options.loadgen_cpus))
        for attempt in range(suite.retries + 1):
            again = f" (repeat {attempt})" if attempt else ""
            self.observer.step(f"round {round_no}: trial {trial} of {config.label}{again}")
            idle = self._wait_idle(cpus, config)
            canary = canary_ms(self.options.server_cpus) if self.options.canary else None
            monitor = self.monitor_factory(
                running.pid,
                list(self.options.server_cpus),
                list(self.options.loadgen_cpus),
                self._service_pids,
            )
            started = utc_now()
            monitor.start()
            with StallInjector(suite.inject_stall, running.pid) as stall:
                result = self._load(config, suite.duration_s)
            if result is None:
                return None
            sample = monitor.stop(result.cpu_s or 0.0)
            ended = utc_now()
            threads = self._loadgen_threads()
            flags = validity.judge(
                result,
                sample,
                concurrency=config.concurrency,
                server_cores=min(len(self.options.server_cpus), suite.workers),
                loadgen_cores=generator_cores(
                    sample, self.options.loadgen_cpus, result.parallelism or threads
                ),
                pipeline=config.pipeline,
            )
            # Repeat a trial a passing disturbance spoiled; when the machine stayed busy
            # through the idle wait, a repeat would only be spoiled again: keep it flagged.
            disturbed = FLAG_INTERFERENCE in flags and attempt < suite.retries and idle
            stem = config.file_stem(trial) + (f"-discarded{attempt + 1}" if disturbed else "")
            raw = writer.raw_dir / f"{stem}.txt"
            raw.write_text(shlex.join(result.command) + "\n\n" + result.raw_output)
            if disturbed:
                self.observer.note(
                    f"{config.label}: another process used {sample.interference_pct:.0f}% "
                    "of a core; repeating the trial"
                )
                continue
            record = TrialRecord.from_load(
                config.key,
                trial,
                result,
                error_rate=validity.error_rate(result),
                server_cpu_pct=sample.server_cpu_pct,
                loadgen_cpu_pct=validity.generator_cpu_pct(result, sample),
                server_rss_mb=sample.server_rss_mb,
                interference_pct=sample.interference_pct,
                database_cpu_pct=sample.database_cpu_pct if self._service_pids else None,
                flags=flags,
                started_at=started,
                ended_at=ended,
                retries=attempt,
                server_cpus=list(self.options.server_cpus),
                loadgen_cpus=list(self.options.loadgen_cpus),
                raw_output_file=str(raw.relative_to(writer.out_dir)),
                stall=stall.record(),
                round=round_no,
                canary_ms=canary,
            )
            writer.add_trial(record)
            self.observer.trial(record)
            self.observer.advance(suite.duration_s)
            return record.rps
        return None

    def _wait_idle(self, cpus: list[int], config: Config) -> bool:
        """Wait for idle cores; while the machine stays busy, wait less (a bounded run)."""
        timeout = self.options.idle_timeout_s
        if self._machine_busy:
            timeout = min(timeout, BUSY_IDLE_TIMEOUT_S)
        idle = self.wait_idle(cpus, timeout)
        if not idle and not self._machine_busy:
            self.observer.note(
                f"machine still busy after {timeout:.0f}s before {config.label}: measuring "
                "anyway (flagged trials are kept, not repeated, while it stays busy)"
            )
        self._machine_busy = not idle
        return idle

    # -- failures and cleanup -------------------------------------------------------------

    def _fail(self, record: FailureRecord) -> None:
        assert self.writer is not None
        self.writer.add_failure(record)
        self.observer.failure(record)

    def _drop(
        self,
        pair: Pair,
        scenario: str | None,
        stage: str,
        reason: str,
        log_tail: str,
        config: Config | None = None,
    ) -> None:
        """Record a failure and stop measuring what it concerns (a config, a scenario, a pair)."""
        self._fail(FailureRecord(pair.app.name, pair.server, scenario, stage, reason, log_tail))

        def concerned(c: Config) -> bool:
            if config is not None:
                return c == config
            return c.pair == pair and (scenario is None or c.scenario.name == scenario)

        self.active = [c for c in self.active if not concerned(c)]
        if scenario is None:
            self._stop(pair)

    def _stop(self, pair: Pair) -> None:
        running = self.servers.pop(pair, None)
        if running is not None:
            running.stop()

    def _stop_all(self) -> None:
        for pair in list(self.servers):
            self._stop(pair)
