"""A deliberately weak HTTP/1.1 + WebSocket server for the robustness tests: `python
weak_server.py PORT`. Stdlib only, one asyncio Protocol per connection, every weakness on
purpose:

- no timeout of any kind (stalled bodies, slowloris, unanswered handshakes are held forever);
- frames a body by Content-Length only, except that after `Connection: upgrade` or CONNECT it
  skips the body and parses those bytes as the next request (llhttp's upgrade reading);
- writes every response and pong straight to the transport and never pauses reading, so a
  client that reads nothing makes it buffer everything;
- parses header lines with a lazy regex that is quadratic in runs of spaces and tabs;
- prints an access line with the decoded path, control characters and all.

Routes: /big?size=N, /smuggled/TOKEN (recorded), /results/TOKEN, /ws/* (101 unless the path is
/ws/never-accept, which it never answers); anything else is 200 "ok", or 404 for
/no-such-route, answered as soon as the head is in.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from base64 import b64encode
from hashlib import sha1
from urllib.parse import unquote

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: lazy value, then optional whitespace, then CRLF: backtracks quadratically on a whitespace run
HEADER_RE = re.compile(rb"([^:\r\n]+):[ \t]*(.*?)[ \t]*\r\n")
RESULTS: dict[str, str] = {}


def _response(status: int, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n\r\n".encode()
    return head + body


class WeakProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.websocket = False
        self.need_body = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.transport is not None and not self.transport.is_closing():
            if self.websocket:
                self._frames()
                return
            if not self._request():
                return

    def _write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)  # no flow control: the buffer grows without bound

    def _request(self) -> bool:
        if self.need_body:
            if len(self.buf) < self.need_body:
                return False
            self.buf, self.need_body = self.buf[self.need_body :], 0
            self._write(_response(200, b"ok"))
            return True
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head, self.buf = self.buf[: end + 4], self.buf[end + 4 :]
        line, _, rest = head.partition(b"\r\n")
        parts = line.decode("latin-1").split(" ")
        method, target = (parts + ["", ""])[:2]
        headers = {m[0].strip().lower(): m[1] for m in HEADER_RE.finditer(rest)}
        path = unquote(target.split("?")[0])
        print(f"access: {method} {path} 200", flush=True)
        length = int(headers.get(b"content-length", b"0") or 0)
        upgrade = b"upgrade" in headers.get(b"connection", b"").lower() or method == "CONNECT"
        if path.startswith("/ws/"):
            if path != "/ws/never-accept":
                key = headers.get(b"sec-websocket-key", b"")
                accept = b64encode(sha1(key + GUID).digest())
                self._write(b"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
                self._write(b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
                self.websocket = True
            else:
                self.need_body = 1 << 62  # hold and buffer whatever comes, forever
            return True
        if path.startswith("/smuggled/"):
            RESULTS[path.rsplit("/", 1)[-1]] = path
            self._write(_response(200, b"SMUGGLED-REQUEST-EXECUTED"))
        elif path.startswith("/results/"):
            token = path.rsplit("/", 1)[-1]
            found = {"found": token in RESULTS, "value": RESULTS.pop(token, None)}
            self._write(_response(200, json.dumps(found).encode()))
        elif path == "/big":
            size = int(target.partition("size=")[2] or 102400)
            self._write(_response(200, b"x" * size))
        elif path == "/no-such-route":
            self._write(_response(404, b"not found"))
            self.need_body = length  # answered, but still waits for the whole body
        elif length and not upgrade:
            self.need_body = length
        else:
            self._write(_response(200, b"ok"))
        return True

    def _frames(self) -> None:
        """Answer every complete ping in the buffer with a pong (payload left masked: this
        server never looks at it)."""
        pos, buf = 0, self.buf
        while len(buf) - pos >= 2:
            size, offset = buf[pos + 1] & 0x7F, pos + 2
            if size == 126:
                size, offset = int.from_bytes(buf[pos + 2 : pos + 4], "big"), pos + 4
            elif size == 127:
                size, offset = int.from_bytes(buf[pos + 2 : pos + 10], "big"), pos + 10
            end = offset + (4 if buf[pos + 1] & 0x80 else 0) + size
            if len(buf) < end:
                break
            if buf[pos] & 0x0F == 0x9 and size < 126:
                self._write(bytes([0x8A, size]) + buf[end - size : end])
            pos = end
        self.buf = buf[pos:]


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(WeakProtocol, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
