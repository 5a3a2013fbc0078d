"""Helpers for driving ASGI code with no server: tiny raw apps, a message recorder, httpx."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def text_app(
    body: bytes = b"hello",
    status: int = 200,
    headers: Iterable[tuple[bytes, bytes]] = (),
    chunks: list[bytes] | None = None,
) -> ASGIApp:
    """A raw ASGI app answering every request with `body` (or `chunks`, streamed)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        sized = [] if chunks is not None else [(b"content-length", str(len(body)).encode())]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain"), *sized, *headers],
            }
        )
        if chunks is None:
            await send({"type": "http.response.body", "body": body})
            return
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def http_scope(
    method: str = "GET",
    path: str = "/",
    headers: Iterable[tuple[bytes, bytes]] = (),
    query_string: bytes = b"",
    **extra: Any,
) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(extra)
    return scope


def run_asgi(app: ASGIApp, scope: Scope, incoming: Iterable[Message] = ()) -> list[Message]:
    """Run `app` on `scope`, feeding `incoming` then disconnects; return what it sent."""
    queue = list(incoming) or [{"type": "http.request", "body": b""}]
    sent: list[Message] = []

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        kind = "websocket.disconnect" if scope["type"] == "websocket" else "http.disconnect"
        return {"type": kind, "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await app(scope, receive, send)

    asyncio.run(main())
    return sent


def request(app: ASGIApp, method: str = "GET", url: str = "/", **kwargs: Any) -> httpx.Response:
    """One request through httpx's ASGI transport (real header handling, no socket)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


def headers_of(message: Message) -> dict[bytes, bytes]:
    return {key.lower(): value for key, value in message.get("headers", [])}
