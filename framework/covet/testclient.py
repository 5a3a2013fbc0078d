"""In-process testing on httpx: requests and WebSockets against an ASGI app, no socket.

The app runs on an event loop in a helper thread (the "portal"), so tests stay synchronous.
Used as a context manager the client runs the app's lifespan and keeps one loop for every
request; without it each request gets a fresh loop.

Example::

    with TestClient(app) as client:
        assert client.get("/users/1").json() == {"id": 1}
        with client.websocket_connect("/ws") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"

Needs httpx (the ``bench`` or ``dev`` extras).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urljoin

from covet._json import dumps, loads
from covet._portal import Portal, new_queue
from covet.exceptions import WebSocketDisconnect
from covet.types import ASGIApp, Message, Scope

try:
    import httpx
except ImportError as exc:  # pragma: no cover - httpx ships with the dev and bench extras
    raise ImportError(
        "covet.testclient needs httpx: pip install 'covetpy[dev]' (or 'httpx')"
    ) from exc

__all__ = ["TestClient", "WebSocketDenialResponse", "WebSocketTestSession"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class _AppTransport(httpx.BaseTransport):
    """An httpx transport that calls the ASGI app instead of opening a connection."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scope = self.client._scope(request.url, request.headers.raw, "http")
        scope["method"] = request.method
        body = request.read()
        portal = self.client._portal
        if portal is not None:
            status, headers, content = portal.call(self.client._run_http(scope, body))
        else:
            portal = Portal()
            try:
                status, headers, content = portal.call(self.client._run_http(scope, body))
            finally:
                portal.close()
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(content), request=request
        )


class WebSocketDenialResponse(httpx.Response, Exception):  # type: ignore[misc]
    """Raised by ``websocket_connect`` when the app answered the handshake with HTTP."""


class TestClient(httpx.Client):
    """An httpx client wired to ``app``. ``raise_server_exceptions`` re-raises app errors in
    the test instead of returning a 500."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client_address = client
        self.app_state: dict[str, Any] = {}
        self._portal: Portal | None = None
        self._lifespan: concurrent.futures.Future[None] | None = None
        self._lifespan_in: asyncio.Queue[Message] | None = None
        self._lifespan_out: queue.Queue[Message | BaseException | None] = queue.Queue()
        super().__init__(
            base_url=base_url,
            headers={"user-agent": "testclient", **(headers or {})},
            cookies=dict(cookies or {}),
            transport=_AppTransport(self),
            follow_redirects=follow_redirects,
        )

    # -- scope -----------------------------------------------------------------------------

    def _scope(
        self, url: httpx.URL, raw_headers: Iterable[tuple[bytes, bytes]], kind: str
    ) -> Scope:
        scheme = url.scheme
        if kind == "websocket":
            scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
        raw_path, _, _ = url.raw_path.partition(b"?")
        port = url.port or _DEFAULT_PORTS.get(scheme, 80)
        return {
            "type": kind,
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": scheme,
            "path": unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "root_path": self.root_path,
            "query_string": url.query,
            "headers": [(k.lower(), v) for k, v in raw_headers],
            "client": self.client_address,
            "server": (url.host, port),
            "state": dict(self.app_state),
            "extensions": {"http.response.debug": {}},
        }

    async def _run_http(self, scope: Scope, body: bytes) -> tuple[int, list[Any], bytes]:
        request_sent = False
        complete = asyncio.Event()
        start: Message | None = None
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if start is not None:
                    raise RuntimeError("the app sent http.response.start twice")
                start = message
            elif message["type"] == "http.response.body":
                if start is None:
                    raise RuntimeError("the app sent a body before http.response.start")
                if complete.is_set():
                    raise RuntimeError("the app sent a body after the response was complete")
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    complete.set()

        try:
            await self.app(scope, receive, send)
        except Exception:
            if self.raise_server_exceptions:
                raise
            if start is None:
                return 500, [], b""
        finally:
            complete.set()
        if start is None:
            raise RuntimeError("the app returned without sending a response")
        return start["status"], list(start.get("headers", [])), b"".join(chunks)

    # -- WebSockets ------------------------------------------------------------------------

    def websocket_connect(
        self,
        url: str,
        subprotocols: Iterable[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> WebSocketTestSession:
        """Open a WebSocket session to ``url`` (use it as a context manager)."""
        full = httpx.URL(urljoin(str(self.base_url), url))
        merged = httpx.Headers(self.headers)
        probe = httpx.Request("GET", full)  # its cookies go with the handshake, as a browser's
        self.cookies.set_cookie_header(probe)
        merged.update({k: v for k, v in probe.headers.items() if k == "cookie"})
        merged.update(headers or {})
        raw_headers = list(merged.raw)
        raw_headers += [
            (b"connection", b"upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        ]
        scope = self._scope(full, raw_headers, "websocket")
        scope["subprotocols"] = list(subprotocols or [])
        scope["extensions"] = {"websocket.http.response": {}}
        host = full.host if full.port is None else f"{full.host}:{full.port}"
        scope["headers"].insert(0, (b"host", host.encode("ascii")))
        return WebSocketTestSession(self, scope)

    # -- lifespan --------------------------------------------------------------------------

    def __enter__(self) -> TestClient:
        portal = self._portal = Portal()
        self._lifespan_in = portal.call(new_queue())
        self._lifespan = portal.submit(self._run_lifespan())
        portal.put(self._lifespan_in, {"type": "lifespan.startup"})
        self._expect_lifespan("lifespan.startup.complete")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        try:
            if self._portal is not None and self._lifespan_in is not None:
                self._portal.put(self._lifespan_in, {"type": "lifespan.shutdown"})
                self._expect_lifespan("lifespan.shutdown.complete")
        finally:
            self._close_portal()
            super().__exit__(exc_type, exc, tb)

    def _close_portal(self) -> None:
        if self._portal is not None:
            self._portal.close()
        self._portal = None
        self._lifespan = None
        self._lifespan_in = None

    async def _run_lifespan(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.app_state}
        inbox = self._lifespan_in
        if inbox is None:  # pragma: no cover - set before this coroutine is submitted
            raise RuntimeError("lifespan queue missing")

        async def send(message: Message) -> None:
            self._lifespan_out.put(message)

        try:
            await self.app(scope, inbox.get, send)
        except BaseException as exc:
            self._lifespan_out.put(exc)
            raise
        finally:
            self._lifespan_out.put(None)

    def _expect_lifespan(self, expected: str) -> None:
        message = self._lifespan_out.get()
        if message is None:  # the app returned: it does not speak the lifespan protocol
            self._lifespan_in = None
            return
        if isinstance(message, BaseException):
            self._close_portal()
            raise message
        if message["type"] != expected:
            future = self._lifespan
            if future is not None:
                try:
                    future.result()
                except BaseException:
                    self._close_portal()
                    raise
            self._close_portal()
            raise RuntimeError(f"{message['type']}: {message.get('message', '')}")


class WebSocketTestSession:
    """One WebSocket connection to the app, driven synchronously from the test."""

    def __init__(self, client: TestClient, scope: Scope) -> None:
        self._client = client
        self.scope = scope
        self._own_portal: Portal | None = None
        self._portal: Portal | None = None
        self._inbox: asyncio.Queue[Message] | None = None
        self._outbox: queue.Queue[Message | BaseException | None] = queue.Queue()
        self._future: concurrent.futures.Future[None] | None = None
        self._closed = False
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []

    def __enter__(self) -> WebSocketTestSession:
        portal = self._client._portal
        if portal is None:
            portal = self._own_portal = Portal()
        self._portal = portal
        self._inbox = portal.call(new_queue())
        self._future = portal.submit(self._run())
        try:
            self.send({"type": "websocket.connect"})
            message = self.receive()
            if message["type"] == "websocket.close":
                self._closed = True
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            if message["type"] == "websocket.http.response.start":
                self._closed = True
                raise self._denial(message)
            self.accepted_subprotocol = message.get("subprotocol")
            self.extra_headers = list(message.get("headers") or [])
        except BaseException:
            self._finish(raise_errors=False)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        if not self._closed:
            self.close(1000)
        self._finish(raise_errors=exc is None)

    def _finish(self, raise_errors: bool) -> None:
        try:
            if self._future is not None:
                try:
                    self._future.result()
                except BaseException:
                    if raise_errors and self._client.raise_server_exceptions:
                        raise
        finally:
            if self._own_portal is not None:
                self._own_portal.close()
                self._own_portal = None

    async def _run(self) -> None:
        inbox = self._inbox
        if inbox is None:  # pragma: no cover - set before this coroutine is submitted
            raise RuntimeError("inbox missing")

        async def send(message: Message) -> None:
            self._outbox.put(message)

        try:
            await self._client.app(self.scope, inbox.get, send)
        except BaseException as exc:
            self._outbox.put(exc)
            raise
        finally:
            self._outbox.put(None)

    def _denial(self, start: Message) -> WebSocketDenialResponse:
        body = b""
        while True:
            message = self.receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        return WebSocketDenialResponse(
            start["status"], headers=start.get("headers", []), content=body
        )

    # -- raw messages ----------------------------------------------------------------------

    def send(self, message: Message) -> None:
        if self._portal is None or self._inbox is None:
            raise RuntimeError("the WebSocket session is not open")
        self._portal.put(self._inbox, message)

    def receive(self) -> Message:
        message = self._outbox.get()
        if isinstance(message, BaseException):
            raise message
        if message is None:
            self._outbox.put(None)  # keep answering "gone" to later calls
            raise WebSocketDisconnect(1006, "the app returned without closing")
        return message

    # -- typed helpers ---------------------------------------------------------------------

    def _receive_data(self) -> Message:
        message = self.receive()
        if message["type"] == "websocket.close":
            self._closed = True
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: str = "text") -> None:
        payload = dumps(data)
        if mode == "text":
            self.send_text(payload.decode("utf-8"))
        else:
            self.send_bytes(payload)

    def receive_text(self) -> str:
        return self._receive_data()["text"]  # type: ignore[no-any-return]

    def receive_bytes(self) -> bytes:
        return self._receive_data()["bytes"]  # type: ignore[no-any-return]

    def receive_json(self, mode: str = "text") -> Any:
        message = self._receive_data()
        return loads(message["text"] if mode == "text" else message["bytes"])

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Disconnect from the client side with ``code`` and ``reason``."""
        self._closed = True
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason or ""})
