"""The HTTP/1.1 connection: one `asyncio.Protocol` per client connection.

It feeds received bytes to the configured parser, turns each request head into an ASGI scope
and a `RequestCycle`, runs cycles one at a time in arrival order (pipelining), answers framing
errors with 4xx/5xx and closes, hands WebSocket upgrades to `WebSocketProtocol`, and tracks the
header and keep-alive deadlines that the server's once-a-second ticker enforces.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any
from urllib.parse import unquote

from covet.server.cycle import RequestCycle, error_response
from covet.server.exceptions import HTTPParseError, UpgradeRequested
from covet.server.flow_control import HIGH_WATER_BODY, FlowControl
from covet.server.parsers.base import Headers, RequestInfo
from covet.server.state import Connection, ServerState
from covet.server.types import Receive, Scope, Send

logger = logging.getLogger("covet.server")

ASGI_HTTP = {"version": "3.0", "spec_version": "2.4"}
_METHODS = {m.encode(): m for m in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")}


def _address(info: Any) -> tuple[str, int] | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return (str(info[0]), int(info[1]))
    return None


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """Split a request target into (raw_path, query_string); reject unusable forms."""
    if target[:1] != b"/":
        if target == b"*":
            return b"*", b""
        scheme, sep, rest = target.partition(b"://")
        if not sep or scheme.lower() not in (b"http", b"https"):
            raise HTTPParseError(400, "invalid request target")
        slash = rest.find(b"/")
        target = rest[slash:] if slash >= 0 else b"/"
        if target[:1] != b"/":
            target = b"/"
    raw_path, _, query = target.partition(b"?")
    return raw_path, query


async def _service_unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    body = b"Service Unavailable"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HTTPProtocol(asyncio.Protocol, Connection):
    """One client connection speaking HTTP/1.1 (and HTTP/1.0)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.loop = asyncio.get_running_loop()
        access = logging.getLogger("covet.access")
        self.access_log = state.config.access_log and access.isEnabledFor(logging.INFO)
        self.parser = state.parser_class(self, state.limits)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.flow: FlowControl = None  # type: ignore[assignment]
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self.deadline = 0.0
        self._idle = False
        self._cycle: RequestCycle | None = None
        self._parsing: RequestCycle | None = None
        self._pipeline: deque[RequestCycle] = deque()
        self._pending_error: HTTPParseError | None = None
        self._upgrade: tuple[Scope, bytes] | None = None
        self._ws_scope: Scope | None = None
        self._closed = False
        self._wbuf: list[bytes] = []
        self._root_path = state.config.root_path
        self._limit = state.config.limit_concurrency

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.flow = FlowControl(self.transport)
        self.client = _address(transport.get_extra_info("peername"))
        self.server = _address(transport.get_extra_info("sockname"))
        self.state.connections.add(self)
        self.deadline = self.state.now + self.state.config.timeout_header

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.state.connections.discard(self)
        cycle = self._cycle
        if cycle is not None:
            cycle.on_disconnect()
        for pending in self._pipeline:
            pending.on_disconnect()
        self._pipeline.clear()
        self.flow.resume_writing()

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def data_received(self, data: bytes) -> None:
        if self._idle:
            self._idle = False
            self.deadline = self.state.now + self.state.config.timeout_header
        if self._upgrade is not None:
            scope, tail = self._upgrade
            self._upgrade = (scope, tail + data)
            return
        try:
            self.parser.feed(data)
        except HTTPParseError as exc:
            self._on_parse_error(exc)
        except UpgradeRequested as exc:
            self._on_upgrade(exc.tail)

    # parser callbacks

    def on_request(
        self, method: bytes, target: bytes, http_version: str, headers: Headers, info: RequestInfo
    ) -> None:
        self.deadline = 0.0
        if target[0] == 47 and b"?" not in target:  # "/...": the common case
            raw_path, query = target, b""
        else:
            raw_path, query = split_target(target)
        path = unquote(raw_path.decode("ascii")) if b"%" in raw_path else raw_path.decode("ascii")
        state = self.state
        root_path = self._root_path
        scope: Scope = {
            "type": "http",
            "asgi": ASGI_HTTP,
            "http_version": http_version,
            "server": self.server,
            "client": self.client,
            "scheme": "http",
            "method": _METHODS.get(method) or method.decode("ascii"),
            "root_path": root_path,
            "path": root_path + path if root_path else path,
            "raw_path": raw_path,
            "query_string": query,
            "headers": headers,
            "state": state.lifespan_state.copy(),
        }
        if info.websocket:
            self._ws_scope = scope
            return
        cycle = RequestCycle(self, scope, info, method == b"HEAD")
        self._parsing = cycle
        if self._cycle is None:
            self._run(cycle)
        else:
            self._pipeline.append(cycle)
            if len(self._pipeline) >= state.config.max_pipeline:
                self.flow.pause_reading()

    def on_body(self, data: bytes) -> None:
        cycle = self._parsing
        if cycle is not None:
            cycle.on_body(data)
            if len(cycle.body) > HIGH_WATER_BODY:
                self.flow.pause_reading()

    def on_message_complete(self) -> None:
        cycle = self._parsing
        if cycle is not None:
            self._parsing = None
            cycle.on_message_complete()

    # cycles

    def _run(self, cycle: RequestCycle) -> None:
        self._cycle = cycle
        state = self.state
        limit = self._limit
        app = state.app
        if limit is not None and (state.in_flight >= limit or len(state.connections) > limit):
            app = _service_unavailable
        state.in_flight += 1
        state.total_requests += 1
        cycle.task = task = self.loop.create_task(cycle.run_asgi(app))
        state.tasks.add(task)

    def write(self, data: bytes) -> None:
        if not self._closed:
            if self._wbuf:
                data = b"".join(self._wbuf) + data
                self._wbuf.clear()
            self.transport.write(data)

    def write_last(self, data: bytes) -> None:
        """Write the end of a response; while pipelined requests wait, batch it with theirs."""
        if self._pipeline and not self._closed:
            self._wbuf.append(data)
            if len(self._wbuf) < 32:
                return
        self.write(data)

    def _flush(self) -> None:
        if self._wbuf:
            self.write(b"")

    def on_response_complete(self, cycle: RequestCycle) -> None:
        self.state.in_flight -= 1
        if cycle is not self._cycle:
            return
        self._cycle = None
        if self._closed:
            return
        if not cycle.keep_alive or self.state.shutting_down:
            self._close()
            return
        if self._pipeline:
            self._run(self._pipeline.popleft())
            if len(self._pipeline) < self.state.config.max_pipeline // 2:
                self.flow.resume_reading()
            return
        self._flush()
        if self._pending_error is not None:
            self._send_error(self._pending_error)
            return
        if self._upgrade is not None:
            self._start_websocket()
            return
        self.flow.resume_reading()
        if self._parsing is None:
            self._idle = True
            self.deadline = self.state.now + self.state.config.timeout_keep_alive

    def _close(self) -> None:
        if not self._closed:
            self._flush()
            self._closed = True
            self.transport.close()

    # errors, timeouts, shutdown

    def _on_parse_error(self, exc: HTTPParseError) -> None:
        self.flow.pause_reading()
        broken = self._parsing
        self._parsing = None
        if broken is not None:
            if broken is self._cycle:
                # The error is inside the body of the request being answered.
                if not broken.response_started:
                    broken.response_started = broken.response_complete = True
                    self._cycle = None
                    self.state.in_flight -= 1
                    self._send_error(exc)
                else:
                    self._close()
                broken.on_disconnect()
                return
            if broken in self._pipeline:
                self._pipeline.remove(broken)
            # else: already answered (the app replied before reading all of its body); the
            # bytes after it cannot be framed, so the connection still gets a 400 and closes.
        if self._cycle is None:
            self._send_error(exc)
        else:
            self._pending_error = exc

    def _send_error(self, exc: HTTPParseError) -> None:
        if not self._closed:
            logger.debug("rejected request: %s", exc)
            self.write(error_response(exc.status, self.state.default_headers))
            self._close()

    def on_timeout(self) -> None:
        self.deadline = 0.0
        if self._cycle is None and not self._idle and not self._closed:
            self.write(error_response(408, self.state.default_headers))
        self._close()

    def shutdown(self) -> None:
        """Close when idle, otherwise after the response in progress (no more pipelining)."""
        self._pipeline.clear()
        self._flush()
        cycle = self._cycle
        if cycle is None or cycle.response_complete:
            self._close()
        else:
            cycle.keep_alive = False

    def abort(self) -> None:
        self._closed = True
        self.transport.abort()

    # WebSocket

    def _on_upgrade(self, tail: bytes) -> None:
        scope = self._ws_scope
        self._ws_scope = None
        if scope is None:
            self._send_error(HTTPParseError(400, "unexpected upgrade"))
            return
        self._upgrade = (scope, tail)
        if self._cycle is None:
            self._start_websocket()
        else:
            self.flow.pause_reading()

    def _start_websocket(self) -> None:
        from covet.server.websocket import WebSocketProtocol

        assert self._upgrade is not None
        scope, tail = self._upgrade
        self._upgrade = None
        self.state.connections.discard(self)
        self._flush()
        self._closed = True  # this object no longer owns the transport
        protocol = WebSocketProtocol(self.state, self.transport, scope, self.client, self.server)
        self.transport.set_protocol(protocol)
        self.flow.resume_reading()
        protocol.start(tail)
