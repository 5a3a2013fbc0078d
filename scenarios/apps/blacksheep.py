"""BlackSheep: the benchmark endpoints with BlackSheep's router and response helpers.

Same endpoints as `raw.py`. JSON through `blacksheep.json` (its default serializer: stdlib json
via `essentials.json`, compact separators), serialized per request. The application starts
itself on the ASGI lifespan startup event, or on its first request under a server without
lifespan (daphne).
"""

from __future__ import annotations

from typing import Any

from blacksheep import Application, Request, Response, WebSocket, json, text
from blacksheep.server.websocket import WebSocketDisconnectError

app = Application()
get = app.router.get
post = app.router.post


@get("/plaintext")
async def plaintext() -> Response:
    return text("Hello, World!")


@get("/json")
async def json_endpoint() -> Response:
    return json({"message": "Hello, World!"})


@get("/users/{int:id}")
async def user(id: int) -> Response:
    return json({"id": id})


@post("/echo")
async def echo(request: Request) -> Response:
    payload: Any = await request.json()
    return json(payload)


@app.router.ws("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            data = message.get("text")
            if isinstance(data, str):
                await websocket.send_text(data)
            else:
                raw = message.get("bytes")
                await websocket.send_bytes(raw if isinstance(raw, bytes) else b"")
    except WebSocketDisconnectError:
        return
