"""Lifespan probes: startup before serving, startup.failed, an app raising on lifespan, and
shutdown on SIGTERM."""

from __future__ import annotations

import json
import time
from typing import Any

from covetbench.conformance.model import ERROR, FAIL, PASS, UNSUPPORTED, CheckResult
from covetbench.conformance.probes import ProbeContext, judge_json, probe
from covetbench.exceptions import ServerStartError
from covetbench.net.rawclient import exchange, request_bytes


@probe("lifespan_seen")
def lifespan_seen(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """GET /lifespan: what the app saw of lifespan, judged with `expect`; UNSUPPORTED when the
    server never opened a lifespan scope."""
    ex = ctx.get("/lifespan")
    if not ex.responses:
        return CheckResult(ERROR, ex.summary())
    try:
        seen = json.loads(ex.responses[0].body)
    except ValueError:
        return CheckResult(ERROR, ex.summary())
    evidence = f"app saw lifespan {json.dumps(seen)[:400]}"
    if seen.get("lifespan_scope") is None:
        return CheckResult(UNSUPPORTED, f"server has no lifespan; {evidence}")
    return judge_json(seen, params.get("expect", {}), evidence, params.get("unsupported"))


@probe("startup_failed", self_launch=True)
def startup_failed(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Serve `lifespan_fail:app`: the server must exit instead of serving."""
    if ctx.adapter is None:
        return CheckResult(ERROR, "no adapter")
    if not ctx.adapter.supports_lifespan:
        return CheckResult(UNSUPPORTED, f"{ctx.server} has no lifespan support")
    try:
        with ctx.launch("lifespan_fail") as running:
            ex = exchange(running.host, running.port, request_bytes("GET", "/", "x"))
            time.sleep(0.5)
            alive = running.alive()
            return CheckResult(
                FAIL,
                f"server served after lifespan.startup.failed (alive={alive}): {ex.summary()}; "
                f"log: {running.log_tail(5)}",
            )
    except ServerStartError as exc:
        exited = "exited" in str(exc)
        status = PASS if exited else FAIL
        return CheckResult(status, f"{exc}; log: {exc.log_tail[-300:]}")


@probe("lifespan_raise", self_launch=True)
def lifespan_raise(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Serve `lifespan_raise:app`: the server must go on serving HTTP without lifespan."""
    if ctx.adapter is None:
        return CheckResult(ERROR, "no adapter")
    try:
        with ctx.launch("lifespan_raise") as running:
            ex = exchange(running.host, running.port, request_bytes("GET", "/", "x"))
            ok = bool(ex.responses) and ex.responses[0].status == 200
            return CheckResult(PASS if ok else FAIL, ex.summary())
    except ServerStartError as exc:
        return CheckResult(FAIL, f"server did not serve: {exc}; log: {exc.log_tail[-300:]}")


@probe("lifespan_shutdown", after_stop=True)
def lifespan_shutdown(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """After SIGTERM to the server's main process the app must have received
    lifespan.shutdown (it writes a marker file)."""
    if ctx.adapter is not None and not ctx.adapter.supports_lifespan:
        return CheckResult(UNSUPPORTED, f"{ctx.server} has no lifespan support")
    if ctx.marker is None:
        return CheckResult(ERROR, "no marker file configured")
    if ctx.marker.exists():
        return CheckResult(
            PASS, f"SIGTERM to the main process; app wrote {ctx.marker.name} on lifespan.shutdown"
        )
    return CheckResult(
        FAIL,
        "SIGTERM to the main process; in 8 s the app got no lifespan.shutdown (no marker)",
    )
