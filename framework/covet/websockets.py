"""WebSocket connections per the ASGI spec, with close codes and reasons both ways.

Example::

    @app.websocket("/ws")
    async def echo(websocket: WebSocket):
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text)
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from typing import Any

from covet._json import dumps, loads
from covet.exceptions import WebSocketDisconnect
from covet.requests import HTTPConnection
from covet.responses import Response
from covet.types import Message, Receive, Scope, Send

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocket(HTTPConnection):
    """One WebSocket connection: accept it, exchange messages, close it.

    ``receive_*`` raise :class:`WebSocketDisconnect` (with the peer's code and reason) when the
    peer closes; ``iter_*`` simply stop.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"WebSocket needs a websocket scope, not {scope['type']!r}")
        super().__init__(scope)
        self._receive = receive
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    async def receive(self) -> Message:
        """The next raw ASGI message from the client."""
        state = self.client_state
        if state is WebSocketState.DISCONNECTED:
            raise RuntimeError("cannot receive: the WebSocket is disconnected")
        message = await self._receive()
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if kind != "websocket.connect":
                raise RuntimeError(f"expected 'websocket.connect', got {kind!r}")
            self.client_state = WebSocketState.CONNECTED
        elif kind == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        elif kind != "websocket.receive":
            raise RuntimeError(
                f"expected 'websocket.receive' or 'websocket.disconnect', got {kind!r}"
            )
        return message

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message to the client."""
        state = self.application_state
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if kind == "websocket.accept":
                self.application_state = WebSocketState.CONNECTED
            elif kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif kind == "websocket.http.response.start":
                self.application_state = WebSocketState.RESPONSE
            else:
                raise RuntimeError(f"expected accept, close or a denial response, got {kind!r}")
        elif state is WebSocketState.CONNECTED:
            if kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif kind != "websocket.send":
                raise RuntimeError(f"expected 'websocket.send' or 'websocket.close', got {kind!r}")
        elif state is WebSocketState.RESPONSE:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"expected 'websocket.http.response.body', got {kind!r}")
            if not message.get("more_body", False):
                self.application_state = WebSocketState.DISCONNECTED
        else:
            raise RuntimeError("cannot send: the WebSocket is closed")
        await self._send(message)

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Accept the connection, optionally choosing a subprotocol and adding headers."""
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()  # the "websocket.connect" message
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = list(headers)
        await self.send(message)

    def _raise_on_disconnect(self, message: Message) -> None:
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))

    def _check_accepted(self) -> None:
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError('the WebSocket is not connected: call "accept" first')

    async def receive_text(self) -> str:
        self._check_accepted()
        message = await self.receive()
        self._raise_on_disconnect(message)
        text = message.get("text")
        if text is None:
            raise RuntimeError("expected a text message, got a binary one")
        return text  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        self._check_accepted()
        message = await self.receive()
        self._raise_on_disconnect(message)
        data = message.get("bytes")
        if data is None:
            raise RuntimeError("expected a binary message, got a text one")
        return data  # type: ignore[no-any-return]

    async def receive_json(self, mode: str = "text") -> Any:
        """The next message parsed as JSON (sent as text, or as bytes with ``mode="binary"``)."""
        if mode not in ("text", "binary"):
            raise ValueError('mode must be "text" or "binary"')
        self._check_accepted()
        message = await self.receive()
        self._raise_on_disconnect(message)
        payload = message.get("text") if mode == "text" else message.get("bytes")
        if payload is None:
            payload = message.get("bytes") if mode == "text" else message.get("text")
        return loads(payload or "")

    async def iter_text(self) -> AsyncIterator[str]:
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode not in ("text", "binary"):
            raise ValueError('mode must be "text" or "binary"')
        payload = dumps(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": payload.decode("utf-8")})
        else:
            await self.send({"type": "websocket.send", "bytes": payload})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with ``code`` and ``reason``; before ``accept`` this rejects the handshake."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    @property
    def supports_denial_response(self) -> bool:
        """Whether the server can send an HTTP response instead of accepting."""
        return "websocket.http.response" in (self.scope.get("extensions") or {})

    async def send_denial_response(self, response: Response) -> None:
        """Reject the handshake with a full HTTP response (when the server supports it);
        otherwise close, which servers turn into a 403."""
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError("a denial response can only be sent before accept")
        if not self.supports_denial_response:
            await self.close(1008)
            return

        async def prefixed(message: Message) -> None:
            await self.send({**message, "type": "websocket." + message["type"]})

        await response(self.scope, self._receive, prefixed)
