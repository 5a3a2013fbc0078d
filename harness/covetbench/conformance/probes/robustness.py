"""Robustness probes: what a hostile client costs a server, as a measured figure and a verdict.

Every probe launches its own instance of the server under test (so one attack's memory or
held sockets never colour another's figure) with the access log on and, when the check names
`timeouts`, the server's short-timeout arguments from the check file's `[params.servers]`:

    [params.servers.uvicorn]
    extra = { log_level = "info" }          # ServerOptions.extra for this server
    timeout_args = ["--timeout-keep-alive", "1"]
    timeouts = { keep_alive = 1 }           # what those arguments bound, in seconds

The evidence always starts with the figure (`figure: 3.2 MiB`), then what was sent and seen.
"""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from covetbench.conformance.attacks import (
    RssSampler,
    held_open,
    ping_flood,
    pipelined_flood,
    send_all_within,
    text_frames,
)
from covetbench.conformance.model import ERROR, FAIL, PASS, UNSUPPORTED, CheckResult, escape
from covetbench.conformance.probes import Probe, ProbeContext, new_token, probe
from covetbench.exceptions import ServerStartError
from covetbench.net.rawclient import exchange, request_bytes
from covetbench.processes import ProcessTree
from covetbench.servers.base import RunningServer, ServerOptions


class LaunchFailed(Exception):
    """The server would not start with the robustness options (an unknown flag, say)."""


def server_settings(ctx: ProbeContext, params: dict[str, Any]) -> dict[str, Any]:
    """This server's entry of the check file's `[params.servers]` ({} when it has none)."""
    servers = params.get("servers", {})
    entry = servers.get(ctx.server, {}) if isinstance(servers, dict) else {}
    return entry if isinstance(entry, dict) else {}


def launch_options(ctx: ProbeContext, params: dict[str, Any]) -> ServerOptions:
    """Access log on; the server's `extra`; its `timeout_args` when the check names timeouts."""
    settings = server_settings(ctx, params)
    extra = dict(settings.get("extra", {}))
    args = [str(a) for a in extra.pop("args", [])]
    if params.get("timeouts"):
        args += [str(a) for a in settings.get("timeout_args", [])]
    if args:
        extra["args"] = args
    return ServerOptions(access_log=True, extra=extra)


@contextmanager
def launched(
    ctx: ProbeContext, params: dict[str, Any], server: str | None = None
) -> Iterator[tuple[ProbeContext, RunningServer]]:
    """A fresh launch of the probe app on `server` (default: the context's), stopped after."""
    target, name = ctx, f"robustness-{params.get('attack', 'probe')}"
    if server is not None:
        from covetbench.servers import get_server

        target = replace(ctx, server=server, adapter=get_server(server))
        name += f"-for-{ctx.server}"  # its own check may be writing the plain name meanwhile
    try:
        running = target.launch("probe", launch_options(target, params), log_name=name)
    except ServerStartError as exc:
        raise LaunchFailed(f"{exc}; log: {exc.log_tail[-300:]}") from None
    with running:
        yield replace(target, host=running.host, port=running.port, running=running), running


def robustness_probe(name: str) -> Callable[[Probe], Probe]:
    """Register a probe that launches its own server; a server that will not launch with the
    robustness options makes the check ERROR with the reason, never a crash."""

    def register(fn: Probe) -> Probe:
        @functools.wraps(fn)
        def run(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
            if ctx.adapter is None:
                return CheckResult(ERROR, "robustness probes launch the server: no adapter given")
            try:
                return fn(ctx, params)
            except LaunchFailed as exc:
                return CheckResult(ERROR, f"could not launch with the robustness options: {exc}")

        probe(name, self_launch=True)(run)
        return fn

    return register


def _verdict(ok: bool, figure: str, evidence: str) -> CheckResult:
    return CheckResult(PASS if ok else FAIL, f"figure: {figure}; {evidence}")


# -- memory ---------------------------------------------------------------------------------


def _warm_up(ctx: ProbeContext, params: dict[str, Any]) -> None:
    """One ordinary round of the attacked path first: allocations every request makes (imports,
    buffers, the cached resource) are not growth."""
    if params["attack"] == "ws-ping-flood":
        with ping_flood(ctx.host, ctx.port, params["path"], 64 * 1024):
            time.sleep(0.3)
    else:
        for _ in range(3):
            ctx.get(params["path"])


@robustness_probe("memory_flood")
def memory_flood(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """`attack` "pipeline-flood": `requests` pipelined GETs of `path` on one connection, never
    read; "ws-ping-flood": `megabytes` of pings on a WebSocket at `path`, pongs never read.
    PASS when the server tree's peak RSS grew <= `max_mib_per_connection`."""
    limit = float(params.get("max_mib_per_connection", 8.0))
    with launched(ctx, params) as (live, running):
        _warm_up(live, params)
        tree = ProcessTree(running.pid)
        with RssSampler(tree) as rss:
            if params["attack"] == "ws-ping-flood":
                size = int(float(params.get("megabytes", 30)) * 1024 * 1024)
                with ping_flood(live.host, live.port, params["path"], size) as sent:
                    rss.settle(float(params.get("settle_s", 3.0)))
                what = f"sent {sent / 2**20:.1f} of {size / 2**20:.0f} MiB of pings"
            else:
                count = int(params.get("requests", 300))
                one = request_bytes("GET", params["path"], live.hostport)
                with pipelined_flood(live.host, live.port, one, count) as sent:
                    rss.settle(float(params.get("settle_s", 3.0)))
                what = f"sent {count} pipelined {escape(one, 60)} ({sent} bytes), read nothing"
        alive = "" if running.alive() else "; the server died"
    growth = rss.growth_mib
    evidence = (
        f"{what}; server RSS {rss.baseline / 2**20:.1f} -> peak {rss.peak / 2**20:.1f} MiB "
        f"({rss.samples} samples){alive}; limit {limit:g} MiB"
    )
    return _verdict(growth <= limit and not alive, f"{growth:.1f} MiB", evidence)


# -- held connections -----------------------------------------------------------------------


def hold_limit(ctx: ProbeContext, params: dict[str, Any]) -> tuple[float | None, str]:
    """The seconds a held connection may last on this server, and how that was worked out;
    None when the server has none of the timeouts the check accepts."""
    configured = server_settings(ctx, params).get("timeouts", {})
    kinds = [k for k in params.get("timeouts", []) if k in configured]
    if not kinds:
        wanted = "/".join(params.get("timeouts", []))
        return None, f"{ctx.server} has no {wanted} timeout configured"
    kind = max(kinds, key=lambda k: float(configured[k]))
    slack = float(params.get("slack_s", 2.0))
    return float(configured[kind]) + slack, f"{kind} timeout {configured[kind]}s + {slack:g}s"


@robustness_probe("held_connection")
def held_connection(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Send `request` (then `frames_bytes` of WebSocket frames, or `trickle` one byte every
    `trickle_every_s`) and time how long the server keeps the connection; PASS when it closes
    within `hold_limit`, FAIL when it is held past it (observed up to `window_s`, or just past
    the limit when that is longer)."""
    limit, why = hold_limit(ctx, params)
    # observed past the limit too: how long a failing server holds on is the figure
    window = max(float(params.get("window_s", 15.0)), (limit or 0.0) + 1.0)
    with launched(ctx, params) as (live, _running):
        data = live.expand(params["request"])
        started = time.monotonic()
        with socket.create_connection((live.host, live.port), timeout=3.0) as sock:
            sock.sendall(data)
            extra = ""
            if params.get("frames_bytes"):
                frames = text_frames(int(params["frames_bytes"]))
                took = send_all_within(sock, frames, max_s=3.0)
                extra = f", then {took} of {len(frames)} bytes of WebSocket frames"
            trickle = str(params.get("trickle", "")).encode("latin-1")
            seconds, seen = held_open(
                sock, window, trickle, float(params.get("trickle_every_s", 1.0)), started
            )
    if trickle:
        extra += f", then trickled {escape(trickle, 20)} a byte every {params['trickle_every_s']}s"
    sent = f"sent {escape(data, 140)}{extra}; got {escape(seen, 100)}"
    if seconds is None:
        bound = f"limit {limit:.1f}s ({why})" if limit is not None else why
        return _verdict(False, f">= {window:.1f} s (still open)", f"{sent}; {bound}")
    if limit is None:
        return _verdict(True, f"{seconds:.1f} s", f"{sent}; closed by the server; {why}")
    return _verdict(seconds <= limit, f"{seconds:.1f} s", f"{sent}; limit {limit:.1f}s ({why})")


# -- CPU -------------------------------------------------------------------------------------


def _request_cpu_ms(live: ProbeContext, tree: ProcessTree, data: bytes) -> tuple[float, str]:
    before = tree.cpu_s()
    ex = exchange(live.host, live.port, data, timeout=10.0, grace=0.2)
    time.sleep(0.1)  # a worker's last tick lands in its cpu_times
    return (tree.cpu_s() - before) * 1000.0, ex.summary()


@robustness_probe("header_cpu")
def header_cpu(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """One GET whose header value holds `run_bytes` of `run` (spaces and tabs) between two
    letters; PASS when the server tree spent <= `max_ms` CPU milliseconds on it. A request with
    the same size of letters is measured too, for comparison."""
    limit = float(params.get("max_ms", 50.0))
    size = int(params.get("run_bytes", 16384))
    run = str(params.get("run", " \t"))
    padding = (run * (size // len(run) + 1))[:size]
    with launched(ctx, params) as (live, running):
        attack = request_bytes("GET", "/echo", live.hostport, [("X-Pad", f"a{padding}b")])
        plain = request_bytes("GET", "/echo", live.hostport, [("X-Pad", "a" * (size + 2))])
        live.get("/echo")  # first-request allocations and imports are not the header's cost
        tree = ProcessTree(running.pid)
        control_ms, _ = _request_cpu_ms(live, tree, plain)
        cost_ms, summary = _request_cpu_ms(live, tree, attack)
    evidence = (
        f"header X-Pad: a + {size} bytes of {run!r} + b; {summary}; the same size of letters "
        f"cost {control_ms:.0f} ms; limit {limit:g} ms"
    )
    return _verdict(cost_ms <= limit, f"{cost_ms:.0f} ms CPU", evidence)


# -- smuggling and log forging --------------------------------------------------------------

SMUGGLED_MARK = b"SMUGGLED-REQUEST-EXECUTED"


@robustness_probe("smuggle")
def smuggle(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Send `request` whose body ({smuggled}) is a request for /smuggled/TOKEN; FAIL when the
    server executed it: its distinctive answer came back, or the app recorded the path."""
    token = new_token()
    smuggled = f"GET /smuggled/{token} HTTP/1.1\r\nHost: x\r\n\r\n"
    with launched(ctx, params) as (live, _running):
        data = live.expand(params["request"], smuggled=smuggled, length=str(len(smuggled)))
        ex = live.raw(data, want=2, timeout=3.0, grace=0.5)
        value, seen = live.stored(token, wait=1.0)
    answered = SMUGGLED_MARK in ex.received
    executed = answered or value is not None
    how = "answered it" if answered else "the app served it" if executed else "not executed"
    evidence = f"{ex.summary()}; {seen}"
    return _verdict(not executed, f"smuggled request {how}", evidence)


@robustness_probe("log_forging")
def log_forging(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """GET a path whose %0a / %0d%0a decode to line breaks before FORGED-TOKEN; FAIL when a line
    of the server's access log starts with the forged text; UNSUPPORTED when no access line
    names the request at all."""
    token = new_token()
    with launched(ctx, params) as (live, running):
        ex = live.raw(live.expand(params["request"], token=token), timeout=3.0)
        lines: list[str] = []
        for _ in range(20):  # the access line may be written just after the response
            time.sleep(0.1)
            text = running.log_path.read_text(errors="replace")
            lines = [line for line in text.splitlines() if token in line]
            if lines:
                break
        forged = [line for line in lines if line.lstrip().startswith(("FORGED-", "FORGED2-"))]
    shown = " | ".join(escape(line.encode(errors="replace"), 120) for line in lines[:3])
    evidence = f"{ex.summary()}; log lines naming the token: {shown or 'none'}"
    if not lines:
        return CheckResult(UNSUPPORTED, f"figure: no access line; {evidence}")
    if forged:
        return _verdict(False, f"{len(forged)} forged line(s) in the access log", evidence)
    return _verdict(True, "control characters escaped", evidence)
