"""The floor: the benchmark endpoints as one plain ASGI callable, no framework at all.

Every peer app (covet, starlette, fastapi, blacksheep) serves the same endpoints:

    GET  /plaintext       b"Hello, World!"                 text/plain
    GET  /json            {"message":"Hello, World!"}      application/json, built per request
    GET  /users/{id:int}  {"id": id}                       application/json (404 if not an int)
    POST /echo            the JSON body, parsed and re-serialized
    WS   /ws              echoes every text and bytes message

JSON: orjson when installed (the `speed` and `bench` extras install it), else stdlib `json.dumps`
with compact separators; serialized per request as TechEmpower asks. The floor takes the fastest
serializer on offer so that no framework can look cheaper than no framework (covet's own JSON path
also picks orjson; Starlette, FastAPI and BlackSheep use stdlib json: that cost is theirs).
`JSON_SERIALIZER` names the one in use. The server adds `Server` and `Date`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PLAINTEXT = b"Hello, World!"
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]


try:
    import orjson

    JSON_SERIALIZER = "orjson"

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # stdlib fallback: the app must run without extras
    JSON_SERIALIZER = "json"

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    path: str = scope["path"]
    method: str = scope["method"]
    if path == "/plaintext" and method == "GET":
        await _respond(send, 200, _TEXT, PLAINTEXT)
    elif path == "/json" and method == "GET":
        await _respond(send, 200, _JSON, _dumps({"message": "Hello, World!"}))
    elif path.startswith("/users/") and method == "GET":
        raw_id = path[len("/users/") :]
        if raw_id.isascii() and raw_id.isdigit():
            await _respond(send, 200, _JSON, _dumps({"id": int(raw_id)}))
        else:
            await _respond(send, 404, _TEXT, b"Not Found")
    elif path == "/echo" and method == "POST":
        body = await _read_body(receive)
        try:
            data = json.loads(body)
        except ValueError:
            await _respond(send, 400, _TEXT, b"Invalid JSON")
            return
        await _respond(send, 200, _JSON, _dumps(data))
    elif path in ("/plaintext", "/json", "/echo"):
        await _respond(send, 405, _TEXT, b"Method Not Allowed")
    else:
        await _respond(send, 404, _TEXT, b"Not Found")


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if scope["path"] != "/ws":
        await send({"type": "websocket.close", "code": 1000})
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
