"""FastAPI: the benchmark endpoints written the way FastAPI's documentation writes them.

Same endpoints as `raw.py`. `/json` and `/users/{id}` return dicts, so they take FastAPI's
normal path (validation of the path parameter, `jsonable_encoder`, `JSONResponse` with stdlib
json); `/echo` declares a `dict` body, which FastAPI parses and validates.
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id}")
async def user(id: int) -> dict[str, int]:
    return {"id": id}


@app.post("/echo")
async def echo(payload: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
    return payload


@app.websocket("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message.get("bytes") or b"")
    except WebSocketDisconnect:
        return
