"""End-to-end limits: what a hostile client costs `covet serve`, over real 127.0.0.1 sockets.

Every held-connection case closes within its timeout + 2 s under
`--timeout-body 2 --timeout-keep-alive 1 --timeout-header 2`, a few held connections no longer
starve `--limit-concurrency`, and a pipelined flood the client never reads leaves the server's
RSS bounded. The server runs the same `covet` the test process imported.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.covet.server.apps import BIG
from tests.covet.server.test_server_socket import recv_until
from tests.covet.server.test_server_socket import serve as serve_app

TIMEOUTS = ("--timeout-body", "2", "--timeout-keep-alive", "1", "--timeout-header", "2")
PARSERS = ["python", "httptools"]
MiB = 1024 * 1024


@contextmanager
def serve(*options: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`covet serve` of the flow app with `options` (test_server_socket's launcher)."""
    with serve_app("flow_app", *options) as served:
        yield served.proc, served.port


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> bytes:
    """Everything the server sends until it closes; fails if it is still open after `seconds`."""
    deadline = time.monotonic() + seconds
    data = b""
    for _ in range(10_000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"connection still open after {seconds} s (got {data[:60]!r})")


HELD = {
    "stalled-head": (b"GET /echo HTTP/1.1\r\nHost: a\r\n", 2),
    "stalled-body": (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789", 2),
    "early-answer": (b"POST /missing HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", 2),
    "idle-keep-alive": (b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 1),
}
EXPECTED = {
    "stalled-head": b"HTTP/1.1 408 ",
    "stalled-body": b"HTTP/1.1 408 ",
    "early-answer": b"HTTP/1.1 404 ",
    "idle-keep-alive": b"HTTP/1.1 200 ",
}


@pytest.mark.parametrize("http", PARSERS)
def test_every_held_connection_closes_within_its_timeout(http: str) -> None:
    with serve("--http", http, *TIMEOUTS) as (_, port):
        socks = {case: connect(port) for case in HELD}
        try:
            for case, (request, _) in HELD.items():
                socks[case].sendall(request)
            for case, (_, timeout) in HELD.items():
                data = closed_within(socks[case], timeout + 2)
                assert data.startswith(EXPECTED[case]), case
        finally:
            for sock in socks.values():
                sock.close()


@pytest.mark.parametrize("http", PARSERS)
def test_held_connections_do_not_starve_limit_concurrency(http: str) -> None:
    probe = b"GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    with serve("--http", http, "--limit-concurrency", "2", *TIMEOUTS) as (_, port):
        held = [connect(port) for _ in range(2)]
        try:
            for sock in held:
                sock.sendall(HELD["early-answer"][0])
                assert recv_until(sock, b"not found").startswith(b"HTTP/1.1 404 ")
            with connect(port) as sock:
                sock.sendall(probe)
                assert closed_within(sock, 10).startswith(b"HTTP/1.1 503 ")
            for sock in held:
                assert closed_within(sock, 2 + 2) == b""
            with connect(port) as sock:
                sock.sendall(probe)
                assert closed_within(sock, 10).startswith(b"HTTP/1.1 200 ")
        finally:
            for sock in held:
                sock.close()


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def settle(pid: int) -> None:
    """Wait (bounded) until the server stops using CPU: it has done all it will do."""
    last, still = cpu_ticks(pid), 0
    for _ in range(100):
        time.sleep(0.2)
        now = cpu_ticks(pid)
        still = still + 1 if now == last else 0
        last = now
        if still >= 3:
            return


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
@pytest.mark.parametrize("http", PARSERS)
def test_pipelined_flood_never_read_keeps_server_memory_bounded(http: str) -> None:
    request = b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n"
    with serve("--http", http) as (proc, port):
        with connect(port) as warm:  # allocate what one big response needs, once
            warm.sendall(request)
            recv_until(warm, b"x" * 1000)
        settle(proc.pid)
        before = rss(proc.pid)
        with connect(port) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
            sock.sendall(request * 300)  # 30 MB of responses asked for, none read
            settle(proc.pid)
            grown = rss(proc.pid) - before
            print(f"server RSS growth: {grown / MiB:.1f} MiB")
            assert grown <= 8 * MiB, f"server grew by {grown / MiB:.1f} MiB"
            data = bytearray()
            sock.settimeout(10)
            for _ in range(100_000):
                if len(data) >= 300 * len(BIG):
                    break
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            assert data.count(b"HTTP/1.1 200 ") == 300
