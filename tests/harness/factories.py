"""Record factories shared by the harness's statistics, gate and claims tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from covetbench.records import TrialRecord
from covetbench.results.meta import collect_meta
from covetbench.results.store import ResultsWriter
from covetbench.run.validity import judge_configs


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


def write_quick_run(path: Path) -> Path:
    """A tiny results directory shaped like the quick suite's: covet and raw, json, on covet's
    server and uvicorn, two trials each (what `covet-bench run quick --claims` judges)."""
    writer = ResultsWriter(path, collect_meta("covet-bench run quick", {"server_cpus": [0]}))
    for app, base in (("covet", 15_000.0), ("raw", 18_000.0)):
        for server in ("covet", "uvicorn"):
            for i in range(2):
                writer.add_trial(make_trial(base + 100 * i, i, app=app, server=server))
    writer.finish(judge_configs(writer.trials))
    return path
