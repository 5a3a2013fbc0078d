"""Does covet-bench report what wrk reports? Direct `taskset -c 1 wrk -t1 -c64` runs of
covet/uvicorn/json before and after a harness run of the same configuration, one session.

    flock /tmp/covet-bench.lock .venv/bin/python benchmarks/method/accuracy.py [TRIALS] [SECONDS]

(The harness run inside is pointed at another lock file so it does not wait for ours.)
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from covetbench.apps import builtin_apps
from covetbench.run.monitor import TrialMonitor, wait_for_idle
from covetbench.servers import ServerOptions, get_server


def direct(n: int, seconds: int, log: Path) -> list[float]:
    """n undisturbed direct wrk runs (a run another process disturbed is repeated)."""
    kept: list[float] = []
    target = builtin_apps()["covet"]
    with get_server("uvicorn").launch(target, ServerOptions(cpus=[0]), log) as server:
        url = server.base_url + "/json"
        subprocess.run(
            ["taskset", "-c", "1", "wrk", "-t1", "-c64", "-d2s", url],
            check=True,
            capture_output=True,
        )
        for _ in range(n * 3):
            if len(kept) == n:
                break
            wait_for_idle([0, 1], timeout_s=20)
            monitor = TrialMonitor(server.pid, [0], [1])
            monitor.start()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds}s", url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            sample = monitor.stop(cpu)
            match = re.search(r"Requests/sec:\s+([\d.]+)", out)
            if match and sample.interference_pct <= 5:
                kept.append(float(match.group(1)))
    return kept


def harness(n: int, seconds: int, out: Path) -> float:
    env = {**os.environ, "COVETBENCH_LOCK": str(out / "inner.lock")}
    subprocess.run(
        [
            "covet-bench",
            "run",
            "quick",
            "--apps",
            "covet",
            "--servers",
            "uvicorn",
            "--scenarios",
            "json",
            "--trials",
            str(n),
            "--duration",
            str(seconds),
            "--warmup",
            "2",
            "--out",
            str(out / "run"),
            "--no-report",
            "--quiet",
        ],
        check=True,
        env=env,
    )
    summary = json.loads((out / "run" / "results.json").read_text())["summary"]
    return float(summary[0]["median_rps"])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a = direct(n, seconds, root / "a.log")
        h = harness(n, seconds, root)
        b = direct(n, seconds, root / "b.log")
    d = statistics.median(a + b)
    runs = sorted(round(v) for v in a + b)
    print(f"direct wrk: median {d:,.0f} req/s over {len(runs)} runs {runs}")
    print(f"covet-bench: median {h:,.0f} req/s over {n} trials")
    print(f"difference: {100 * (h - d) / d:+.1f}%")


if __name__ == "__main__":
    main()
