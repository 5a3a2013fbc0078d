r"""Request IDs and the access log.

    app.add_middleware(RequestIDMiddleware)                 # X-Request-ID + access log
    logging.basicConfig(level=logging.INFO)                 # to see covet.access lines

Each HTTP request and WebSocket gets an id: the client's `X-Request-ID` when it looks like an
id (1-128 characters from `A-Za-z0-9._:-`, so it cannot forge log lines) and `trust_incoming`
is on, else 32 fresh random hex digits. The id is put in `scope["request_id"]`, in the
context variable `REQUEST_ID` (so any log call made while handling the request can add it,
see `RequestIDLogFilter`), and in the response header.

When the response completes, one INFO line goes to the `covet.access` logger:

    127.0.0.1:51234 "GET /users/42 HTTP/1.1" 200 17B 0.41ms id=3f2a...

with the same fields as attributes of the record (`client`, `method`, `path`, `status`,
`bytes`, `duration_ms`, `request_id`) for structured handlers. Control characters, `"` and `\`
in the client, method and path are written as `\xHH` (the path is percent-decoded, so a `%0a`
in it would otherwise forge a second line), the same escape covet's server uses. A failing app
is logged with status 500 (nothing sent yet) and the exception goes on up unchanged.
"""

from __future__ import annotations

import logging
import random
import re
import time
from contextvars import ContextVar
from typing import Any

from covet._asgi import ASGIApp, Message, Receive, Scope, Send, get_header, without
from covet._logsafe import log_safe

ACCESS_LOGGER = "covet.access"
REQUEST_ID: ContextVar[str | None] = ContextVar("covet_request_id", default=None)
_VALID_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_ACCESS_FORMAT = '%s "%s %s HTTP/%s" %d %dB %.2fms id=%s'


class RequestIDLogFilter(logging.Filter):
    """Adds `request_id` (or "-") to every record, for formats like `%(request_id)s`.

    handler.addFilter(RequestIDLogFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class RequestIDMiddleware:
    """Give every request an id, echo it in a response header, and log the request."""

    def __init__(
        self,
        app: ASGIApp,
        header_name: str = "X-Request-ID",
        trust_incoming: bool = True,
        access_log: bool = True,
        logger: logging.Logger | None = None,
    ) -> None:
        self.app = app
        self.header = header_name.lower().encode("latin-1")
        self.trust_incoming = trust_incoming
        self.access_log = access_log
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    def _request_id(self, scope: Scope) -> str:
        if self.trust_incoming:
            incoming = get_header(scope["headers"], self.header)
            if incoming is not None and _VALID_ID.fullmatch(incoming):
                return incoming.decode("ascii")
        # 128 random bits as 32 hex digits: unique, not secret, and 4x cheaper than uuid4.
        return f"{random.getrandbits(128):032x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                await self._websocket(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        scope["request_id"] = request_id
        log = self.access_log and self.logger.isEnabledFor(logging.INFO)
        started = time.perf_counter() if log else 0.0
        status = 0
        sent = 0
        header = self.header
        id_header = (header, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [item for item in message.get("headers", ()) if item[0] != header]
                headers.append(id_header)
                message["headers"] = headers
            elif log:
                sent += len(message.get("body", b""))
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            if log:
                self._log(scope, status or 500, sent, started, request_id)
            raise
        finally:
            REQUEST_ID.reset(token)
        if log:
            self._log(scope, status, sent, started, request_id)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = self._request_id(scope)
        scope["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        log = self.access_log and self.logger.isEnabledFor(logging.INFO)
        started = time.perf_counter()
        status = 0
        id_header = (self.header, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "websocket.accept":
                status = 101
                message["headers"] = [*without(message.get("headers", []), self.header), id_header]
            elif kind == "websocket.close" and status == 0:
                status = 403
            elif kind == "websocket.http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            if log:
                self._log(scope, status or 500, 0, started, request_id)

    def _log(self, scope: Scope, status: int, sent: int, started: float, request_id: str) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        client = scope.get("client")
        # Every field a client can steer is escaped (the path is percent-decoded, the client
        # may come from a proxy header), in the line and in the structured fields alike.
        client_text = log_safe(f"{client[0]}:{client[1]}") if client else "-"
        query: bytes = scope.get("query_string", b"")
        target = log_safe(scope["path"] + ("?" + query.decode("latin-1") if query else ""))
        method = log_safe(scope.get("method", "WEBSOCKET"))
        extra: dict[str, Any] = {
            "client": client_text,
            "method": method,
            "path": target,
            "status": status,
            "bytes": sent,
            "duration_ms": round(elapsed_ms, 3),
            "request_id": request_id,
        }
        self.logger.info(
            _ACCESS_FORMAT,
            client_text,
            method,
            target,
            scope.get("http_version", "1.1"),
            status,
            sent,
            elapsed_ms,
            request_id,
            extra=extra,
        )
