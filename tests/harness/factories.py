"""Record factories shared by the harness's statistics, gate and claims tests."""

from __future__ import annotations

from typing import Any

from covetbench.records import TrialRecord


def make_trial(rps: float, trial: int = 0, **overrides: Any) -> TrialRecord:
    """A clean trial of covet/uvicorn/json at c=64 with `rps`; override any field."""
    fields: dict[str, Any] = {
        "app": "covet",
        "server": "uvicorn",
        "scenario": "json",
        "loadgen": "wrk",
        "concurrency": 64,
        "trial": trial,
        "rps": rps,
        "requests": int(rps * 10),
        "duration_s": 10.0,
        "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 3.0, "p999": None, "max": 9.0},
        "errors": {},
        "error_rate": 0.0,
        "server_cpu_pct": 100.0,
        "loadgen_cpu_pct": 50.0,
        "server_rss_mb": 20.0,
        "interference_pct": 0.0,
        "flags": [],
        "started_at": "t0",
        "ended_at": "t1",
    }
    fields.update(overrides)
    return TrialRecord(**fields)
