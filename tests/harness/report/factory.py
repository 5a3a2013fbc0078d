"""Synthetic, schema-valid report inputs: results.json, conformance.json, claims.json, gate.json.

Figures are plausible (raw ASGI fastest, granian ahead of uvicorn, latency from Little's law) and
deterministic (seeded), with a few flagged trials, a verify failure and a launch failure, so
every section of the report has something to draw.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from covetbench.records import (
    FLAG_GENERATOR_BOUND,
    FLAG_INTERFERENCE,
    SCHEMA_VERSION,
    FailureRecord,
    TrialRecord,
    VerifyRecord,
)
from covetbench.results.store import validate_results
from covetbench.run.validity import judge_configs

EVIL_SERVER = "<script>window.__pwned=1</script>srv"
EVIL_APP = '<img src=x onerror="window.__pwned=2">app'
EVIL_TEXT = "<script>window.__pwned=3;alert(1)</script><img src=x onerror=alert(2)>"

_APP_SPEED = {"raw": 30000.0, "covet": 17000.0, "starlette": 14000.0, "fastapi": 9000.0}
_SERVER_SPEED = {"uvicorn": 1.0, "granian": 1.3, "covet": 0.85}
_SCENARIO_SPEED = {"plaintext": 1.0, "json": 0.82}
_LEVEL_SPEED = {16: 0.86, 64: 1.0, 256: 0.97}


def meta(suite: str = "quick", command: str = "covet-bench run quick") -> dict[str, Any]:
    return {
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "git_dirty": False,
        "versions": {
            "python": "3.11.7",
            "servers": {"uvicorn": "0.32.0", "granian": "2.1.0", "covet": "0.1.0"},
            "frameworks": {"starlette": "0.41.0", "fastapi": "0.115.0", "covet": "0.1.0"},
            "libraries": {"uvloop": "0.21.0", "httptools": None},
            "tools": {"wrk": "wrk 4.1.0"},
        },
        "cpu_model": "Intel(R) Xeon(R) CPU @ 2.20GHz",
        "cores": 2,
        "cores_available": 2,
        "pinning": {"server_cpus": [0], "loadgen_cpus": [1]},
        "command": command,
        "started_at": "2026-11-27T10:00:00Z",
        "ended_at": "2026-11-27T10:04:30Z",
        "suite": suite,
        "host": "bench-1",
    }


def trials(
    apps: list[str],
    servers: list[str],
    scenarios: list[str],
    levels: list[int],
    n_trials: int = 3,
    seed: int = 7,
    slowdown: float = 1.0,
) -> list[TrialRecord]:
    rng = random.Random(seed)
    out = []
    for scenario in scenarios:
        for c in levels:
            for app in apps:
                for server in servers:
                    base = (
                        _APP_SPEED.get(app, 12000.0)
                        * _SERVER_SPEED.get(server, 0.9)
                        * _SCENARIO_SPEED.get(scenario, 0.7)
                        * _LEVEL_SPEED.get(c, 0.95)
                        / slowdown
                    )
                    for n in range(n_trials):
                        rps = base * rng.uniform(0.97, 1.03)
                        flags: list[str] = []
                        if app == "raw" and server == "granian" and c == max(levels):
                            flags.append(FLAG_GENERATOR_BOUND)
                        if app == "starlette" and server == "uvicorn" and n == 1:
                            flags.append(FLAG_INTERFERENCE)
                            rps *= 0.85
                        p50 = c / rps * 1000.0
                        out.append(
                            TrialRecord(
                                app=app,
                                server=server,
                                scenario=scenario,
                                loadgen="wrk",
                                concurrency=c,
                                trial=n,
                                rps=rps,
                                requests=int(rps * 10),
                                duration_s=10.0,
                                latency_ms={
                                    "p50": p50,
                                    "p90": p50 * 1.4,
                                    "p99": p50 * rng.uniform(2.2, 3.0),
                                    "p999": p50 * rng.uniform(4.0, 7.0),
                                    "max": p50 * 12.0,
                                    "mean": p50 * 1.1,
                                },
                                errors={
                                    "non2xx": 0,
                                    "connect": 0,
                                    "read": 0,
                                    "write": 0,
                                    "timeout": 0,
                                },
                                error_rate=0.0,
                                server_cpu_pct=rng.uniform(93.0, 99.5),
                                loadgen_cpu_pct=95.0 if FLAG_GENERATOR_BOUND in flags else 70.0,
                                server_rss_mb=22.0 + 8.0 * list(_APP_SPEED).index(app)
                                if app in _APP_SPEED
                                else 40.0,
                                interference_pct=9.0 if FLAG_INTERFERENCE in flags else 0.4,
                                flags=flags,
                                started_at="2026-11-27T10:00:00Z",
                                ended_at="2026-11-27T10:00:10Z",
                                server_cpus=[0],
                                loadgen_cpus=[1],
                            )
                        )
    return out


def results(
    runs: list[TrialRecord],
    verify: list[VerifyRecord] | None = None,
    failures: list[FailureRecord] | None = None,
    with_summary: bool = True,
) -> dict[str, Any]:
    data = {
        "schema_version": SCHEMA_VERSION,
        "meta": meta(),
        "verify": [v.to_dict() for v in verify or []],
        "failures": [f.to_dict() for f in failures or []],
        "runs": [t.to_dict() for t in runs],
        "summary": [s.to_dict() for s in judge_configs(runs)] if with_summary else [],
    }
    validate_results(data)
    return data


def full_results(slowdown: float = 1.0, seed: int = 7, n_trials: int = 3) -> dict[str, Any]:
    apps = ["covet", "fastapi", "raw", "starlette"]
    servers = ["covet", "granian", "uvicorn"]
    runs = trials(
        apps, servers, ["json", "plaintext"], [16, 64, 256], n_trials, seed=seed, slowdown=slowdown
    )
    verify = [
        VerifyRecord(a, s, sc, "pass")
        for a in apps
        for s in servers
        for sc in ["json", "plaintext"]
    ]
    verify.append(
        VerifyRecord(
            "blacksheep",
            "uvicorn",
            "json",
            "fail",
            ["Content-Type 'text/plain' is not application/json"],
        )
    )
    verify.append(VerifyRecord("covet", "daphne", "plaintext", "warn", ["Server header missing"]))
    failures = [
        FailureRecord(
            "covet",
            "hypercorn",
            None,
            "launch",
            "server did not accept connections within 10 s",
            "Traceback (most recent call last):\n  ...\nOSError: [Errno 98] Address already in use",
        ),
        FailureRecord("blacksheep", "uvicorn", "json", "verify", "Content-Type mismatch"),
    ]
    return results(runs, verify, failures)


def conformance() -> dict[str, Any]:
    servers = ["covet", "daphne", "granian", "hypercorn", "uvicorn"]
    statuses = ["PASS", "PASS", "PASS", "FAIL", "UNSUPPORTED", "ERROR"]
    rng = random.Random(3)
    checks = []
    for group, n in [
        ("asgi-http", 6),
        ("http11-framing", 5),
        ("asgi-websocket", 4),
        ("asgi-lifespan", 2),
    ]:
        for i in range(n):
            checks.append(
                {
                    "id": f"{group}-{i:02d}",
                    "group": group,
                    "level": ["MUST", "SHOULD", "MAY"][i % 3],
                    "title": f"{group} behaviour number {i}",
                    "spec": f"ASGI spec §{i + 1}",
                    "results": {
                        s: {
                            "status": "PASS"
                            if s == "covet" and i % 3 == 0
                            else rng.choice(statuses),
                            "evidence": {
                                "sent": "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                "received": "HTTP/1.1 200 OK",
                            },
                        }
                        for s in servers
                    },
                }
            )
    return {"meta": {"versions": {"uvicorn": "0.32.0"}}, "servers": servers, "checks": checks}


def claims() -> dict[str, Any]:
    return {
        "meta": {},
        "claims": [
            {
                "id": "rps-784k",
                "statement": "784K requests per second",
                "source": "earlier README",
                "kind": "throughput",
                "verdict": "REFUTED",
                "measured": 21500.0,
                "expected": 784000.0,
                "ratio": 0.0274,
                "evidence": "covet on covet, plaintext, c64: median 21,500 req/s on 1 core",
                "hardware": {"cpu_model": "Intel Xeon @ 2.20GHz", "server_cores": 1},
                "to_reach": "about 37 such cores with perfect scaling",
            },
            {
                "id": "websocket",
                "statement": "WebSocket support",
                "source": "earlier README",
                "kind": "feature",
                "verdict": "VALIDATED",
                "measured": "12/12 asgi-websocket checks pass",
                "expected": "all pass",
                "ratio": None,
                "evidence": "asgi-websocket-00: PASS\nasgi-websocket-01: PASS",
                "parts": ["asgi-websocket"],
                "hardware": None,
            },
            {
                "id": "orm",
                "statement": "database ORM",
                "source": "earlier README",
                "kind": "feature",
                "verdict": "INCONCLUSIVE",
                "measured": None,
                "expected": "an ORM",
                "ratio": None,
                "evidence": "no database scenario has been run",
                "hardware": None,
            },
        ],
    }


def gate() -> dict[str, Any]:
    return {
        "baseline": "reports/main",
        "current": "reports/pr",
        "threshold_pct": 5.0,
        "alpha": 0.01,
        "headline": "FAIL: 1 of 2 configurations regressed",
        "comparisons": [
            {
                "app": "covet",
                "server": "covet",
                "scenario": "json",
                "loadgen": "wrk",
                "concurrency": 64,
                "baseline_median": 15000.0,
                "current_median": 13200.0,
                "ratio": 0.88,
                "ci_low": 0.85,
                "ci_high": 0.91,
                "p_value": 0.004,
                "verdict": "regression",
            },
            {
                "app": "raw",
                "server": "uvicorn",
                "scenario": "json",
                "loadgen": "wrk",
                "concurrency": 64,
                "baseline_median": 24000.0,
                "current_median": 24300.0,
                "ratio": 1.0125,
                "ci_low": 0.98,
                "ci_high": 1.04,
                "p_value": 0.4,
                "verdict": "unchanged",
            },
        ],
        "exit_code": 1,
    }


def write(directory: Path, **files: dict[str, Any]) -> Path:
    """write(dir, results=..., conformance=...) -> dir, one `<name>.json` per keyword."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    return directory


def write_full(directory: Path) -> Path:
    """Every input the report reads."""
    return write(
        directory, results=full_results(), conformance=conformance(), claims=claims(), gate=gate()
    )
