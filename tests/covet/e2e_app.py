"""The example covet app `test_servers_e2e.py` serves under every real ASGI server.

    python -m uvicorn e2e_app:app        # from tests/covet/

Routing with typed parameters, JSON in and out, each error status, a WebSocket echo that closes
with a custom code and reason, and lifespan state. Set `COVET_E2E_SHUTDOWN_FILE` to a path and
the lifespan's shutdown writes "shutdown" there, so a test can see shutdown ran.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from covet import Covet, HTTPException, PlainTextResponse, Request, WebSocket, WebSocketDisconnect
from covet.formparsers import UploadFile
from covet.middleware import GZipMiddleware

CLOSE_CODE = 4001
CLOSE_REASON = "bye from covet"
# The close code of the last WebSocket the client closed, for /ws/last-close.
_last_client_close: dict[str, Any] = {}


@contextlib.asynccontextmanager
async def lifespan(app: Covet) -> AsyncIterator[dict[str, Any]]:
    yield {"boot_id": uuid.uuid4().hex, "greeting": "hello from lifespan"}
    target = os.environ.get("COVET_E2E_SHUTDOWN_FILE")
    if target:
        Path(target).write_text("shutdown")


app = Covet(lifespan=lifespan)
app.add_middleware(GZipMiddleware, minimum_size=1000)


@app.get("/users/{user_id:int}", name="user")
async def user(request: Request) -> dict[str, Any]:
    user_id = request.path_params["user_id"]
    return {
        "id": user_id,
        "type": type(user_id).__name__,
        "url": request.url_for("user", user_id=user_id).path,
    }


@app.get("/price/{amount:float}")
async def price(request: Request) -> dict[str, Any]:
    return {"amount": request.path_params["amount"]}


@app.get("/files/{rest:path}")
async def files(request: Request) -> dict[str, Any]:
    return {"path": request.path_params["rest"], "q": request.query_params.getlist("q")}


@app.post("/echo")
async def echo(request: Request) -> Any:
    return {"received": await request.json()}


@app.post("/upload")
async def upload(request: Request) -> dict[str, Any]:
    form = await request.form(max_file_size=3 * 1024 * 1024)
    result: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            result[name] = {"filename": value.filename, "size": len(data), "sum": sum(data) % 65521}
        else:
            result[name] = value
    await form.close()
    return result


@app.get("/text")
async def text(request: Request) -> str:
    return "plain text"


@app.get("/big")
async def big(request: Request) -> PlainTextResponse:
    return PlainTextResponse("covet " * 1000)


@app.get("/teapot")
async def teapot(request: Request) -> None:
    raise HTTPException(418, detail="short and stout")


@app.get("/boom")
async def boom(request: Request) -> None:
    raise RuntimeError("secret internals must not leak")


@app.get("/state")
async def state(request: Request) -> dict[str, Any]:
    return {
        "boot_id": getattr(request.state, "boot_id", None),
        "greeting": getattr(request.state, "greeting", None),
    }


@app.websocket("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_text()
            if message == "close":
                await websocket.close(code=CLOSE_CODE, reason=CLOSE_REASON)
                return
            await websocket.send_text(f"echo: {message}")
    except WebSocketDisconnect as exc:
        _last_client_close.update(code=exc.code, reason=exc.reason)


@app.websocket("/ws/proto")
async def ws_proto(websocket: WebSocket) -> None:
    offered = websocket.scope.get("subprotocols", [])
    chosen = "chat.v1" if "chat.v1" in offered else None
    await websocket.accept(subprotocol=chosen, headers=[(b"x-covet", b"yes")])
    await websocket.send_json({"offered": offered})
    await websocket.close()


@app.websocket("/ws/deny")
async def ws_deny(websocket: WebSocket) -> None:
    # A 401 through the denial-response extension; a plain close (403) where there is none.
    await websocket.send_denial_response(PlainTextResponse("no entry", status_code=401))


@app.get("/ws/last-close")
async def last_close(request: Request) -> dict[str, Any]:
    return dict(_last_client_close)
