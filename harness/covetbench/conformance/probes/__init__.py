"""Probes: the checks that need more than one request and a verdict on the reply.

A probe is `probe(ctx, params) -> CheckResult`, registered by name in `PROBES`; a check file
names it with `kind = "probe"`, `probe = "NAME"` and passes `params`. Probes that launch the
server themselves (a failing lifespan) are in `SELF_LAUNCH`; those that judge what the server
did while stopping are in `AFTER_STOP`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.conformance.loader import expand_request
from covetbench.conformance.matcher import MISSING, decode_bytes, json_condition, lookup
from covetbench.conformance.model import FAIL, PASS, CheckResult
from covetbench.net.rawclient import RawExchange, exchange, request_bytes
from covetbench.servers.base import AppTarget, RunningServer, ServerAdapter, ServerOptions


@dataclass
class ProbeContext:
    """Where a probe talks to and what it may launch."""

    host: str
    port: int
    server: str
    adapter: ServerAdapter | None = None
    running: RunningServer | None = None
    targets: dict[str, AppTarget] = field(default_factory=dict)
    log_dir: Path = Path(".")
    #: file the probe app writes on lifespan.shutdown
    marker: Path | None = None
    launch_timeout: float = 10.0

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def expand(self, template: str, **values: str) -> bytes:
        for key, value in values.items():
            template = template.replace("{" + key + "}", value)
        return expand_request(template, self.hostport)

    def raw(self, data: bytes | list[bytes], **kwargs: Any) -> RawExchange:
        return exchange(self.host, self.port, data, **kwargs)

    def get(self, target: str, headers: list[tuple[str, str]] | None = None) -> RawExchange:
        return self.raw(request_bytes("GET", target, self.hostport, headers))

    def launch(
        self,
        target: str,
        options: ServerOptions | None = None,
        log_name: str | None = None,
        env: dict[str, str] | None = None,
    ) -> RunningServer:
        """Serve `targets[target]` on this context's server, for probes that launch it
        themselves; the log is `log_dir/<server>-<log_name or target>.log`; `env` is added to
        the server's environment."""
        if self.adapter is None:
            raise RuntimeError(f"no adapter to launch {target!r} on {self.server}")
        log = self.log_dir / f"{self.server}-{log_name or target}.log"
        return self.adapter.launch(
            self.targets[target],
            options or ServerOptions(),
            log,
            env={**os.environ, **env} if env else None,
            ready_timeout=self.launch_timeout,
        )

    def stored(self, token: str, wait: float | None = None) -> tuple[Any, str]:
        """What the probe app stored under `token` (None if nothing), and the evidence; the
        app waits up to `wait` s for it (its default, 3 s, when None)."""
        target = f"/results/{token}" + ("" if wait is None else f"?wait={wait:g}")
        ex = self.raw(request_bytes("GET", target, self.hostport), timeout=5.0)
        if not ex.responses:
            return None, f"results: {ex.summary()}"
        try:
            data = json.loads(ex.responses[0].body)
        except ValueError:
            return None, f"results not JSON: {ex.responses[0].summary()}"
        if not data.get("found"):
            return None, "the app stored nothing"
        return data["value"], f"app saw {json.dumps(data['value'])[:300]}"


def new_token() -> str:
    return uuid.uuid4().hex[:16]


def judge_json(
    value: Any, expect: dict[str, dict[str, Any]], evidence: str, unsupported: Any = None
) -> CheckResult:
    """PASS when every `path: condition` in `expect` holds for `value`."""
    from covetbench.conformance.model import UNSUPPORTED

    paths = [*expect, *(unsupported or {})]
    seen = {p: lookup(value, p) for p in dict.fromkeys(paths)}
    shown = ", ".join(
        f"{p}={'<absent>' if v is MISSING else decode_bytes(v) or v!r}" for p, v in seen.items()
    )
    if shown:
        evidence = f"{evidence}; observed {shown}"
    if unsupported and all(json_condition(lookup(value, p), c) for p, c in unsupported.items()):
        return CheckResult(UNSUPPORTED, evidence)
    failed = [p for p, c in expect.items() if not json_condition(lookup(value, p), c)]
    if failed:
        return CheckResult(FAIL, f"{evidence}; failed: {', '.join(failed)}")
    return CheckResult(PASS, evidence)


Probe = Callable[[ProbeContext, dict[str, Any]], CheckResult]
PROBES: dict[str, Probe] = {}
SELF_LAUNCH: set[str] = set()
AFTER_STOP: set[str] = set()


def probe(
    name: str, *, self_launch: bool = False, after_stop: bool = False
) -> Callable[[Probe], Probe]:
    """Register a probe under `name`."""

    def register(fn: Probe) -> Probe:
        PROBES[name] = fn
        if self_launch:
            SELF_LAUNCH.add(name)
        if after_stop:
            AFTER_STOP.add(name)
        return fn

    return register


def _load_all() -> None:
    from covetbench.conformance.probes import (  # noqa: F401
        differential,
        http,
        lifespan,
        robustness,
        rootpath,
        shutdown,
        websocket,
    )


_load_all()
