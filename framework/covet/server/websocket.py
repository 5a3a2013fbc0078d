"""WebSocket connections (RFC 6455) for ASGI apps, after the HTTP protocol hands over.

`HTTPProtocol` parses the upgrade request, then swaps in a `WebSocketProtocol` on the same
transport. The app's first `receive()` is `websocket.connect`; the handshake completes when it
sends `websocket.accept` (101, chosen subprotocol and extra headers), `websocket.close` (403) or
a denial response (`websocket.http.response.start/body`). Frames are parsed by `FrameReader`
(`wsframes.py`); pings are answered here, fragmented messages reassembled, text validated as
UTF-8 across fragments, and every protocol violation closes with the RFC status code.

What a client can make the server hold stays bounded: reading pauses while the app lags behind
(inbox above 1 MiB), while the client does not read what the server writes (pongs included;
while writing is paused only the latest ping is answered, as RFC 6455 5.5.3 allows), and before
`accept()` once 64 KiB are buffered. Every phase has a deadline on the server's 1 s ticker: the
app must accept or close within `timeout_ws_handshake` (503 otherwise), an open connection
idle for `ws_ping_interval` is pinged and closed with 1011 when nothing, pong included, arrives
within `ws_ping_timeout`, and a closing handshake gets 5 s.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import re
from collections import deque
from typing import Any

from covet.server.cycle import STATUS_LINES, error_response, status_line
from covet.server.exceptions import ConnectionClosedError
from covet.server.flow_control import FlowControl
from covet.server.state import Connection, ServerState
from covet.server.types import Message, Scope
from covet.server.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameReader,
    ProtocolError,
    build_close,
    build_frame,
)

logger = logging.getLogger("covet.server")

ASGI_WS = {"version": "3.0", "spec_version": "2.4"}
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CLOSE_TIMEOUT_S = 5.0
_TICK_SLACK_S = 0.1
_HIGH_WATER = 1024 * 1024
_PENDING_LIMIT = 64 * 1024  # bytes read before accept(); then reading pauses until the app decides
_KEEPALIVE_PAYLOAD = b"covet"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_CONNECTING, _OPEN, _CLOSING, _CLOSED = range(4)


def accept_key(key: bytes) -> bytes:
    """The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def _websocket_scope(http: Scope) -> tuple[Scope, bytes | None]:
    headers = http["headers"]
    key = None
    version = b""
    protocols: list[str] = []
    for name, value in headers:
        if name == b"sec-websocket-key":
            key = value.strip()
        elif name == b"sec-websocket-version":
            version = value.strip()
        elif name == b"sec-websocket-protocol":
            protocols += [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
    try:
        valid = key is not None and len(base64.b64decode(key, validate=True)) == 16
    except binascii.Error:
        valid = False
    scope: Scope = {
        "type": "websocket",
        "asgi": ASGI_WS,
        "http_version": http["http_version"],
        "scheme": "wss" if http["scheme"] == "https" else "ws",
        "server": http["server"],
        "client": http["client"],
        "root_path": http["root_path"],
        "path": http["path"],
        "raw_path": http["raw_path"],
        "query_string": http["query_string"],
        "headers": headers,
        "subprotocols": protocols,
        "state": http["state"],
        "extensions": {"websocket.http.response": {}},
    }
    ok = valid and version == b"13" and http["method"] == "GET" and http["http_version"] == "1.1"
    return scope, key if ok else None


class WebSocketProtocol(asyncio.Protocol, Connection):
    """One upgraded connection speaking WebSocket to an ASGI app."""

    def __init__(
        self,
        state: ServerState,
        transport: asyncio.Transport,
        http_scope: Scope,
        client: tuple[str, int] | None,
        server: tuple[str, int] | None,
    ) -> None:
        self.state = state
        self.transport = transport
        self.flow = FlowControl(transport)
        self.scope, self._key = _websocket_scope(http_scope)
        self.reader = FrameReader(state.config.ws_max_size)
        config = state.config
        self._ping_interval = config.ws_ping_interval or 0.0
        self._ping_timeout = config.ws_ping_timeout or 0.0
        self.deadline = state.now + config.timeout_ws_handshake
        self._ping_sent = False  # a keepalive ping awaits any sign of life from the client
        self._pong: bytes | None = None  # latest ping payload, answered once writing resumes
        self._inbox_full = False
        self._phase = _CONNECTING
        self._connect_sent = False
        self._inbox: deque[Message] = deque()
        self._inbox_bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        self._pending = bytearray()
        self._close_code = 1006
        self._close_reason = ""
        self._close_sent = False
        self._denial: list[bytes] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, tail: bytes) -> None:
        """Begin: answer a broken handshake at once, else run the app."""
        self.state.connections.add(self)
        if self._key is None:
            headers = self.state.default_headers + b"sec-websocket-version: 13\r\n"
            self.transport.write(error_response(400, headers))
            self._close_transport()
            return
        self._pending += tail
        self._update_reading()
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        self.state.tasks.add(self._task)
        self._task.add_done_callback(self.state.tasks.discard)

    async def _run(self) -> None:
        failed = False
        try:
            await self.state.app(self.scope, self.receive, self.send)
        except ConnectionClosedError:
            pass
        except Exception:
            failed = True
            logger.exception("Exception in ASGI application")
        finally:
            if self._phase == _CONNECTING:
                self._reject(500)
            elif self._phase == _OPEN:
                self._start_close(1011 if failed else 1000, "")

    # asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        phase = self._phase
        if phase == _OPEN:
            if self._ping_interval:
                self.deadline = self.state.now + self._ping_interval
                self._ping_sent = False
        elif phase == _CONNECTING:
            self._pending += data
            if len(self._pending) > _PENDING_LIMIT:
                self.flow.pause_reading()
            return
        elif phase == _CLOSED:
            return
        try:
            for opcode, payload in self.reader.feed(data):
                self._on_frame(opcode, payload)
                if self._phase == _CLOSED:
                    return
        except ProtocolError as exc:
            self._fail(exc.code, exc.reason)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        self._phase = _CLOSED
        self.deadline = 0.0
        self._wake()
        self.flow.resume_writing()

    def pause_writing(self) -> None:
        # A client that does not read what we write (pongs included) is not read from either.
        self.flow.pause_writing()
        self.flow.pause_reading()

    def resume_writing(self) -> None:
        self.flow.resume_writing()
        pong, self._pong = self._pong, None
        if pong is not None and self._phase == _OPEN:
            self.transport.write(build_frame(OP_PONG, pong))
        self._update_reading()

    def _update_reading(self) -> None:
        """Read unless the app, the client's reading or a pending handshake holds us back."""
        flow = self.flow
        if flow.write_paused or self._inbox_full or len(self._pending) > _PENDING_LIMIT:
            flow.pause_reading()
        else:
            flow.resume_reading()

    # Connection (ticker, shutdown)

    def on_timeout(self) -> None:
        phase = self._phase
        if phase == _CONNECTING:
            logger.warning("websocket handshake timed out: the app did not accept or close")
            self.state.counters.timeout("ws_handshake")
            self._reject(503)
        elif phase == _OPEN:
            self._keepalive()
        elif self.transport.is_closing():
            self.abort()  # our close could not be flushed: the client stopped reading
        else:
            self._phase = _CLOSED  # the client never answered our close frame
            self.transport.close()
            self.deadline = self.state.now + _CLOSE_TIMEOUT_S
            self._wake()

    def _keepalive(self) -> None:
        """Ping a connection idle for `ws_ping_interval`; fail it if the ping goes unanswered."""
        now = self.state.now
        if self._inbox_full:
            # Reading is paused because the app lags, so silence proves nothing about the client.
            self.deadline = now + self._ping_interval
        elif not self._ping_sent:
            self.transport.write(build_frame(OP_PING, _KEEPALIVE_PAYLOAD))
            if self._ping_timeout:
                self._ping_sent = True
                # The ticker expires deadlines strictly before its clock: without the slack, one
                # tick of jitter would add a whole second to the timeout.
                self.deadline = now + self._ping_timeout - _TICK_SLACK_S
            else:
                self.deadline = now + self._ping_interval
        else:
            self.state.counters.timeout("ws_ping")
            self._fail(1011, "keepalive ping timeout")
            if self.flow.write_paused:
                self.abort()  # the close frame cannot reach a client that stopped reading

    def shutdown(self) -> None:
        if self._phase == _OPEN:
            self._start_close(1001, "server shutting down")
        elif self._phase == _CONNECTING:
            self._reject(503)

    def abort(self) -> None:
        self._phase = _CLOSED
        self.deadline = 0.0
        self.transport.abort()
        self._wake()

    # frames from the client

    def _on_frame(self, opcode: int, payload: bytes | str) -> None:
        if opcode == OP_TEXT:
            self._deliver({"type": "websocket.receive", "text": payload}, len(payload))
        elif opcode == OP_BINARY:
            self._deliver({"type": "websocket.receive", "bytes": payload}, len(payload))
        elif opcode == OP_PING:
            if self._phase == _OPEN:
                assert isinstance(payload, bytes)
                if self.flow.write_paused:
                    self._pong = payload  # RFC 6455 5.5.3: answering only the latest is allowed
                else:
                    self.transport.write(build_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            assert isinstance(payload, bytes)
            code, reason = self.reader.parse_close(payload)
            self._close_code, self._close_reason = code, reason
            if not self._close_sent:
                self._close_sent = True
                self.transport.write(build_close(1000 if code == 1005 else code, ""))
            self._close_transport()

    def _deliver(self, message: Message, size: int) -> None:
        if self._phase != _OPEN:
            return  # data after our close frame is discarded (RFC 6455 5.5.1)
        self._inbox.append(message)
        self._inbox_bytes += size
        if self._inbox_bytes > _HIGH_WATER:
            self._inbox_full = True
            self.flow.pause_reading()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, code: int, reason: str) -> None:
        if self._phase == _CLOSED:
            return
        if not self._close_sent:
            self._close_sent = True
            self.transport.write(build_close(code, reason))
        self._close_code, self._close_reason = code, reason
        self._close_transport()

    def _start_close(self, code: int, reason: str) -> None:
        if not self._close_sent and not self.transport.is_closing():
            self._close_sent = True
            self.transport.write(build_close(code, reason))
        self._phase = _CLOSING
        self.deadline = self.state.now + _CLOSE_TIMEOUT_S

    def _reject(self, status: int) -> None:
        self._pending.clear()
        if not self.transport.is_closing():
            self.transport.write(error_response(status, self.state.default_headers))
        self._close_transport()

    def _close_transport(self) -> None:
        """Close after flushing; abort at the deadline if the client never takes the bytes."""
        self._phase = _CLOSED
        if not self.transport.is_closing():
            self.transport.close()
        self.deadline = self.state.now + _CLOSE_TIMEOUT_S
        self._wake()

    # ASGI

    async def receive(self) -> Message:
        if not self._connect_sent:
            self._connect_sent = True
            return {"type": "websocket.connect"}
        while True:
            if self._inbox:
                message = self._inbox.popleft()
                self._inbox_bytes -= len(message.get("text") or message.get("bytes") or b"")
                if self._inbox_full and self._inbox_bytes < _HIGH_WATER // 2:
                    self._inbox_full = False
                    self._update_reading()
                return message
            if self._phase == _CLOSED:
                return {
                    "type": "websocket.disconnect",
                    "code": self._close_code,
                    "reason": self._close_reason,
                }
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter

    async def send(self, message: Message) -> None:
        mtype = message["type"]
        phase = self._phase
        if phase == _CONNECTING:
            if mtype == "websocket.accept":
                self._accept(message)
            elif mtype == "websocket.close":
                self._reject(403)
            elif mtype == "websocket.http.response.start" and self._denial is None:
                self._start_denial(message)
            elif mtype == "websocket.http.response.body" and self._denial is not None:
                self._denial.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.transport.write(b"".join(self._denial))
                    self._close_transport()
            else:
                raise RuntimeError(f"unexpected ASGI message {mtype!r} before websocket.accept")
            return
        if phase != _OPEN:
            raise ConnectionClosedError("websocket closed")
        if mtype == "websocket.send":
            data = message.get("bytes")
            if data is not None:
                self.transport.write(build_frame(OP_BINARY, data))
            else:
                text = message.get("text")
                if text is None:
                    raise RuntimeError("websocket.send needs 'bytes' or 'text'")
                self.transport.write(build_frame(OP_TEXT, text.encode("utf-8")))
            if self.flow.write_paused:
                await self.flow.drain()
        elif mtype == "websocket.close":
            self._start_close(int(message.get("code") or 1000), message.get("reason") or "")
        else:
            raise RuntimeError(f"unexpected ASGI message {mtype!r} after websocket.accept")

    def _accept(self, message: Message) -> None:
        assert self._key is not None
        parts = [
            STATUS_LINES[101],
            b"upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ",
            accept_key(self._key),
            b"\r\n",
        ]
        subprotocol = message.get("subprotocol")
        if subprotocol is not None:
            parts += (b"sec-websocket-protocol: ", self._offered(subprotocol), b"\r\n")
        parts += _header_lines(message.get("headers") or ())
        parts += (self.state.default_headers, b"\r\n")
        self.transport.write(b"".join(parts))
        self._phase = _OPEN
        self.deadline = self.state.now + self._ping_interval if self._ping_interval else 0.0
        data = bytes(self._pending)
        self._pending.clear()
        self._update_reading()
        if data:
            self.data_received(data)

    def _offered(self, subprotocol: Any) -> bytes:
        """The app's chosen subprotocol as header bytes; it must be a token the client offered."""
        if not isinstance(subprotocol, str) or not _TOKEN.fullmatch(subprotocol):
            raise RuntimeError(f"websocket.accept subprotocol {subprotocol!r} is not a token")
        if subprotocol not in self.scope["subprotocols"]:
            raise RuntimeError(f"websocket.accept subprotocol {subprotocol!r} was not offered")
        return subprotocol.encode("ascii")

    def _start_denial(self, message: Message) -> None:
        headers: list[bytes] = [status_line(message["status"]), self.state.default_headers]
        headers += _header_lines(message.get("headers") or (), skip=(b"connection",))
        headers.append(b"connection: close\r\n\r\n")
        self._denial = [b"".join(headers)]


def _header_lines(headers: Any, skip: tuple[bytes, ...] = ()) -> list[bytes]:
    lines: list[bytes] = []
    for name, value in headers:
        if name.lower() in skip:
            continue
        line = b"%s: %s\r\n" % (name, value)
        if line.count(b"\n") != 1 or line.count(b"\r") != 1:
            raise RuntimeError("invalid header: CR or LF in a name or value")
        lines.append(line)
    return lines
