"""A raw-socket HTTP/1.x client for framing checks.

httpx and h11 normalise what they send, so they cannot send a request with both Content-Length
and Transfer-Encoding, an obs-fold or a bare CR. This client sends exact bytes, reads whatever
comes back within a timeout, splits it into responses (1xx interim ones apart) and tells whether
the server closed the connection.

    ex = exchange("127.0.0.1", 8000, b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    ex.responses[0].status, ex.closed
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from covetbench.conformance.model import escape

#: How long to keep reading after the expected responses arrived, to see a close or a surplus one.
GRACE_S = 0.3
TIMEOUT_S = 3.0


@dataclass
class RawResponse:
    """One parsed HTTP/1.x response; header names as the server wrote them."""

    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunked: bool = False
    trailers: list[tuple[str, str]] = field(default_factory=list)
    #: False when the connection ended before the body did
    complete: bool = True

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def summary(self) -> str:
        heads = ", ".join(f"{k}: {v}" for k, v in self.headers[:8])
        text = f"{self.version} {self.status} {self.reason} [{heads}]"
        if self.body:
            text += f" body={escape(self.body, 80)}"
        if not self.complete:
            text += " (incomplete)"
        return text


@dataclass
class RawExchange:
    """What came back for the bytes sent: final responses, interim (1xx) ones, the close."""

    sent: bytes
    received: bytes = b""
    responses: list[RawResponse] = field(default_factory=list)
    interim: list[RawResponse] = field(default_factory=list)
    closed: bool = False
    reset: bool = False
    elapsed_s: float = 0.0
    error: str = ""
    #: bytes after the last parsed response that did not form a response
    leftover: bytes = b""

    def summary(self) -> str:
        parts = [f"sent {escape(self.sent, 160)}"]
        for response in self.interim:
            parts.append(f"interim {response.status}")
        if not self.responses:
            parts.append(f"no response (received {escape(self.received, 80)})")
        for i, response in enumerate(self.responses):
            parts.append(f"response {i + 1}: {response.summary()}")
        if self.leftover:
            parts.append(f"unparsed {escape(self.leftover, 60)}")
        state = "reset" if self.reset else "closed" if self.closed else "left open"
        parts.append(f"connection {state} after {self.elapsed_s:.2f}s")
        if self.error:
            parts.append(self.error)
        return "; ".join(parts)


def _parse_head(head: bytes) -> tuple[str, int, str, list[tuple[str, str]]] | None:
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    parts = lines[0].decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name, value.strip()))
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def _parse_chunked(buf: bytes, start: int) -> tuple[bytes, list[tuple[str, str]], int] | None:
    """Decode a chunked body at `start`; (body, trailers, end offset) or None if incomplete."""
    pos = start
    body = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = buf[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            size = -1
        if size < 0:
            raise ValueError(f"bad chunk size {escape(buf[pos:eol], 40)}")
        pos = eol + 2
        if size == 0:
            trailers: list[tuple[str, str]] = []
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                line = buf[pos:eol]
                pos = eol + 2
                if not line:
                    return bytes(body), trailers, pos
                name, _, value = line.decode("latin-1").partition(":")
                trailers.append((name, value.strip()))
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos : pos + size]
        pos += size + 2


def parse_responses(
    buf: bytes, closed: bool, bodiless: set[int] | None = None
) -> tuple[list[RawResponse], list[RawResponse], bytes]:
    """Split `buf` into (final responses, interim responses, unparsed rest).

    `bodiless` holds the indexes of final responses answering HEAD requests.
    """
    finals: list[RawResponse] = []
    interim: list[RawResponse] = []
    pos = 0
    while pos < len(buf):
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        parsed = _parse_head(buf[pos:end])
        if parsed is None:
            break
        version, status, reason, headers = parsed
        response = RawResponse(version, status, reason, headers)
        body_start = end + 4
        if 100 <= status < 200 and status != 101:
            interim.append(response)
            pos = body_start
            continue
        te = (response.header("transfer-encoding") or "").lower()
        cl = response.header("content-length")
        if status == 101:
            finals.append(response)
            return finals, interim, buf[body_start:]
        if (bodiless and len(finals) in bodiless) or status in (204, 304):
            pos = body_start
        elif "chunked" in te:
            response.chunked = True
            try:
                chunked = _parse_chunked(buf, body_start)
            except ValueError:
                chunked = None
            if chunked is None:
                if closed:
                    response.body, response.complete = buf[body_start:], False
                    finals.append(response)
                    return finals, interim, b""
                break
            response.body, response.trailers, pos = chunked
        elif cl is not None and cl.strip().isdigit():
            size = int(cl.strip())
            if len(buf) < body_start + size:
                if closed:
                    response.body, response.complete = buf[body_start:], False
                    finals.append(response)
                    return finals, interim, b""
                break
            response.body = buf[body_start : body_start + size]
            pos = body_start + size
        else:
            if not closed:
                break
            response.body = buf[body_start:]
            pos = len(buf)
        finals.append(response)
    return finals, interim, buf[pos:]


def exchange(
    host: str,
    port: int,
    data: bytes | list[bytes],
    *,
    want: int = 1,
    timeout: float = TIMEOUT_S,
    grace: float = GRACE_S,
    pause: float = 0.0,
    bodiless: set[int] | None = None,
) -> RawExchange:
    """Send `data` (a list: pieces sent `pause` seconds apart), read until `want` responses
    arrived and `grace` passed, the server closed, or `timeout` elapsed."""
    pieces = [data] if isinstance(data, bytes) else data
    if bodiless is None and pieces and pieces[0].startswith(b"HEAD "):
        bodiless = {0}
    result = RawExchange(sent=b"".join(pieces))
    started = time.monotonic()
    buf = b""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        result.error = f"connect failed: {exc}"
        return result
    with sock:
        try:
            for i, piece in enumerate(pieces):
                if i and pause:
                    time.sleep(pause)
                sock.sendall(piece)
        except OSError as exc:  # the server may refuse early and close: read what it said
            result.error = f"send stopped: {exc.__class__.__name__}"
        deadline = started + timeout
        settle: float | None = None
        while True:
            now = time.monotonic()
            limit = deadline if settle is None else min(deadline, settle)
            if now >= limit:
                break
            sock.settimeout(max(0.01, limit - now))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                result.closed = result.reset = True
                break
            except OSError as exc:
                result.error = f"recv failed: {exc}"
                break
            if not chunk:
                result.closed = True
                break
            buf += chunk
            finals, _, _ = parse_responses(buf, False, bodiless)
            if settle is None and len(finals) >= want:
                settle = time.monotonic() + grace
    result.elapsed_s = time.monotonic() - started
    result.received = buf
    result.responses, result.interim, result.leftover = parse_responses(
        buf, result.closed, bodiless
    )
    return result


def request_bytes(
    method: str,
    target: str,
    host: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    version: str = "HTTP/1.1",
) -> bytes:
    """A well-formed request, Content-Length added when there is a body."""
    lines = [f"{method} {target} {version}", f"Host: {host}"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body and not any(
        n.lower() in ("content-length", "transfer-encoding") for n, _ in headers or []
    ):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
