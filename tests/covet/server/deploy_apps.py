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
    """Answers what it saw as JSON (`/slow` first waits 0.5 s and marks its start in the file
    named by COVET_TEST_MARKER); a WebSocket is accepted, then each text message is answered
    with the scope seen plus the text."""
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
    if scope["path"] == "/slow":
        marker = os.environ.get("COVET_TEST_MARKER")
        if marker:
            with open(marker, "a") as f:
                f.write("slow-start\n")
        await asyncio.sleep(0.5)
    payload = json.dumps(dict(_seen(scope), body=len(body))).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
