"""One HTTP request/response exchange: the ASGI `receive`/`send` pair, shared by every parser.

The connection protocol creates a `RequestCycle` when a parser reports a request head, feeds it
body chunks, and runs `run_asgi(app)` as a task. The cycle owns response framing: it adds
`content-length` when the whole body arrives in one `send`, falls back to chunked encoding
(close-delimited on HTTP/1.0) when the app streams without a length, drops the body of HEAD
responses, and writes head and body in one `transport.write` when it can. Every `send` of a
body, the last one included, waits while the transport's write buffer is full: the response is
complete (and the next pipelined request starts) only once the transport has taken it.

Response headers are checked as h11 checks them: names are tokens, values hold no control
characters, duplicate Content-Length headers agree, and 1xx/204 responses carry no
Content-Length and 1xx/204/304 no body. A violation is an app error: a 500 if nothing was
written yet.
"""

from __future__ import annotations

import asyncio
import logging
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from covet._logsafe import log_safe
from covet.server.exceptions import ConnectionClosedError
from covet.server.parsers.base import RequestInfo
from covet.server.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from covet.server.protocol import HTTPProtocol

logger = logging.getLogger("covet.server")
access_logger = logging.getLogger("covet.access")

STATUS_LINES: dict[int, bytes] = {
    s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode("ascii")) for s in HTTPStatus
}
_NO_BODY = frozenset((*range(100, 200), 204, 304))
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_DISCONNECT: dict[str, Any] = {"type": "http.disconnect"}
# The serialized header block: token names, values free of CTLs (HTAB and obs-text allowed).
# One C-level pass; no backtracking since neither class holds what follows it.
_HEADER_BLOCK = re.compile(rb"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\x00-\x08\x0a-\x1f\x7f]*\r\n)*")
# Header blocks already found valid: apps send the same few blocks again and again, and a set
# lookup costs a fraction of the regex. Bounded; past the bound every block is matched.
_VALID_BLOCKS: set[bytes] = set()
_VALID_BLOCKS_MAX = 512


def status_line(status: int) -> bytes:
    """The response status line for `status` (any int 100-999)."""
    line = STATUS_LINES.get(status)
    if line is None:
        if type(status) is not int or not 100 <= status <= 999:
            raise RuntimeError(f"invalid HTTP status: {status!r}")
        line = b"HTTP/1.1 %d \r\n" % status
    return line


def error_response(status: int, default_headers: bytes) -> bytes:
    """A complete plain-text response that closes the connection."""
    body = HTTPStatus(status).phrase.encode("ascii")
    return b"%scontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n" % (
        STATUS_LINES[status],
        len(body),
    ) + (default_headers + b"connection: close\r\n\r\n" + body)


async def service_unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    """The app run instead of the real one above `--limit-concurrency`."""
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": b"Service Unavailable"})


def _error_fields(scope: Scope) -> dict[str, Any]:
    """Which request failed, for structured logs: RequestIDMiddleware's id has been reset by
    the time the exception reaches the server, but it left the id in the scope."""
    fields = {"method": scope["method"], "path": log_safe(scope["path"])}
    if "request_id" in scope:
        fields["request_id"] = scope["request_id"]
    return fields


class RequestCycle:
    """ASGI `receive`/`send` for one request on one connection."""

    __slots__ = (
        "protocol",
        "scope",
        "keep_alive",
        "expect_continue",
        "is_head",
        "http10",
        "body",
        "more_body",
        "read_done",
        "waiter",
        "disconnected",
        "response_started",
        "response_complete",
        "status",
        "_head",
        "_length",
        "_chunked",
        "_no_body",
        "task",
    )

    def __init__(
        self, protocol: HTTPProtocol, scope: Scope, info: RequestInfo, is_head: bool
    ) -> None:
        self.protocol = protocol
        self.scope = scope
        self.keep_alive = info.keep_alive
        self.expect_continue = info.expect_continue
        self.is_head = is_head
        self.http10 = scope["http_version"] == "1.0"
        self.body: bytes | bytearray = b""
        self.more_body = True
        self.read_done = False
        self.waiter: asyncio.Future[None] | None = None
        self.disconnected = False
        self.response_started = False
        self.response_complete = False
        self.status = 0
        self._head = b""
        self._length = -1  # bytes of body still allowed by the app's content-length; -1: none
        self._chunked = False
        self._no_body = False
        self.task: asyncio.Task[None] | None = None

    # events from the protocol

    def on_body(self, data: bytes) -> None:
        if self.response_complete:
            return
        body = self.body
        if not body:
            self.body = data
        elif type(body) is bytes:
            # From the second chunk on, grow in place: `bytes += bytes` copies everything
            # buffered so far, quadratic over many tiny chunks.
            self.body = bytearray(body) + data
        else:
            body += data
        self._wake()

    def on_message_complete(self) -> None:
        self.more_body = False
        self._wake()

    def on_disconnect(self) -> None:
        self.disconnected = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # ASGI

    async def run_asgi(self, app: ASGIApp) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except ConnectionClosedError:
            pass
        except Exception:
            if not self.disconnected:
                logger.exception("Exception in ASGI application", extra=_error_fields(self.scope))
        else:
            if not self.response_complete and not self.disconnected:
                logger.error("ASGI application returned without completing its response")
        finally:
            if not self.response_complete:
                self._abort()
            self.protocol.state.tasks.discard(self.task)  # type: ignore[arg-type]

    def _abort(self) -> None:
        self.keep_alive = False
        if (not self.response_started or self._head) and not self.disconnected:
            # Nothing written yet (a head is only written with the first body): answer 500.
            self.response_started = True
            self._head = b""
            self.protocol.write(error_response(500, self.protocol.state.default_headers))
        self._finish()

    async def receive(self) -> Message:
        if self.expect_continue:
            self.expect_continue = False
            if not self.response_started and not self.disconnected:
                self.protocol.write(_CONTINUE)
        while True:
            if self.disconnected or self.response_complete:
                return _DISCONNECT.copy()
            if not self.read_done and (self.body or not self.more_body):
                body = self.body
                if type(body) is bytearray:
                    body = bytes(body)
                self.body = b""
                if not self.more_body:
                    self.read_done = True
                    return {"type": "http.request", "body": body, "more_body": False}
                self.protocol.resume_reading()
                return {"type": "http.request", "body": body, "more_body": True}
            self.protocol.resume_reading()
            waiter = self.waiter = asyncio.get_running_loop().create_future()
            await waiter

    async def send(self, message: Message) -> None:
        mtype = message["type"]
        if mtype == "http.response.body" and self.response_started:
            if self.disconnected:
                raise ConnectionClosedError("client disconnected")
            if self.response_complete:
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            self._write_body(body, more)
            flow = self.protocol.flow
            if flow.write_paused:
                await flow.drain()
                if more and self.disconnected:
                    raise ConnectionClosedError("client disconnected")
            if not more:
                self._finish()
            return
        if mtype == "http.response.start" and not self.response_started:
            if self.disconnected:
                raise ConnectionClosedError("client disconnected")
            self._start(message)
            return
        if self.disconnected:
            raise ConnectionClosedError("client disconnected")
        state = "after the response started" if self.response_started else "before the response"
        raise RuntimeError(f"unexpected ASGI message {mtype!r} {state}")

    def _start(self, message: Message) -> None:
        status = message["status"]
        headers = message.get("headers", ())
        parts: list[bytes] = []
        count = 0
        for name, value in headers:
            lname = name.lower()
            if lname == b"content-length":
                if not value.isdigit():
                    raise RuntimeError(f"invalid content-length header: {value!r}")
                if self._length >= 0:
                    if int(value) != self._length:
                        raise RuntimeError("conflicting content-length headers")
                    continue  # an identical duplicate: send it once
                self._length = int(value)
            elif lname == b"transfer-encoding":
                continue  # the server owns framing
            elif lname == b"connection":
                if b"close" in value.lower():
                    self.keep_alive = False
                continue
            parts += (name, b": ", value, b"\r\n")
            count += 1
        block = b"".join(parts)
        # The count catches a CRLF inside a value that forms a valid-looking line of its own.
        if block.count(b"\n") != count:
            raise RuntimeError("invalid response header: CR or LF in a name or value")
        if block not in _VALID_BLOCKS:
            if _HEADER_BLOCK.fullmatch(block) is None:
                raise RuntimeError("invalid response header: a name not a token, or a CTL")
            if len(_VALID_BLOCKS) < _VALID_BLOCKS_MAX:
                _VALID_BLOCKS.add(block)
        if self._length >= 0 and (status < 200 or status == 204):
            raise RuntimeError(f"content-length in a {status} response")
        self._head = status_line(status) + self.protocol.state.default_headers + block
        self.status = status
        self.response_started = True
        if status in _NO_BODY or self.is_head:
            self._no_body = True

    def _write_body(self, body: bytes, more: bool) -> None:
        head = self._head
        if self._no_body and body and self.status in _NO_BODY:
            raise RuntimeError(f"a body in a {self.status} response")
        if head:
            if self.expect_continue:
                # The client waits for 100 Continue before sending a body nobody will read.
                self.keep_alive = False
                self.expect_continue = False
            if self.status in _NO_BODY:
                pass
            elif self._length >= 0:
                pass
            elif not more:
                head += b"content-length: %d\r\n" % len(body)
                self._length = len(body)
            elif self.http10 or self.is_head:
                self.keep_alive = self.keep_alive and self.is_head
            else:
                head += b"transfer-encoding: chunked\r\n"
                self._chunked = True
            protocol = self.protocol
            if not self.keep_alive or (protocol.draining and not protocol.queued()):
                self.keep_alive = False
                head += b"connection: close\r\n\r\n"
            elif self.http10:
                head += b"connection: keep-alive\r\n\r\n"
            else:
                head += b"\r\n"
            data = head if self._no_body else head + self._frame(body, more)
            self._head = b""  # only now: an error above still leaves room for a 500
            if protocol.access_log:
                self._log_access()
            if more:
                protocol.write(data)
            else:
                protocol.write_last(data)
        elif body and not self._no_body:
            if more:
                self.protocol.write(self._frame(body, more))
            else:
                self.protocol.write_last(self._frame(body, more))
        elif not more and self._chunked:
            self.protocol.write_last(b"0\r\n\r\n")
        if not more and self._length > 0 and not self._no_body:
            # Fewer bytes than the declared content-length: the framing is broken.
            logger.error("response shorter than its content-length")
            self.keep_alive = False

    def _frame(self, body: bytes, more: bool) -> bytes:
        if self._chunked:
            if not body:
                return b"" if more else b"0\r\n\r\n"
            chunk = b"%x\r\n%b\r\n" % (len(body), body)
            return chunk if more else chunk + b"0\r\n\r\n"
        if self._length >= 0:
            self._length -= len(body)
            if self._length < 0:
                raise RuntimeError("response body longer than its content-length")
        return body

    def _finish(self) -> None:
        self.response_complete = True
        self.body = b""  # unread body bytes are never delivered now
        self._wake()
        self.protocol.on_response_complete(self)

    def _log_access(self) -> None:
        scope = self.scope
        client = scope.get("client")
        query = scope["query_string"]
        # The path is percent-decoded: a %0a in it would otherwise forge a log line.
        path = log_safe(scope["path"] + ("?" + query.decode("ascii") if query else ""))
        host = client[0] if client else "-"
        port = client[1] if client else "-"
        method = scope["method"]
        status = self.status
        access_logger.info(
            '%s:%s - "%s %s HTTP/%s" %d',
            host,
            port,
            method,
            path,
            scope["http_version"],
            status,
            extra={"client": f"{host}:{port}", "method": method, "path": path, "status": status},
        )
