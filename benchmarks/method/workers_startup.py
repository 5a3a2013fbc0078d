"""Does a client see a reset or a refusal once `covet serve --workers 2` has accepted it?

Launches covet with two workers on a free port, connects in a tight loop from the moment it
starts, and counts the launches where a connection was accepted and a later one was reset or
refused. Each launch is bounded (20 s) and its process group reaped.

    .venv/bin/python benchmarks/method/workers_startup.py [LAUNCHES]

Until 3e288ec the supervisor bound and listened on the port itself before forking, then
closed that socket: 19 of 20 launches saw a connection accepted and then reset. It now holds
the port bound but never listening; 0 of 100 launches since.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from covetbench.servers.base import free_port

REPO = Path(__file__).resolve().parents[2]
LAUNCH_S = 20.0
SERVING_S = 1.0  # after the first accepted connection, keep connecting this long


def launch_sees_a_failure(port: int) -> bool:
    """Whether a connection failed (reset, refused) after one had been accepted."""
    command = [sys.executable, "-m", "covet", "serve", "tests.covet.server.apps:raw_app"]
    command += ["--port", str(port), "--no-access-log", "--workers", "2"]
    pythonpath = os.pathsep.join([str(REPO), str(REPO / "framework")])
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=pythonpath),
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        first_accept: float | None = None
        deadline = time.monotonic() + LAUNCH_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=3).close()
            except ConnectionRefusedError:
                if first_accept is not None:
                    return True
                continue
            except (ConnectionResetError, TimeoutError):
                return True
            if first_accept is None:
                first_accept = time.monotonic()
            elif time.monotonic() - first_accept > SERVING_S:
                return False
        raise SystemExit(f"covet did not serve on port {port} within {LAUNCH_S:.0f} s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    launches = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    failed = sum(launch_sees_a_failure(free_port()) for _ in range(launches))
    print(f"{failed} of {launches} launches: a connection reset or refused after one accepted")


if __name__ == "__main__":
    main()
