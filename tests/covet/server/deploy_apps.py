"""Apps the deployment tests serve in a subprocess (`tests.covet.server.deploy_apps:...`)."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from covet.server.types import Receive, Scope, Send


def _seen(scope: Scope) -> dict[str, Any]:
    headers = dict(scope["headers"])
    client = scope.get("client")
    return {
        "scheme": scope["scheme"],
        "client": list(client) if client else None,
        "host": headers.get(b"host", b"").decode("latin-1"),
        "path": scope["path"],
        "pid": os.getpid(),
    }


async def scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers what it saw as JSON (`.../slow` first waits 0.5 s; every request's path is
    appended to the file named by COVET_TEST_MARKER, when set); a WebSocket is accepted, then
    each text message is answered with the scope seen plus the text."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            reply = dict(_seen(scope), text=message.get("text"))
            await send({"type": "websocket.send", "text": json.dumps(reply)})
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    marker = os.environ.get("COVET_TEST_MARKER")
    if marker:
        with open(marker, "a") as f:
            f.write(f"seen {scope['path']}\n")
    if scope["path"].endswith("/slow"):
        await asyncio.sleep(0.5)
    payload = json.dumps(dict(_seen(scope), body=len(body))).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _metrics_app() -> Any:
    from covet import Covet
    from covet.middleware import MetricsMiddleware, RequestIDMiddleware
    from covet.routing import Router

    app = Covet()

    @app.get("/users/{user_id:int}")
    async def user(request: Any) -> dict[str, int]:
        return {"id": request.path_params["user_id"]}

    @app.get("/slow")
    async def slow() -> str:
        await asyncio.sleep(0.5)
        return "slow"

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("boom")

    @app.websocket("/ws")
    async def ws(websocket: Any) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(text)
        await websocket.close()

    api = Router()

    async def item(request: Any) -> Any:
        from covet.responses import PlainTextResponse

        return PlainTextResponse(str(request.path_params["name"]))

    api.add_route("/items/{name}", item)
    app.mount("/api", api)
    app.add_middleware(RequestIDMiddleware)
    app.add_middleware(MetricsMiddleware)
    return app


metrics_app = _metrics_app()
