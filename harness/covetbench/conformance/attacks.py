"""Hostile clients and what they cost a server, measured from outside its process.

Each attack is a plain function over a socket (no server knowledge); the server's cost is read
from its process tree (`covetbench.processes.ProcessTree`: RSS, CPU seconds), so the robustness
probes, the soak and the fuzzer can reuse both:

    tree = ProcessTree(running.pid)
    with RssSampler(tree) as rss, pipelined_flood("127.0.0.1", port, request, 300):
        rss.settle(3.0)
    rss.growth_mib

    seconds, seen = held_open(sock, window_s=15.0)   # None: still open at the window's end
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType

from covetbench.net.wsclient import OP_PING, OP_TEXT, RawWebSocket
from covetbench.processes import ProcessTree

MIB = 1024 * 1024


@dataclass
class RssSampler:
    """Peak RSS of a tree while a block runs, sampled from a thread every `every_s` seconds;
    `baseline` is taken on entry, so `growth_mib` is what the block cost the server."""

    tree: ProcessTree
    every_s: float = 0.05
    baseline: int = 0
    peak: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def growth_mib(self) -> float:
        return max(0, self.peak - self.baseline) / MIB

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, self.tree.rss_bytes())
            self.samples += 1

    def settle(self, max_s: float, quiet_s: float = 1.0) -> None:
        """Wait until the peak has not risen for `quiet_s` (the server stopped buffering), at
        most `max_s` seconds."""
        deadline = time.monotonic() + max_s
        last, since = self.peak, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(self.every_s)
            if self.peak > last:
                last, since = self.peak, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return

    def __enter__(self) -> RssSampler:
        self.baseline = self.peak = self.tree.rss_bytes()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        self.peak = max(self.peak, self.tree.rss_bytes())


def _send_for(sock: socket.socket, data: bytes, max_s: float, stall_s: float = 1.0) -> int:
    """Send as much of `data` as the server takes within `max_s`; stop early once it has taken
    nothing for `stall_s` (it applies back-pressure). Returns the bytes sent."""
    sent = 0
    deadline = time.monotonic() + max_s
    view = memoryview(data)
    while sent < len(data) and time.monotonic() < deadline:
        sock.settimeout(min(stall_s, max(0.01, deadline - time.monotonic())))
        try:
            sent += sock.send(view[sent : sent + 65536])
        except TimeoutError:
            break
        except OSError:
            break  # the server closed or reset: what it took is the figure
    return sent


@contextmanager
def pipelined_flood(
    host: str, port: int, request: bytes, count: int, max_s: float = 5.0
) -> Iterator[int]:
    """One connection sends `count` copies of `request` back to back and reads nothing; yields
    the bytes sent and keeps the connection open until the block ends."""
    with socket.create_connection((host, port), timeout=3.0) as sock:
        yield _send_for(sock, request * count, max_s)


def ping_frames(total_bytes: int, payload: int = 125) -> bytes:
    """Masked ping frames adding up to about `total_bytes` (one frame repeated: cheap to build)."""
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(b"p" * payload))
    frame = bytes([0x80 | OP_PING, 0x80 | payload]) + key + body
    return frame * max(1, total_bytes // len(frame))


def text_frames(total_bytes: int, payload: int = 16384) -> bytes:
    """Masked text frames adding up to about `total_bytes`."""
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(b"d" * payload))
    frame = bytes([0x80 | OP_TEXT, 0x80 | 126]) + struct.pack("!H", payload) + key + body
    return frame * max(1, total_bytes // len(frame))


@contextmanager
def ping_flood(
    host: str, port: int, path: str, total_bytes: int, max_s: float = 8.0
) -> Iterator[int]:
    """Open a WebSocket on `path` and send `total_bytes` of pings without reading a pong;
    yields the bytes the server took (0 when the handshake failed), connection kept open."""
    ws, _ = RawWebSocket.connect(host, port, path)
    if ws is None:
        yield 0
        return
    with ws:
        yield _send_for(ws.sock, ping_frames(total_bytes), max_s)


def send_all_within(sock: socket.socket, data: bytes, max_s: float) -> int:
    """`data` sent within `max_s` seconds (what the server took if it stopped reading)."""
    return _send_for(sock, data, max_s)


def held_open(
    sock: socket.socket,
    window_s: float,
    trickle: bytes = b"",
    trickle_every_s: float = 1.0,
    started: float | None = None,
) -> tuple[float | None, bytes]:
    """Seconds (from `started`) until the server closes `sock`, sending one byte of `trickle`
    every `trickle_every_s` meanwhile; None when it is still open after `window_s`. Also
    returns what the server sent."""
    started = time.monotonic() if started is None else started
    received = b""
    sent = 0
    next_byte = time.monotonic() + trickle_every_s
    while (now := time.monotonic()) - started < window_s:
        wake = started + window_s
        if trickle:
            wake = min(wake, next_byte)
        sock.settimeout(max(0.01, wake - now))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            chunk = None
        except OSError:
            return time.monotonic() - started, received
        if chunk == b"":
            return time.monotonic() - started, received
        if chunk:
            received += chunk[: max(0, 4096 - len(received))]
        if trickle and time.monotonic() >= next_byte:
            piece = trickle[sent % len(trickle) : sent % len(trickle) + 1]
            try:
                sock.sendall(piece)
            except OSError:
                return time.monotonic() - started, received
            sent += 1
            next_byte += trickle_every_s
    return None, received
