"""The HTTP/1.1 connection: one `asyncio.Protocol` per client connection.

It feeds received bytes to the configured parser, turns each request head into an ASGI scope
and a `RequestCycle`, runs cycles one at a time in arrival order (pipelining), answers framing
errors with 4xx/5xx and closes, hands WebSocket upgrades to `WebSocketProtocol`, and tracks the
header, body and keep-alive deadlines that the server's once-a-second ticker enforces.

Memory per connection stays bounded whatever the client does: a response's last write waits for
the transport to drain like every other write, the next pipelined request starts only then, and
bytes are fed to the parser in slices, so one large read cannot queue more than about
`max_pipeline` requests; what cannot be parsed yet is held (reading paused) until the queue
shrinks or the app reads the body it has.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from urllib.parse import unquote

from covet.server.cycle import RequestCycle, error_response, service_unavailable
from covet.server.exceptions import HTTPParseError, UpgradeRequested
from covet.server.flow_control import (
    FEED_WHOLE,
    HIGH_WATER_BODY,
    WBUF_LIMIT,
    FlowControl,
    feed_slice,
)
from covet.server.parsers.base import Headers, RequestInfo
from covet.server.scope import ASGI_HTTP, METHOD_NAMES, address, split_target
from covet.server.state import Connection, ServerState
from covet.server.types import Scope

logger = logging.getLogger("covet.server")


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
        self._wbuf_size = 0
        self._held = b""  # received bytes not fed to the parser yet (reading is paused)
        self._body_left = 0  # body bytes still to come for `_parsing`; -1: chunked
        self.draining = False  # shutting down: answer what was received, then close
        config = state.config
        self._root_path = config.root_path
        self._limit = config.limit_concurrency
        self._max_pipeline = config.max_pipeline
        self._timeout_body = config.timeout_body

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.flow = FlowControl(self.transport)
        self.client = address(transport.get_extra_info("peername"))
        self.server = address(transport.get_extra_info("sockname"))
        self.state.connections.add(self)
        self.state.counters.connections += 1
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
        self._held = b""
        self.flow.resume_writing()

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()
        if self.flow.read_paused:
            self.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self._idle:
            self._idle = False
            self.state.counters.keepalive_reuses += 1
            self.deadline = self.state.now + self.state.config.timeout_header
        if self._upgrade is not None:
            scope, tail = self._upgrade
            self._upgrade = (scope, tail + data)
            return
        if len(data) <= FEED_WHOLE and not self.flow.read_paused:
            try:
                self.parser.feed(data)
            except HTTPParseError as exc:
                self._on_parse_error(exc)
            except UpgradeRequested as exc:
                self._on_upgrade(exc.tail)
            return
        if self._held:
            # Reading was paused (bytes are held only then) but one more read came: keep order.
            self._held += data
            return
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        """Feed `data` in slices; hold back the rest as soon as the connection is backed up.

        A parser cannot stop in the middle of a buffer (llhttp runs every request it is given),
        so the slices are sized to what may still be queued (`feed_slice`).
        """
        pos = 0
        end = len(data)
        parser = self.parser
        try:
            while pos < end:
                pipeline = self._pipeline
                room = self._max_pipeline - len(pipeline)
                parsing = self._parsing
                if (
                    room <= 0
                    or (parsing is not None and len(parsing.body) > HIGH_WATER_BODY)
                    or (parsing is None and self.draining)
                ):
                    self._held = data[pos:] if pos else data
                    self.flow.pause_reading()
                    return
                size = feed_slice(room, None if parsing is None else self._body_left)
                if pos == 0 and size >= end:
                    chunk = data
                else:
                    chunk = data[pos : pos + size]
                pos += len(chunk)
                parser.feed(chunk)
        except HTTPParseError as exc:
            self._on_parse_error(exc)
        except UpgradeRequested as exc:
            self._on_upgrade(exc.tail + data[pos:])

    def resume_reading(self) -> None:
        """Read again (parsing held bytes first) unless something still holds reading back.

        Called when the app wants more of its body, when a queued request starts and when the
        transport drains. While a body is expected, this is where the client's body deadline
        starts: the time the server waits is the app's, the time after it asks is the client's.
        """
        if self._held:
            if self._backed_up():
                return
            held = self._held
            self._held = b""
            self._feed(held)
            if self._held:
                return
        if self._backed_up():
            return
        parsing = self._parsing
        if parsing is not None and (self._cycle is None or self._cycle is parsing):
            self.deadline = self.state.now + self._timeout_body
        self.flow.resume_reading()

    def _backed_up(self) -> bool:
        """Whether reading must stay paused: closed, an error or upgrade pending, the write
        buffer full, the pipeline full, an unread body over its mark, or shutting down."""
        if (
            self._closed
            or self.flow.write_paused
            or self._pending_error is not None
            or self._upgrade is not None
            or len(self._pipeline) >= self._max_pipeline
        ):
            return True
        parsing = self._parsing
        if parsing is None:
            return self.draining  # no new requests while shutting down
        return len(parsing.body) > HIGH_WATER_BODY

    # parser callbacks

    def on_request(
        self, method: bytes, target: bytes, http_version: str, headers: Headers, info: RequestInfo
    ) -> None:
        self.deadline = 0.0
        self._body_left = -1 if info.chunked else info.content_length
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
            "scheme": state.scheme,
            "method": METHOD_NAMES.get(method) or method.decode("ascii"),
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
            if self._body_left > 0:
                self._body_left -= len(data)
            cycle.on_body(data)
            if len(cycle.body) > HIGH_WATER_BODY:
                self.flow.pause_reading()
                self.deadline = 0.0  # the app is behind: not the client's time
            elif self._cycle is None or self._cycle is cycle:
                self.deadline = self.state.now + self._timeout_body

    def on_message_complete(self) -> None:
        cycle = self._parsing
        if cycle is not None:
            self._parsing = None
            cycle.on_message_complete()
            if not cycle.response_complete:
                self.deadline = 0.0  # the app's turn
            elif self._cycle is None:
                # Answered before its body ended; the body is in, the connection idles.
                self._idle = True
                self.deadline = self.state.now + self.state.config.timeout_keep_alive

    # cycles

    def _run(self, cycle: RequestCycle) -> None:
        self._cycle = cycle
        state = self.state
        limit = self._limit
        app = state.app
        if limit is not None and (state.in_flight >= limit or len(state.connections) > limit):
            app = service_unavailable
            state.counters.rejected += 1
        state.in_flight += 1
        state.total_requests += 1
        cycle.task = task = self.loop.create_task(cycle.run_asgi(app))
        state.tasks.add(task)

    def write(self, data: bytes) -> None:
        if not self._closed:
            if self._wbuf:
                data = b"".join(self._wbuf) + data
                self._wbuf.clear()
                self._wbuf_size = 0
            self.transport.write(data)

    def write_last(self, data: bytes) -> None:
        """Write the end of a response; while pipelined requests wait, batch it with theirs."""
        if self._pipeline and not self._closed:
            self._wbuf.append(data)
            self._wbuf_size += len(data)
            if len(self._wbuf) < 32 and self._wbuf_size < WBUF_LIMIT:
                return
            data = b""
        self.write(data)

    def queued(self) -> int:
        """How many received requests wait behind the one being answered."""
        return len(self._pipeline)

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
        pipeline = self._pipeline
        if not cycle.keep_alive or (self.draining and not pipeline):
            self._close()
            return
        if pipeline:
            # The cycle's last write waited for the transport to drain, so starting the next
            # request here never piles a response on a full write buffer.
            self._run(pipeline.popleft())
            if self.flow.read_paused and len(pipeline) < self._max_pipeline // 2:
                self.resume_reading()
            return
        self._flush()
        if self._pending_error is not None:
            self._send_error(self._pending_error)
            return
        if self._upgrade is not None:
            self._start_websocket()
            return
        if self._parsing is None:
            self._idle = True
            self.deadline = self.state.now + self.state.config.timeout_keep_alive
        else:
            # Answered before its body arrived: the rest of the body is still owed, on a clock.
            self.deadline = self.state.now + self._timeout_body
        if self.flow.read_paused:
            self.resume_reading()

    def _close(self) -> None:
        if not self._closed:
            self._flush()
            self._closed = True
            self.transport.close()

    # errors, timeouts, shutdown

    def _on_parse_error(self, exc: HTTPParseError) -> None:
        self.flow.pause_reading()
        self.state.counters.parse_error(exc.status)
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
        """A deadline passed: a stalled head or body gets 408 (if nothing was answered), then close.

        An idle keep-alive connection, or a body still owed after its answer, closes silently.
        """
        self.deadline = 0.0
        if self._closed:
            return
        cycle = self._cycle
        parsing = self._parsing
        kind = "keep_alive" if self._idle else "header" if parsing is None else "body"
        self.state.counters.timeout(kind)
        if not self._idle and (parsing is None or not parsing.response_complete):
            if cycle is None:
                self.write(error_response(408, self.state.default_headers))
            elif cycle is parsing and not cycle.response_started:
                cycle.response_started = True  # the 408 is its answer
                self.write(error_response(408, self.state.default_headers))
        if cycle is not None:
            cycle.on_disconnect()
        self._close()

    def shutdown(self) -> None:
        """Stop reading; answer the requests already received, the last with `close`; close.

        Queued pipelined requests are answered in order rather than dropped: the client has no
        way to tell which of them ran. Bytes not parsed yet are dropped unanswered, which the
        `connection: close` on the last answer tells the client.
        """
        self.draining = True
        self._held = b""
        self.flow.pause_reading()
        cycle = self._cycle
        if cycle is None:
            self._close()
        elif not self._pipeline:
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
