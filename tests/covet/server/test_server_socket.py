"""End-to-end tests: `python -m covet serve` on a free 127.0.0.1 port, always reaped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return sock


@contextmanager
def serve(app: str, *options: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    port = free_port()
    pythonpath = os.pathsep.join([str(REPO), str(REPO / "framework")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "covet", "serve", f"tests.covet.server.apps:{app}"]
        + ["--port", str(port), "--no-access-log", *options],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=pythonpath, **(env or {})),
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_until(lambda: proc.poll() is not None or accepts(port))
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        yield Served(proc, port)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stderr:
            proc.stderr.close()


def recv_until(sock: socket.socket, marker: bytes, count: int = 1) -> bytes:
    data = b""
    while data.count(marker) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_to_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("http", ["python", "httptools"])
def test_keep_alive_and_pipelining(http: str) -> None:
    with serve("raw_app", "--http", http) as srv, srv.connect() as sock:
        for _ in range(3):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert recv_until(sock, b"Hello, World!").startswith(b"HTTP/1.1 200 ")
        sock.sendall(
            b"GET /state HTTP/1.1\r\nHost: a\r\n\r\n" * 2 + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        data = b""
        while not data.endswith(b"Hello, World!"):
            data += recv_until(sock, b"Hello, World!")
        assert data.count(b"\r\n\r\nyes") == 2 and data.endswith(b"Hello, World!")


def test_slowloris_is_cut_off() -> None:
    with serve("raw_app", "--timeout-header", "1") as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        for _ in range(3):
            try:
                sock.sendall(b"X-a: b\r\n")
            except OSError:
                break
            time.sleep(0.3)
        data = read_to_eof(sock)  # the server closes: recv() returns EOF
        assert data.startswith(b"HTTP/1.1 408 ")


def test_keep_alive_timeout_closes_idle_connection() -> None:
    with serve("raw_app", "--timeout-keep-alive", "1") as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert recv_until(sock, b"Hello, World!").endswith(b"Hello, World!")
        assert read_to_eof(sock) == b""


def test_graceful_shutdown_finishes_in_flight_and_runs_lifespan(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    with serve("raw_app", env={"COVET_TEST_MARKER": str(marker)}) as srv, srv.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_until(lambda: marker.exists() and "slow-start" in marker.read_text())
        srv.proc.send_signal(signal.SIGTERM)
        data = read_to_eof(sock)
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"Hello, World!")
        assert b"connection: close" in data
        assert srv.proc.wait(timeout=20) == 0
        wait_until(lambda: not accepts(srv.port), timeout=5)
    assert marker.read_text().splitlines()[-1].startswith("shutdown")


def test_workers_share_the_port_and_are_restarted(tmp_path: Path) -> None:
    def pids(tolerate_resets: bool = False) -> set[int]:
        seen = set()
        for _ in range(40):
            try:
                seen.add(int(httpx.get(srv.url + "/pid", timeout=10).text))
            except httpx.TransportError:
                if not tolerate_resets:
                    raise
        return seen

    with serve("raw_app", "--workers", "2") as srv:
        # From the first accepted connection on, none is refused or reset: the supervisor's
        # own socket never listens (it once did, for a moment, and reset what it queued).
        wait_until(lambda: len(pids()) == 2)  # the second worker may bind a little later
        first = pids()
        victim = first.pop()
        os.kill(victim, signal.SIGKILL)
        # The kernel resets what was queued on the killed worker's socket: not covet's to fix.
        wait_until(lambda: len(pids(tolerate_resets=True) - {victim}) == 2)
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=30) == 0


def test_starlette_and_fastapi() -> None:
    import websockets.sync.client

    with serve("starlette_app") as srv:
        with httpx.Client(base_url=srv.url) as client:
            assert client.get("/").text == "hello starlette"
            r = client.post("/echo", content=b"payload")
            assert r.json() == {"got": "payload", "path": "/echo"}
            r = client.get("/stream")
            assert r.text == "part0;part1;part2;" and r.headers["transfer-encoding"] == "chunked"
        with websockets.sync.client.connect(f"ws://127.0.0.1:{srv.port}/ws") as ws:
            ws.send("shout")
            assert ws.recv() == "SHOUT"
    with serve("fastapi_app") as srv:
        r = httpx.get(srv.url + "/items/42?q=x")
        assert json.loads(r.text) == {"item_id": 42, "q": "x"}


def test_bad_app_string_exits_with_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "covet", "serve", "tests.covet.server.apps:nope", "--port", "0"],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "framework")])),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1 and b"not found" in proc.stderr
