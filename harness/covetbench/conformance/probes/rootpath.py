"""The root-path probe: it launches the server itself with a root path configured."""

from __future__ import annotations

import base64
import json
from typing import Any

from covetbench.conformance.model import ERROR, FAIL, UNSUPPORTED, CheckResult
from covetbench.conformance.probes import ProbeContext, judge_json, probe
from covetbench.exceptions import ServerStartError
from covetbench.net.rawclient import exchange, request_bytes
from covetbench.servers.base import ServerOptions


@probe("root_path", self_launch=True)
def root_path(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Serve the probe app with root path /api, GET /echo/x (as a prefix-stripping proxy
    would send it) and judge the scope with `expect`."""
    if ctx.adapter is None:
        return CheckResult(ERROR, "no adapter")
    option = ctx.adapter.root_path_option
    if option is None:
        return CheckResult(UNSUPPORTED, f"{ctx.server} has no root-path option")
    args = [option, "/api"]
    options = ServerOptions(extra={"args": args})
    try:
        with ctx.launch("probe", options, log_name="root-path") as running:
            ex = exchange(running.host, running.port, request_bytes("GET", "/echo/x", "x"))
    except ServerStartError as exc:
        return CheckResult(UNSUPPORTED, f"{' '.join(args)} not accepted: {exc.log_tail[-200:]}")
    if not ex.responses:
        return CheckResult(FAIL, ex.summary())
    try:
        scope = json.loads(ex.responses[0].body)["scope"]
    except (ValueError, KeyError):
        return CheckResult(FAIL, ex.summary())
    raw = scope.get("raw_path")
    shown = {
        "root_path": scope.get("root_path"),
        "path": scope.get("path"),
        "raw_path": base64.b64decode(raw["b64"]).decode() if isinstance(raw, dict) else raw,
    }
    evidence = f"{' '.join(args)}; GET /echo/x; app saw {shown}"
    return judge_json({"scope": scope}, params["expect"], evidence)
