"""An app whose startup fails: the server must log the message and exit."""

from __future__ import annotations

from _common import Receive, Scope, Send, send_body


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "conformance: startup failed"})
        return
    if scope["type"] == "http":
        await send_body(send, b"served despite startup.failed")
