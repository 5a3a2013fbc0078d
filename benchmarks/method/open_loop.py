"""The open-loop generator's method checks against covet's server (raw app, plaintext, server on
core 0, generators on core 1):

    # wrk2's self-test: a 1 s SIGSTOP, 3 s into a 10 s trial at 1,000 req/s
    flock /tmp/covet-bench.lock .venv/bin/python benchmarks/method/open_loop.py stall
    # its ceiling, beside wrk's closed loop at the same 64 connections: wrk, then each rate
    flock /tmp/covet-bench.lock .venv/bin/python benchmarks/method/open_loop.py max-rate 15000 40000

Each run lasts 5 s (the stall: 10 s) and prints achieved req/s, late sends, generator and server
CPU and the p99 from the intended start and from the send.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from covetbench.apps import builtin_apps
from covetbench.load import LoadRequest, LoadResult, get_loadgen
from covetbench.processes import ProcessTree
from covetbench.run.monitor import wait_for_idle
from covetbench.run.stall import StallInjector, StallSpec
from covetbench.scenarios import get_scenario
from covetbench.servers import RunningServer, ServerOptions, get_server

CONNECTIONS = 64


def _line(label: str, result: LoadResult, seconds: float, server_cpu_s: float) -> str:
    uncorrected = result.latency_uncorrected_ms
    return (
        f"{label}: {result.rps:.0f} req/s, late sends {result.late_sends} of "
        f"{result.intended_requests}, generator CPU {100 * (result.cpu_s or 0) / seconds:.0f} %, "
        f"server CPU {100 * server_cpu_s / seconds:.0f} %, p99 {result.latency_ms.p99} ms "
        f"(from the send: {uncorrected.p99 if uncorrected else '-'} ms), "
        f"errors {result.errors.total}"
    )


def _drive(
    server: RunningServer, loadgen: str, rate: float | None, seconds: float, stall: str | None
) -> str:
    spec = get_scenario("plaintext")
    request = LoadRequest(
        url=spec.url(server.base_url),
        scenario=spec,
        concurrency=CONNECTIONS,
        duration_s=seconds,
        cpus=[1],
        rate=rate,
    )
    wait_for_idle([0, 1], timeout_s=10)
    tree = ProcessTree(server.pid)
    before = tree.cpu_s()
    with StallInjector(StallSpec.parse(stall) if stall else None, server.pid) as injected:
        result = get_loadgen(loadgen).run(request)
    label = f"{loadgen} {rate:g} req/s offered" if rate else f"{loadgen} closed loop"
    line = _line(label, result, seconds, tree.cpu_s() - before)
    return line + (f"; stall {injected.record()}" if stall else "")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("stall", "max-rate"):
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        options = ServerOptions(cpus=[0])
        with get_server("covet").launch(builtin_apps()["raw"], options, log) as server:
            if argv[0] == "stall":
                print(_drive(server, "open", 1_000.0, 10.0, "1@3"))
                return 0
            print(_drive(server, "wrk", None, 5.0, None))
            for rate in argv[1:]:
                print(_drive(server, "open", float(rate), 5.0, None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
