"""Graceful shutdown, tested as stated: SIGTERM while requests to a slow endpoint are in flight.

The probe launches its own server (with `workers` worker processes and the server's grace
period from the check file's `[params.servers.NAME]`), sends `requests` requests to the probe
app's `/slow` (each waits `delay_s`, answering its head half way), waits until every one has
reached the app, then sends SIGTERM to the server's main process and judges four things:

1. every in-flight request completes with its full body (the exact bytes, one response each);
2. new connections are refused (or closed unanswered) within `refuse_within_s` of the signal;
3. lifespan shutdown runs (the probe app writes a marker file; servers without lifespan skip it);
4. the process exits within the grace period; the seconds to exit are the check's figure.

    [params.servers.covet]
    grace_args = ["--timeout-graceful-shutdown", "8"]   # appended to the server's command
    grace_s = 8                                          # what those arguments bound
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from covetbench.conformance.model import ERROR, FAIL, PASS, UNSUPPORTED, CheckResult
from covetbench.conformance.probes import ProbeContext, new_token, probe
from covetbench.exceptions import ServerStartError
from covetbench.net.rawclient import RawExchange, exchange, request_bytes
from covetbench.servers.base import RunningServer, ServerOptions

#: the body pattern of the probe app's `/slow` (scenarios/conformance/apps/shutdown.py)
PATTERN = b"0123456789abcdef"
#: longest wait for the in-flight requests to reach the app before the signal
ARRIVAL_TIMEOUT_S = 10.0
#: what a server with no configurable grace period gets
DEFAULT_GRACE_S = 10.0


def expected_body(size: int) -> bytes:
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


def _settings(ctx: ProbeContext, params: dict[str, Any]) -> dict[str, Any]:
    servers = params.get("servers", {})
    entry = servers.get(ctx.server, {}) if isinstance(servers, dict) else {}
    return entry if isinstance(entry, dict) else {}


def _new_connection(host: str, port: int) -> str:
    """One new connection after the signal: "refused", "closed" (accepted, closed unanswered),
    "served" (answered) or "held" (accepted, no answer yet)."""
    request = request_bytes("GET", "/echo", f"{host}:{port}", [("Connection", "close")])
    ex = exchange(host, port, request, timeout=0.5, grace=0.0)
    if ex.error.startswith("connect failed"):
        return "refused"
    if ex.responses:
        return "served"
    return "closed" if ex.closed else "held"


def _refusal(host: str, port: int, window_s: float) -> tuple[float | None, dict[str, int]]:
    """Seconds until a new connection was refused (None: not within `window_s`) and what the
    attempts before it got."""
    started = time.monotonic()
    seen: dict[str, int] = {}
    while time.monotonic() - started < window_s:
        outcome = _new_connection(host, port)
        if outcome in ("refused", "closed"):
            return time.monotonic() - started, seen
        seen[outcome] = seen.get(outcome, 0) + 1
        time.sleep(0.05)
    return None, seen


def _judge_request(i: int, ex: RawExchange, body: bytes) -> str | None:
    """Why in-flight request `i` did not complete with its full body (None: it did)."""
    if not ex.responses:
        return f"request {i}: no response ({ex.summary()[-160:]})"
    if len(ex.responses) > 1:
        return f"request {i}: {len(ex.responses)} responses"
    response = ex.responses[0]
    if response.status != 200:
        return f"request {i}: status {response.status}"
    if not response.complete or response.body != body:
        return f"request {i}: body cut short ({len(response.body)} of {len(body)} bytes)"
    return None


def _arrived(directory: Path, tokens: list[str]) -> int:
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
    while True:
        count = sum((directory / f"arrived-{t}").exists() for t in tokens)
        if count == len(tokens) or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


def _exercise(
    ctx: ProbeContext,
    running: RunningServer,
    params: dict[str, Any],
    directory: Path,
    marker: Path,
    grace_s: float,
) -> CheckResult:
    n = int(params.get("requests", 4))
    delay = float(params.get("delay_s", 2.0))
    size = int(params.get("size", 65536))
    window = float(params.get("refuse_within_s", 1.0))
    host, port = running.host, running.port
    tokens = [new_token() for _ in range(n)]
    body = expected_body(size)
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [
            pool.submit(
                exchange,
                host,
                port,
                request_bytes("GET", f"/slow?delay={delay:g}&size={size}&token={t}", "x"),
                timeout=delay + grace_s + 5.0,
                grace=0.2,
            )
            for t in tokens
        ]
        arrived = _arrived(directory, tokens)
        if arrived < n:
            for f in futures:
                f.result()
            return CheckResult(ERROR, f"only {arrived} of {n} requests reached the app within 10 s")
        signalled = time.monotonic()
        running.proc.send_signal(signal.SIGTERM)
        refused_after, before = _refusal(host, port, window)
        try:
            running.proc.wait(grace_s + 5.0)
            exit_s: float | None = time.monotonic() - signalled
        except subprocess.TimeoutExpired:
            exit_s = None
        exchanges = [f.result() for f in futures]
    problems = [p for i, ex in enumerate(exchanges) if (p := _judge_request(i + 1, ex, body))]
    done = n - len(problems)
    workers = running.options.workers
    lines = [
        f"SIGTERM with {n} requests to /slow ({delay:g} s, {size // 1024} KiB) in flight, "
        f"{workers} worker(s): {done}/{n} completed with their full body"
    ]
    failed = list(problems)
    earlier = ", ".join(f"{k} {v}" for k, v in before.items()) or "none"
    if refused_after is None:
        failed.append(f"new connections not refused within {window:g} s ({earlier})")
    else:
        lines.append(
            f"new connection refused {refused_after:.2f} s after SIGTERM (before: {earlier})"
        )
    if ctx.adapter is not None and not ctx.adapter.supports_lifespan:
        lines.append(f"{ctx.server} has no lifespan: no lifespan.shutdown to run")
    elif marker.exists():
        lines.append("lifespan.shutdown ran (marker written)")
    else:
        failed.append("no lifespan.shutdown (no marker)")
    if exit_s is None:
        failed.append(f"still running {grace_s + 5:g} s after SIGTERM (grace {grace_s:g} s)")
        figure = f"> {grace_s + 5:g} s to exit"
    else:
        code = running.proc.returncode
        figure = f"{exit_s:.2f} s to exit"
        if exit_s > grace_s:
            failed.append(f"exited after {exit_s:.2f} s, past the {grace_s:g} s grace period")
        else:
            lines.append(f"exited with code {code} in {exit_s:.2f} s (grace {grace_s:g} s)")
    evidence = "; ".join([f"figure: {figure}", *lines, *(f"FAILED: {f}" for f in failed)])
    return CheckResult(FAIL if failed else PASS, evidence)


@probe("graceful_shutdown", self_launch=True)
def graceful_shutdown(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """SIGTERM with requests in flight (see the module docstring)."""
    if ctx.adapter is None:
        return CheckResult(ERROR, "the shutdown probe launches the server: no adapter given")
    workers = int(params.get("workers", 1))
    if workers > 1 and not ctx.adapter.supports_workers:
        return CheckResult(UNSUPPORTED, f"{ctx.server} has no worker processes")
    settings = _settings(ctx, params)
    grace_s = float(settings.get("grace_s", DEFAULT_GRACE_S))
    extra = dict(settings.get("extra", {}))
    args = [str(a) for a in settings.get("grace_args", [])]
    if args:
        extra["args"] = args
    with tempfile.TemporaryDirectory(prefix="covet-shutdown-") as tmp:
        directory = Path(tmp)
        marker = directory / "shutdown-marker"
        env = {"COVET_CONFORM_MARKER": str(marker), "COVET_CONFORM_SHUTDOWN_DIR": tmp}
        try:
            running = ctx.launch(
                "probe",
                ServerOptions(workers=workers, extra=extra),
                log_name=f"graceful-shutdown-w{workers}",
                env=env,
            )
        except ServerStartError as exc:
            return CheckResult(ERROR, f"{exc}; log: {exc.log_tail[-300:]}")
        with running:
            return _exercise(ctx, running, params, directory, marker, grace_s)
