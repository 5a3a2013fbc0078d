"""Framework-level conformance app on Starlette: routing errors, HEAD, JSON errors, WebSocket
close codes through the framework API. Same routes as fw_fastapi.py and fw_covet.py."""

from __future__ import annotations

import asyncio

from _fw_store import RESULTS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


async def items(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def create(request: Request) -> Response:
    return JSONResponse(await request.json())


async def boom(request: Request) -> Response:
    raise RuntimeError("conformance-secret-detail")


async def results(request: Request) -> Response:
    token = request.path_params["token"]
    for _ in range(60):
        if token in RESULTS:
            return JSONResponse({"found": True, "value": RESULTS.pop(token)})
        await asyncio.sleep(0.05)
    return JSONResponse({"found": False})


async def ws_close(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close(code=4000, reason="fw-bye")


async def ws_record(websocket: WebSocket) -> None:
    token = websocket.query_params.get("token", "")
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect as exc:
        RESULTS[token] = {
            "events": [{"type": "websocket.disconnect", "code": exc.code, "reason": exc.reason}]
        }


app = Starlette(
    routes=[
        Route("/items", items, methods=["GET"]),
        Route("/create", create, methods=["POST"]),
        Route("/boom", boom),
        Route("/results/{token}", results),
        WebSocketRoute("/ws/close", ws_close),
        WebSocketRoute("/ws/record", ws_record),
    ]
)
