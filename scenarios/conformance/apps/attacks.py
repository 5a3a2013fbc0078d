"""Routes the robustness checks attack: a large resource to pipeline, a path that records it
was served (so a smuggled request is seen even when its response never reaches the client),
and a WebSocket route that never accepts."""

from __future__ import annotations

import asyncio

from _common import RESULTS, Receive, Scope, Send, query_param, send_body

#: the bytes of GET /big, built once: the flood must cost the server, not the app
_BIG: dict[int, bytes] = {}
#: where a smuggled request for /smuggled/TOKEN is recorded, read back by /results/TOKEN
SMUGGLED_PREFIX = "/smuggled/"


async def big(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /big?size=N: N bytes (default 100 KB) with a Content-Length."""
    size = min(int(query_param(scope, "size", "102400") or 102400), 8 * 1024 * 1024)
    body = _BIG.get(size)
    if body is None:
        body = _BIG[size] = b"x" * size
    await send_body(send, body)


async def smuggled(scope: Scope, receive: Receive, send: Send) -> None:
    """/smuggled/TOKEN: record that this path was executed as a request, answer distinctively."""
    token = scope["path"][len(SMUGGLED_PREFIX) :]
    RESULTS[token] = {"served": scope["path"], "method": scope.get("method")}
    await send_body(send, b"SMUGGLED-REQUEST-EXECUTED " + token.encode())


async def never_accept(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/never-accept: take the connect event, then neither answer it nor read again
    (bounded at 60 s), so whatever the client sends meanwhile is the server's to bound."""
    await receive()
    await asyncio.sleep(60.0)
    await send({"type": "websocket.close", "code": 1000})
