"""Soak: does a server's memory grow under sustained load? The record behind `soak.json`.

Black box, like every measurement here: the server is launched through its adapter pinned to
`server_cpus`, wrk (keep-alive, the `plaintext` scenario) is pinned to `loadgen_cpus` and driven
in bounded segments until the count of successful requests passes `requests`. The server's RSS
(its whole process tree, psutil) is sampled after every segment, once the server has gone quiet;
the sample taken right after the count passes `checkpoint` is the baseline (warm caches, pools
and free lists filled), the last one the end. The run passes when the server is still alive and
answering, the target was reached within `max_seconds`, and RSS(end) - RSS(checkpoint) is at most
`max_growth_mb`.

    config = SoakConfig(out_dir=Path("reports/final"), requests=1_000_000)
    record = run_soak(config)      # also writes reports/final/soak.json
    record["passed"], record["growth_mb"]
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.apps import builtin_apps, scenarios_dir
from covetbench.exceptions import LoadGeneratorError, UsageError
from covetbench.load import LoadRequest, WrkDriver
from covetbench.processes import ProcessTree
from covetbench.results.files import SOAK_JSON
from covetbench.results.meta import collect_meta, utc_now
from covetbench.results.store import atomic_write
from covetbench.robustness.probe import locked_server, probe, provenance, resolve_target
from covetbench.run.lock import LOCK_PATH
from covetbench.scenarios import get_scenario
from covetbench.servers import RunningServer, ServerAdapter

MIB = 1024 * 1024
#: longest wait for the server to go quiet after a segment before its RSS is read
_SETTLE_S = 2.0


@dataclass
class SoakConfig:
    """One soak run; fields with a `help` are `covet-bench soak` options."""

    out_dir: Path
    server: str = field(default="covet", metadata={"help": "server adapter"})
    app: str = field(default="covet", metadata={"help": "built-in app"})
    requests: int = field(default=1_000_000, metadata={"help": "successful requests to send"})
    checkpoint: int = field(
        default=100_000, metadata={"help": "requests after which the baseline RSS is read"}
    )
    max_growth_mb: float = field(
        default=5.0, metadata={"help": "largest RSS growth (MiB) after the checkpoint that passes"}
    )
    max_seconds: float = field(
        default=300.0, metadata={"help": "stop (and fail) when the target is not reached by then"}
    )
    concurrency: int = field(default=64, metadata={"help": "wrk connections (keep-alive)"})
    segment_seconds: float = field(default=5.0, metadata={"help": "longest wrk segment"})
    server_cpus: list[int] = field(default_factory=lambda: [0])
    loadgen_cpus: list[int] = field(default_factory=lambda: [1])
    lock_path: Path | None = LOCK_PATH
    command: list[str] = field(default_factory=list)
    #: an adapter object instead of a registry name (tests use stand-in servers)
    adapter: ServerAdapter | None = None

    def validate(self) -> None:
        if self.requests < 1 or self.checkpoint < 1:
            raise UsageError("--requests and --checkpoint must be positive")
        if self.checkpoint >= self.requests:
            raise UsageError(
                f"--checkpoint {self.checkpoint} must be below --requests {self.requests}"
            )
        if self.max_seconds <= 0 or self.segment_seconds < 1:
            raise UsageError("--max-seconds must be positive and --segment-seconds at least 1")


def settle(pid: int, timeout_s: float = _SETTLE_S, poll_s: float = 0.1) -> None:
    """Wait until the server tree stops burning CPU (closing connections, a GC pass)."""
    deadline = time.monotonic() + timeout_s
    tree = ProcessTree(pid)
    before = tree.cpu_s()
    while time.monotonic() < deadline:
        time.sleep(poll_s)
        after = tree.cpu_s()
        if after - before < 0.005:
            return
        before = after


def _segment_seconds(config: SoakConfig, goal: int, done: int, rps: float, left_s: float) -> int:
    """Seconds of the next wrk segment: enough to reach `goal` at the last rate, bounded."""
    want = math.ceil((goal - done) / rps) if rps > 0 else 1
    return int(max(1, min(config.segment_seconds, want, left_s)))


def run_soak(config: SoakConfig) -> dict[str, Any]:
    """Run the soak, write `out_dir/soak.json` and return the record."""
    config.validate()
    adapter = resolve_target(config.server, config.app, config.adapter)
    driver = WrkDriver()
    if not driver.is_installed():
        raise LoadGeneratorError(driver.install_hint)
    scenario = get_scenario("plaintext")
    config.out_dir.mkdir(parents=True, exist_ok=True)
    pinning = {"server_cpus": config.server_cpus, "loadgen_cpus": config.loadgen_cpus}
    meta = collect_meta(config.command, pinning, cwd=scenarios_dir().parent)
    record: dict[str, Any] = {
        "kind": "soak",
        "passed": False,
        "summary": "",
        "started_at": utc_now(),
        "app": config.app,
        "scenario": scenario.name,
        "loadgen": {"name": driver.name, "version": driver.version()},
        "settings": {
            "requests": config.requests,
            "checkpoint": config.checkpoint,
            "max_growth_mb": config.max_growth_mb,
            "max_seconds": config.max_seconds,
            "concurrency": config.concurrency,
            "segment_seconds": config.segment_seconds,
        },
        "meta": meta,
    }
    log = config.out_dir / "logs" / f"soak-{adapter.name}-{config.app}.log"
    app = builtin_apps()[config.app]
    with locked_server(adapter, app, config.server_cpus, log, config.lock_path) as server:
        record["server"] = server.options_used()
        _drive(config, server, driver, scenario, record)
        record["provenance"] = provenance(
            server,
            config.app,
            meta,
            size=record["requests"],
            unit="requests",
            duration_s=record["elapsed_s"],
            thresholds={"max_growth_mb": config.max_growth_mb, "checkpoint": config.checkpoint},
        )
    record["finished_at"] = utc_now()
    atomic_write(config.out_dir / SOAK_JSON, json.dumps(record, indent=2, allow_nan=False) + "\n")
    return record


def _drive(
    config: SoakConfig,
    server: RunningServer,
    driver: WrkDriver,
    scenario: Any,
    record: dict[str, Any],
) -> None:
    started = time.monotonic()
    samples: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    done = 0
    rps = 0.0
    errors = {"non2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}
    checkpoint: dict[str, Any] | None = None
    after_checkpoint = 0
    failure = ""

    def sample(label: str) -> dict[str, Any]:
        settle(server.pid)
        row = {
            "label": label,
            "requests": done,
            "elapsed_s": round(time.monotonic() - started, 2),
            "rss_mb": round(ProcessTree(server.pid).rss_bytes() / MIB, 3),
        }
        samples.append(row)
        return row

    ok, why = probe(server)
    if not ok:
        failure = f"not answering before the load: {why}"
    else:
        sample("start")
    while not failure and (done < config.requests or after_checkpoint == 0):
        left_s = config.max_seconds - (time.monotonic() - started)
        if left_s < 1:
            failure = f"stopped after {config.max_seconds:.0f}s at {done:,} requests"
            break
        goal = config.checkpoint if checkpoint is None else config.requests
        seconds = _segment_seconds(config, goal, done, rps, left_s)
        request = LoadRequest(
            url=scenario.url(server.base_url),
            scenario=scenario,
            concurrency=config.concurrency,
            duration_s=seconds,
            threads=1,
            cpus=config.loadgen_cpus,
        )
        try:
            result = driver.run(request)
        except LoadGeneratorError as exc:
            failure = f"load generator failed at {done:,} requests: {exc}"
            break
        good = result.requests - result.errors.non2xx
        done += good
        rps = good / result.duration_s if result.duration_s > 0 else 0.0
        for key in errors:
            errors[key] += getattr(result.errors, key)
        segments.append(
            {"seconds": seconds, "requests": result.requests, "ok": good, "rps": round(rps)}
        )
        if not server.alive():
            failure = f"server exited with code {server.proc.returncode} under load"
            break
        if checkpoint is None and done >= config.checkpoint:
            checkpoint = sample("checkpoint")
        elif checkpoint is not None:
            after_checkpoint += 1
            sample("segment")
    end = samples[-1] if samples else None
    if end is not None and end["label"] == "segment" and not failure:
        end["label"] = "end"
    if not failure:
        ok, why = probe(server)
        if not ok:
            failure = f"not answering after the load: {why}"
    growth = None
    if checkpoint is not None and end is not None and end is not checkpoint:
        growth = round(end["rss_mb"] - checkpoint["rss_mb"], 3)
    passed = not failure and growth is not None and growth <= config.max_growth_mb
    elapsed = time.monotonic() - started
    if failure:
        summary = f"FAILED: {failure}"
    else:
        assert checkpoint is not None and end is not None and growth is not None
        summary = (
            f"{done:,} requests in {elapsed:.0f}s on {server.adapter.name} ({config.app}); "
            f"RSS {checkpoint['rss_mb']:.1f} MiB at {checkpoint['requests']:,} -> "
            f"{end['rss_mb']:.1f} MiB at {end['requests']:,}: growth {growth:+.2f} MiB "
            f"({'within' if passed else 'over'} the {config.max_growth_mb:g} MiB limit)"
        )
    record.update(
        passed=passed,
        summary=summary,
        requests=done,
        elapsed_s=round(elapsed, 2),
        errors=errors,
        rss_checkpoint_mb=checkpoint["rss_mb"] if checkpoint else None,
        rss_end_mb=end["rss_mb"] if end and end is not checkpoint else None,
        growth_mb=growth,
        samples=samples,
        segments=segments,
        server_log_tail=server.log_tail(20) if failure else "",
    )
