"""covet's server vs uvicorn on raw ASGI plaintext, interleaved A B A B A B (not a test).

    python benchmarks/compare_servers.py --servers covet uvicorn --rounds 3
    python benchmarks/compare_servers.py --servers covet-python uvicorn-h11 --pipeline 16

Each server runs pinned to core 0 (`taskset -c 0`), wrk pinned to core 1 (`wrk -t1 -c64`),
2 s warm-up then `--duration` s measured. The script holds /tmp/covet-bench.lock for the whole
session so no other benchmark overlaps. Besides requests/s it reports the server's CPU time per
request (from /proc), which is less sensitive to other load on the machine.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APPS = REPO / "scenarios" / "apps"
PY = sys.executable
BIN = Path(PY).parent

SERVERS: dict[str, list[str]] = {
    "covet": [PY, "-m", "covet", "serve", "raw:app", "--no-access-log"],
    "covet-python": [PY, "-m", "covet", "serve", "raw:app", "--no-access-log", "--http", "python"],
    "uvicorn": [str(BIN / "uvicorn"), "raw:app", "--http", "httptools", "--loop", "uvloop"]
    + ["--no-access-log", "--log-level", "warning"],
    "uvicorn-h11": [str(BIN / "uvicorn"), "raw:app", "--http", "h11", "--loop", "uvloop"]
    + ["--no-access-log", "--log-level", "warning"],
}
PIPELINE_LUA = """
init = function(args)
  local r = {}
  for i = 1, %d do r[i] = wrk.format(nil, "/plaintext") end
  req = table.concat(r)
end
request = function() return req end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, duration: float, script: str | None) -> float:
    return wrk_counts(port, duration, script)[0]


def wrk_counts(port: int, duration: float, script: str | None) -> tuple[float, int]:
    """(requests/s, requests completed) of one wrk run."""
    cmd = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{duration:g}s"]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{port}/plaintext")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    return (float(rate.group(1)) if rate else 0.0), (int(count.group(1)) if count else 0)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_check(name: str) -> None:
    """RSS after ~100k and after ~1M requests on one server process."""
    port = free_port()
    cmd = ["taskset", "-c", "0", *SERVERS[name], "--port", str(port)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "framework"), str(APPS)]))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port)
        done = 0
        marks: dict[int, float] = {}
        for target in (100_000, 1_000_000):
            while done < target:
                rate, count = wrk_counts(port, 2, None)
                done += count
            marks[done] = rss_mb(proc.pid)
            print(f"{name}: RSS {marks[done]:.1f} MB after {done} requests", flush=True)
        first, last = marks.values()
        print(f"{name}: RSS growth {last - first:+.1f} MB", flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


def trial(name: str, duration: float, script: str | None) -> tuple[float, float]:
    port = free_port()
    cmd = ["taskset", "-c", "0", *SERVERS[name], "--port", str(port)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "framework"), str(APPS)]))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port)
        wrk(port, 2, script)
        cpu0 = cpu_seconds(proc.pid)
        rps = wrk(port, duration, script)
        cpu = cpu_seconds(proc.pid) - cpu0
        return rps, cpu / (rps * duration) * 1e6 if rps else 0.0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", nargs="+", default=["covet", "uvicorn"], choices=SERVERS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--pipeline", type=int, default=1)
    parser.add_argument("--rss", action="store_true", help="RSS after 100k and 1M requests")
    args = parser.parse_args()
    script = None
    if args.pipeline > 1:
        fd, script = tempfile.mkstemp(suffix=".lua")
        os.write(fd, (PIPELINE_LUA % args.pipeline).encode())
        os.close(fd)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in args.servers}
    with open("/tmp/covet-bench.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if args.rss:
            for name in args.servers:
                rss_check(name)
            return 0
        for rnd in range(args.rounds):
            for name in args.servers:
                rps, us = trial(name, args.duration, script)
                results[name].append((rps, us))
                print(
                    f"round {rnd + 1} {name:13s} {rps:9.0f} req/s  {us:5.1f} us CPU/req", flush=True
                )
    print("median:")
    for name, rows in results.items():
        rps = statistics.median(r for r, _ in rows)
        us = statistics.median(u for _, u in rows)
        print(f"  {name:13s} {rps:9.0f} req/s  {us:5.1f} us CPU/req")
    return 0


if __name__ == "__main__":
    sys.exit(main())
