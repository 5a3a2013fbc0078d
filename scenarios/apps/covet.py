"""covet: the benchmark endpoints with covet's public API.

Same endpoints as `raw.py`. Handlers return dicts, covet's normal JSON path (orjson when
installed, else stdlib json with compact separators), serialized per request; `/plaintext`
returns a `PlainTextResponse`.
"""

from __future__ import annotations

from covet import Covet, PlainTextResponse, Request, Response, WebSocket, WebSocketDisconnect

app = Covet()


@app.get("/plaintext")
async def plaintext(request: Request) -> Response:
    return PlainTextResponse("Hello, World!")


@app.get("/json")
async def json_endpoint(request: Request) -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
async def user(request: Request) -> dict[str, int]:
    return {"id": request.path_params["id"]}


@app.post("/echo")
async def echo(request: Request) -> object:
    return await request.json()


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
