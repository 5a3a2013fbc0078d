"""Framework-level conformance app on FastAPI (same routes as fw_starlette.py)."""

from __future__ import annotations

from typing import Annotated, Any

from _common import record_ws_disconnect, take_result
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
    return await take_result(token)


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
        record_ws_disconnect(token, exc.code, exc.reason)
