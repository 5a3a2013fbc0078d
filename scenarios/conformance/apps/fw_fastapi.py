"""Framework-level conformance app on FastAPI (same routes as fw_starlette.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from _fw_store import RESULTS
from fastapi import Body, FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()


@app.get("/items")
async def items() -> dict[str, bool]:
    return {"ok": True}


@app.post("/create")
async def create(payload: Annotated[Any, Body()]) -> Any:
    return payload


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("conformance-secret-detail")


@app.get("/results/{token}")
async def results(token: str) -> dict[str, Any]:
    for _ in range(60):
        if token in RESULTS:
            return {"found": True, "value": RESULTS.pop(token)}
        await asyncio.sleep(0.05)
    return {"found": False}


@app.websocket("/ws/close")
async def ws_close(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close(code=4000, reason="fw-bye")


@app.websocket("/ws/record")
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
