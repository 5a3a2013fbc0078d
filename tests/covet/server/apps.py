"""ASGI apps the end-to-end server tests serve in a subprocess (`tests.covet.server.apps:...`)."""

from __future__ import annotations

import asyncio
import os

from covet.server.types import Receive, Scope, Send


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """`/pid` answers the worker's pid, `/slow` waits 0.5 s, lifespan writes marker files."""
    if scope["type"] == "lifespan":
        marker = os.environ.get("COVET_TEST_MARKER")
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["started"] = "yes"
                await send({"type": "lifespan.startup.complete"})
            else:
                if marker:
                    with open(marker, "a") as f:
                        f.write(f"shutdown {os.getpid()}\n")
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/slow":
        marker = os.environ.get("COVET_TEST_MARKER")
        if marker:
            with open(marker, "a") as f:
                f.write("slow-start\n")
        await asyncio.sleep(0.5)
    if path == "/pid":
        body = str(os.getpid()).encode()
    elif path == "/state":
        body = scope["state"].get("started", "no").encode()
    else:
        body = b"Hello, World!"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


BIG = b"x" * 100_000


async def flow_app(scope: Scope, receive: Receive, send: Send) -> None:
    """`/echo` reads the whole body and echoes it, `/big` is 100 KB, anything else is a 404
    answered without reading the body (the early answer that leaves a body owed)."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/echo":
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status = 200
    elif path == "/big":
        body, status = BIG, 200
    else:
        body, status = b"not found", 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


def _starlette_app() -> object:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello starlette")

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"got": (await request.body()).decode(), "path": request.url.path})

    async def stream(request: Request) -> StreamingResponse:
        async def parts() -> object:
            for i in range(3):
                yield f"part{i};"

        return StreamingResponse(parts())  # type: ignore[arg-type]

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(text.upper())
        await websocket.close()

    routes = [
        Route("/", hello),
        Route("/echo", echo, methods=["POST"]),
        Route("/stream", stream),
        WebSocketRoute("/ws", ws),
    ]
    return Starlette(routes=routes)


def _fastapi_app() -> object:
    from fastapi import FastAPI

    api = FastAPI()

    @api.get("/items/{item_id}")
    def item(item_id: int, q: str | None = None) -> dict[str, object]:
        return {"item_id": item_id, "q": q}

    return api


starlette_app = _starlette_app()
fastapi_app = _fastapi_app()
