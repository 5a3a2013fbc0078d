"""A raw RFC 6455 client: exact frames, fragments, close frames with or without a code, and
a TCP drop with no close frame at all, which no high-level client library lets a test send.

    ws, handshake = RawWebSocket.connect("127.0.0.1", 8000, "/ws/echo", subprotocols=["p1"])
    ws.send_text("hi"); ws.recv_message()  # (OP_TEXT, b"hi")
    ws.send_close(4001, "bye"); ws.recv_frame()
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time
from dataclasses import dataclass
from types import TracebackType

from covetbench.net.rawclient import RawExchange, RawResponse, parse_responses

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value a server must answer `key` with."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


@dataclass
class Frame:
    opcode: int
    payload: bytes
    fin: bool = True
    rsv: int = 0
    masked: bool = False

    def close_code(self) -> tuple[int | None, str]:
        """(code, reason) of a close frame; code None when the frame carried none."""
        if len(self.payload) < 2:
            return None, ""
        return struct.unpack("!H", self.payload[:2])[0], self.payload[2:].decode(errors="replace")


class RawWebSocket:
    """A client WebSocket over a plain socket, masking every frame it sends."""

    def __init__(self, sock: socket.socket, response: RawResponse, buffered: bytes) -> None:
        self.sock = sock
        self.response = response
        self._buf = buffered
        self.closed = False

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        path: str,
        *,
        subprotocols: list[str] | None = None,
        headers: list[tuple[str, str]] | None = None,
        key: str | None = None,
        version: str = "13",
        timeout: float = 3.0,
    ) -> tuple[RawWebSocket | None, RawExchange]:
        """Handshake; the socket is returned only on 101. The exchange holds what came back."""
        key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Version: {version}",
        ]
        if key:
            lines.append(f"Sec-WebSocket-Key: {key}")
        if subprotocols:
            lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
        lines += [f"{n}: {v}" for n, v in headers or []]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode()
        result = RawExchange(sent=data)
        started = time.monotonic()
        sock = socket.create_connection((host, port), timeout=timeout)
        buf = b""
        try:
            sock.sendall(data)
            while True:
                finals, _, rest = parse_responses(buf, False)
                if finals and finals[0].status == 101:
                    result.responses = finals[:1]
                    result.received = buf
                    result.elapsed_s = time.monotonic() - started
                    return cls(sock, finals[0], rest), result
                if finals:
                    break
                chunk = sock.recv(65536)
                if not chunk:
                    result.closed = True
                    break
                buf += chunk
            # not upgraded: read the rest of a denial response briefly
            sock.settimeout(0.3)
            try:
                while chunk := sock.recv(65536):
                    buf += chunk
            except (TimeoutError, OSError):
                pass
            else:
                result.closed = True
        except TimeoutError:
            result.error = "timed out waiting for the handshake response"
        except OSError as exc:
            result.error = f"handshake failed: {exc}"
            result.closed = True
        result.received = buf
        result.responses, result.interim, result.leftover = parse_responses(buf, True)
        result.elapsed_s = time.monotonic() - started
        sock.close()
        return None, result

    # sending -----------------------------------------------------------------------------
    def send_frame(
        self, opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, mask: bool = True
    ) -> None:
        head = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
        flag = 0x80 if mask else 0
        size = len(payload)
        if size < 126:
            head.append(flag | size)
        elif size < 65536:
            head.append(flag | 126)
            head += struct.pack("!H", size)
        else:
            head.append(flag | 127)
            head += struct.pack("!Q", size)
        if mask:
            key = os.urandom(4)
            head += key
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(head) + payload)

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode())

    def send_binary(self, data: bytes) -> None:
        self.send_frame(OP_BINARY, data)

    def send_close(self, code: int | None = 1000, reason: str = "") -> None:
        payload = b"" if code is None else struct.pack("!H", code) + reason.encode()
        self.send_frame(OP_CLOSE, payload)

    def drop(self) -> None:
        """End the TCP connection with no close frame."""
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # receiving ---------------------------------------------------------------------------
    def _read(self, size: int, deadline: float) -> bytes | None:
        while len(self._buf) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError:
                self.closed = True
                return None
            if not chunk:
                self.closed = True
                return None
            self._buf += chunk
        data, self._buf = self._buf[:size], self._buf[size:]
        return data

    def recv_frame(self, timeout: float = 3.0) -> Frame | None:
        """The next frame, or None on timeout or when the server closed the socket."""
        deadline = time.monotonic() + timeout
        head = self._read(2, deadline)
        if head is None:
            return None
        size = head[1] & 0x7F
        if size == 126:
            ext = self._read(2, deadline)
            if ext is None:
                return None
            size = struct.unpack("!H", ext)[0]
        elif size == 127:
            ext = self._read(8, deadline)
            if ext is None:
                return None
            size = struct.unpack("!Q", ext)[0]
        masked = bool(head[1] & 0x80)
        key = self._read(4, deadline) if masked else b""
        payload = self._read(size, deadline)
        if payload is None or key is None:
            return None
        if masked:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return Frame(head[0] & 0x0F, payload, bool(head[0] & 0x80), (head[0] >> 4) & 7, masked)

    def recv_message(self, timeout: float = 3.0) -> Frame | None:
        """The next data message (fragments joined) or control frame."""
        first = self.recv_frame(timeout)
        if first is None or first.fin or first.opcode >= OP_CLOSE:
            return first
        parts = [first.payload]
        while True:
            frame = self.recv_frame(timeout)
            if frame is None:
                return None
            if frame.opcode >= OP_CLOSE:
                continue  # control frames may interleave; this client ignores them here
            parts.append(frame.payload)
            if frame.fin:
                return Frame(first.opcode, b"".join(parts))

    def recv_close(self) -> Frame | None:
        """The server's close frame, other frames skipped; None when none came in time."""
        frame = self.recv_frame()
        while frame is not None and frame.opcode != OP_CLOSE:
            frame = self.recv_frame()
        return frame

    def wait_closed(self, timeout: float = 2.0) -> bool:
        """True when the server closes the TCP connection within `timeout` (frames dropped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.recv_frame(max(0.01, deadline - time.monotonic())) is None:
                return self.closed
        return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sock.close()

    def __enter__(self) -> RawWebSocket:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
