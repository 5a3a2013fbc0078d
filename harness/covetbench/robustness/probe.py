"""What soak and fuzz share: one server under the benchmark lock, the liveness probe, the
choice of server and app (by default the covet framework app on covet's server: what covet's
claims are about), and the provenance block every record carries.

    adapter = resolve_target("covet", "covet", None)
    with locked_server(adapter, app, [0], log, LOCK_PATH) as server:
        ok, why = probe(server)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from covetbench.apps import builtin_apps
from covetbench.exceptions import UnknownNameError, UsageError
from covetbench.net.rawclient import exchange, request_bytes
from covetbench.run.lock import bench_lock, signals_deferred
from covetbench.servers import AppTarget, RunningServer, ServerAdapter, ServerOptions, get_server

#: what a healthy built-in app answers on the probe path
PROBE_PATH = "/plaintext"
PROBE_BODY = b"Hello, World!"


@contextlib.contextmanager
def locked_server(
    adapter: ServerAdapter, app: AppTarget, cpus: list[int], log: Path, lock_path: Path | None
) -> Iterator[RunningServer]:
    """One server under the benchmark lock, stopped (signals held off) however the block ends:
    the shape of every single-server command (soak, fuzz)."""
    with bench_lock(lock_path):
        server = adapter.launch(app, ServerOptions(cpus=cpus), log)
        try:
            yield server
        finally:
            with signals_deferred():
                server.stop()


def provenance(
    server: RunningServer,
    app: str,
    meta: Mapping[str, Any],
    *,
    size: int,
    unit: str,
    duration_s: float,
    thresholds: Mapping[str, Any],
) -> dict[str, Any]:
    """What a record tested, for the claims ledger to check against a claim
    (`covetbench.claims.provenance`): server, app, parser, workers, the git commit of the code
    served, size (requests or cases), duration and the thresholds it was judged on."""
    log = server.log_tail(400)
    return {
        "server": server.adapter.name,
        "app": app,
        "parser": server.adapter.parser(server.options, log),
        "workers": server.options.workers,
        "git_commit": meta.get("git_commit"),
        "git_dirty": meta.get("git_dirty"),
        "size": size,
        "unit": unit,
        "duration_s": round(duration_s, 2),
        "thresholds": dict(thresholds),
    }


def probe(server: RunningServer, timeout_s: float = 2.0) -> tuple[bool, str]:
    """Is the server alive and answering `GET /plaintext` with 200 and its body? (ok, why)."""
    if not server.alive():
        return False, f"server process exited with code {server.proc.returncode}"
    request = request_bytes("GET", PROBE_PATH, f"{server.host}:{server.port}")
    ex = exchange(server.host, server.port, request, timeout=timeout_s, grace=0.0)
    if len(ex.responses) != 1:
        return False, f"probe got {len(ex.responses)} responses: {ex.summary()}"
    response = ex.responses[0]
    if response.status != 200 or response.body != PROBE_BODY:
        return False, f"probe answer unexpected: {response.summary()}"
    return True, "ok"


def resolve_target(server: str, app: str, adapter: ServerAdapter | None) -> ServerAdapter:
    """The adapter to launch (checked installed) for `server`, with `app` a built-in app."""
    apps = builtin_apps()
    if app not in apps:
        raise UnknownNameError("app", app, apps)
    chosen = adapter or get_server(server)
    if not chosen.is_installed():
        raise UsageError(f"server {chosen.name!r} is not installed")
    return chosen
