"""An app that raises on the lifespan scope: the server must go on serving without lifespan."""

from __future__ import annotations

from _common import Receive, Scope, Send, send_body


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        raise RuntimeError("conformance: this app has no lifespan")
    if scope["type"] == "http":
        await send_body(send, b"ok")
