"""The conformance runner: one server at a time, one launch of the probe app per server, every
check against it, then Autobahn on the same process; framework checks run once per framework
app on one reference server.

    config = ConformConfig(servers=["uvicorn", "hypercorn"], out_dir=Path("out"))
    report = ConformanceRunner(config).run()
    report.to_dict()  # what conformance.json holds
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from covetbench.conformance import autobahn
from covetbench.conformance.loader import conformance_dir, expand_request, load_checks
from covetbench.conformance.matcher import describe, matches, observed
from covetbench.conformance.model import (
    ERROR,
    FAIL,
    FRAMEWORK_PREFIX,
    PASS,
    UNSUPPORTED,
    CheckResult,
    ConformanceCheck,
)
from covetbench.conformance.probes import AFTER_STOP, PROBES, SELF_LAUNCH, ProbeContext
from covetbench.exceptions import ServerStartError
from covetbench.net.rawclient import exchange
from covetbench.servers.base import (
    AppTarget,
    RunningServer,
    ServerAdapter,
    ServerOptions,
    distribution_version,
)

FRAMEWORK_GROUP = "framework"
FRAMEWORKS = ("covet", "starlette", "fastapi")
PROBE_APPS = ("probe", "lifespan_fail", "lifespan_raise")
FRAMEWORK_DISTRIBUTIONS = {"covet": "covetpy", "starlette": "starlette", "fastapi": "fastapi"}


@dataclass
class ConformConfig:
    """What one `covet-bench conform` run covers."""

    servers: list[str]
    out_dir: Path
    frameworks: list[str] = field(default_factory=lambda: list(FRAMEWORKS))
    groups: list[str] | None = None
    ids: list[str] | None = None
    autobahn: bool = True
    autobahn_exclude: list[str] = field(default_factory=lambda: list(autobahn.DEFAULT_EXCLUDE))
    framework_server: str = "uvicorn"
    launch_timeout: float = 20.0
    checks_dir: Path | None = None
    #: self-launching slow checks (the robustness group) run this many at a time, across servers
    background: int = 4


@dataclass
class ConformanceReport:
    """Checks, columns (servers, then `app:<framework>`) and a result per check x column."""

    meta: dict[str, Any]
    columns: list[str]
    checks: list[ConformanceCheck]
    results: dict[str, dict[str, CheckResult]] = field(default_factory=dict)

    def set(self, check_id: str, column: str, result: CheckResult) -> None:
        self.results.setdefault(check_id, {})[column] = result

    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            # every column, so readers that only know "servers" still show framework columns;
            # a check has no result in a column it does not apply to (server vs framework)
            "servers": list(self.columns),
            "frameworks": [c for c in self.columns if c.startswith(FRAMEWORK_PREFIX)],
            "checks": [
                {
                    "id": check.id,
                    "group": check.group,
                    "level": check.level,
                    "title": check.title,
                    "spec": check.spec,
                    "results": {
                        column: result.to_dict()
                        for column, result in self.results.get(check.id, {}).items()
                    },
                }
                for check in self.checks
            ],
            "totals": self.totals(),
        }

    def totals(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for per_column in self.results.values():
            for column, result in per_column.items():
                slot = counts.setdefault(column, {PASS: 0, FAIL: 0, UNSUPPORTED: 0, ERROR: 0})
                slot[result.status] += 1
        return counts


def conformance_apps_dir(checks_dir: Path | None = None) -> Path:
    return (checks_dir or conformance_dir()) / "apps"


def run_raw(check: ConformanceCheck, ctx: ProbeContext) -> CheckResult:
    """Send the check's bytes and judge the reply against `unsupported_if` then `pass_if`."""
    data = expand_request(check.request.decode("latin-1"), ctx.hostport)
    want = max([int(o.get("responses", o.get("min_responses", 1))) for o in check.pass_if] or [1])
    ex = exchange(ctx.host, ctx.port, data, want=want)
    if ex.error.startswith("connect failed"):
        return CheckResult(ERROR, ex.summary())
    evidence = ex.summary()
    seen = observed((*check.unsupported_if, *check.pass_if), ex)
    if seen:
        evidence = f"{evidence}; observed {seen}"
    for outcome in check.unsupported_if:
        if matches(outcome, ex):
            return CheckResult(UNSUPPORTED, f"{check.unsupported_reason}; {evidence}")
    for outcome in check.pass_if:
        if matches(outcome, ex):
            return CheckResult(PASS, evidence)
    expected = " | ".join(describe(o) for o in check.pass_if)
    return CheckResult(FAIL, f"{evidence}; expected {expected}")


def run_check(check: ConformanceCheck, ctx: ProbeContext) -> CheckResult:
    """One check against a running server; a broken check is ERROR, never a crash."""
    try:
        if check.kind == "raw":
            return run_raw(check, ctx)
        fn = PROBES.get(check.probe)
        if fn is None:
            return CheckResult(ERROR, f"unknown probe {check.probe!r}")
        return fn(ctx, check.params)
    except Exception as exc:  # the check broke, not the server: say so and go on
        return CheckResult(ERROR, f"check raised {exc.__class__.__name__}: {exc}")


class ConformanceRunner:
    """Runs the checks per server (and framework), one launched server at a time."""

    def __init__(
        self,
        config: ConformConfig,
        adapters: dict[str, ServerAdapter] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.checks = load_checks(config.checks_dir, config.groups, config.ids)
        if adapters is None:
            from covetbench.servers import get_server

            adapters = {name: get_server(name) for name in config.servers}
            if config.frameworks and self._framework_checks():
                adapters.setdefault(config.framework_server, get_server(config.framework_server))
        self.adapters = adapters
        self.progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
        self.apps_dir = conformance_apps_dir(config.checks_dir)
        self.targets = {
            name: AppTarget(name, f"{name}:app", str(self.apps_dir)) for name in PROBE_APPS
        }
        #: (check id, column, future) of self-launching slow checks still running
        self._pending: list[tuple[str, str, Future[CheckResult]]] = []
        self._pool: ThreadPoolExecutor | None = None

    def _server_checks(self) -> list[ConformanceCheck]:
        return [c for c in self.checks if c.group != FRAMEWORK_GROUP]

    def _framework_checks(self) -> list[ConformanceCheck]:
        return [c for c in self.checks if c.group == FRAMEWORK_GROUP]

    def run(self) -> ConformanceReport:
        started = time.monotonic()
        self.config.out_dir.mkdir(parents=True, exist_ok=True)
        run_autobahn = self.config.autobahn and (
            not self.config.groups or "websocket-rfc6455" in self.config.groups
        )
        extra = autobahn.category_checks() if run_autobahn and not self.config.ids else []
        frameworks = self.config.frameworks if self._framework_checks() else []
        columns = [*self.config.servers, *(FRAMEWORK_PREFIX + f for f in frameworks)]
        report = ConformanceReport(self._meta(), columns, [*self.checks, *extra])
        # each self-launching slow check owns its server: they overlap with each other and
        # with the next servers' live checks, and are collected once every server has run
        with ThreadPoolExecutor(max_workers=max(1, self.config.background)) as pool:
            self._pool = pool
            for name in self.config.servers:
                t0 = time.monotonic()
                self._run_server(name, report, extra)
                self.progress(f"conform: {name} done in {time.monotonic() - t0:.1f}s")
            for check_id, column, future in self._pending:
                report.set(check_id, column, future.result())
            self._pending.clear()
            self._pool = None
        fw_checks = self._framework_checks()
        for framework in frameworks:
            self._run_framework(framework, fw_checks, report)
        report.meta["duration_s"] = round(time.monotonic() - started, 1)
        return report

    def _meta(self) -> dict[str, Any]:
        versions = {name: a.version() for name, a in self.adapters.items()}
        return {
            "tool": "covet-bench conform",
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "server_versions": versions,
            "framework_server": self.config.framework_server,
            "framework_versions": {
                name: distribution_version(dist) for name, dist in FRAMEWORK_DISTRIBUTIONS.items()
            },
            "autobahn": autobahn.describe_availability(),
            "autobahn_exclude": self.config.autobahn_exclude,
        }

    # servers -----------------------------------------------------------------------------
    def _mark_all(
        self,
        report: ConformanceReport,
        column: str,
        checks: list[ConformanceCheck],
        result: CheckResult,
    ) -> None:
        for check in checks:
            report.set(check.id, column, result)

    def _launch(
        self, adapter: ServerAdapter, target: AppTarget, env: dict[str, str]
    ) -> RunningServer:

        log = self.config.out_dir / "logs" / f"conform-{adapter.name}-{target.name}.log"
        return adapter.launch(
            target,
            ServerOptions(),
            log,
            env={**os.environ, **env},
            ready_timeout=self.config.launch_timeout,
        )

    def _run_server(
        self, name: str, report: ConformanceReport, extra: list[ConformanceCheck]
    ) -> None:
        checks = self._server_checks()
        adapter = self.adapters[name]
        if not adapter.is_installed():
            self._mark_all(
                report, name, [*checks, *extra], CheckResult(UNSUPPORTED, "not installed")
            )
            return
        live = [c for c in checks if c.probe not in SELF_LAUNCH | AFTER_STOP]
        after = [c for c in checks if c.probe in AFTER_STOP]
        own = [c for c in checks if c.probe in SELF_LAUNCH]
        with tempfile.TemporaryDirectory(prefix="covet-conform-") as tmp:
            marker = Path(tmp) / "shutdown-marker"
            env = {"COVET_CONFORM_MARKER": str(marker)}
            ctx = ProbeContext(
                "127.0.0.1",
                0,
                name,
                adapter,
                None,
                self.targets,
                self.config.out_dir / "logs",
                marker,
                self.config.launch_timeout,
            )
            if live or after or extra:  # not when only self-launching checks are selected
                self._run_shared(adapter, ctx, live, after, extra, report, env)
            for check in own:
                # a background check outlives this block: it must not need the shutdown marker
                if check.slow and self._pool is not None:
                    self._pending.append((check.id, name, self._pool.submit(run_check, check, ctx)))
                else:
                    report.set(check.id, name, run_check(check, ctx))

    def _run_shared(
        self,
        adapter: ServerAdapter,
        ctx: ProbeContext,
        live: list[ConformanceCheck],
        after: list[ConformanceCheck],
        extra: list[ConformanceCheck],
        report: ConformanceReport,
        env: dict[str, str],
    ) -> None:
        """The checks that share one launch of the probe app, then those judged after it."""
        try:
            running = self._launch(adapter, self.targets["probe"], env)
        except ServerStartError as exc:
            result = CheckResult(ERROR, f"{exc}; log: {exc.log_tail[-400:]}")
            self._mark_all(report, ctx.server, [*live, *after, *extra], result)
            return
        self._run_live(running, ctx, live, extra, report, env)
        for check in after:
            report.set(check.id, ctx.server, run_check(check, ctx))

    def _run_live(
        self,
        running: RunningServer,
        ctx: ProbeContext,
        live: list[ConformanceCheck],
        extra: list[ConformanceCheck],
        report: ConformanceReport,
        env: dict[str, str],
    ) -> None:
        name = ctx.server
        adapter = running.adapter
        try:
            ctx.running, ctx.host, ctx.port = running, running.host, running.port
            slow: dict[str, Future[CheckResult]] = {}
            with ThreadPoolExecutor(max_workers=4) as pool:
                for check in live:
                    if check.slow:
                        slow[check.id] = pool.submit(run_check, check, ctx)
                for check in live:
                    if check.slow:
                        continue
                    if not running.alive():
                        note = f"server died before this check; log: {running.log_tail(5)}"
                        running = self._launch(adapter, self.targets["probe"], env)
                        ctx.running, ctx.host, ctx.port = running, running.host, running.port
                        report.set(check.id, name, CheckResult(ERROR, note))
                        continue
                    report.set(check.id, name, run_check(check, ctx))
                if extra:
                    self.progress(f"conform: {name}: Autobahn fuzzingclient")
                    outcomes = autobahn.run(
                        f"{running.ws_url}/ws/echo",
                        name,
                        self.config.out_dir / "autobahn" / name,
                        self.config.autobahn_exclude,
                    )
                    for check in extra:
                        report.set(
                            check.id,
                            name,
                            outcomes.get(check.id, CheckResult(UNSUPPORTED, "no cases run")),
                        )
                for check_id, future in slow.items():
                    report.set(check_id, name, future.result())
        finally:
            running.stop(timeout=8.0)  # main process first: lifespan.shutdown runs

    # frameworks --------------------------------------------------------------------------
    def _run_framework(
        self, framework: str, checks: list[ConformanceCheck], report: ConformanceReport
    ) -> None:
        column = FRAMEWORK_PREFIX + framework
        adapter = self.adapters[self.config.framework_server]
        target = AppTarget(f"fw_{framework}", f"fw_{framework}:app", str(self.apps_dir))
        if not adapter.is_installed():
            self._mark_all(
                report, column, checks, CheckResult(UNSUPPORTED, f"{adapter.name} not installed")
            )
            return
        try:
            running = self._launch(adapter, target, {})
        except ServerStartError as exc:
            missing = "ModuleNotFoundError" in exc.log_tail or "ImportError" in exc.log_tail
            status = UNSUPPORTED if missing else ERROR
            why = "not installed" if missing else str(exc)
            self._mark_all(
                report, column, checks, CheckResult(status, f"{why}; log: {exc.log_tail[-300:]}")
            )
            return
        ctx = ProbeContext(running.host, running.port, column, adapter, running, self.targets)
        with running:
            for check in checks:
                report.set(check.id, column, run_check(check, ctx))
        self.progress(f"conform: {column} done")
