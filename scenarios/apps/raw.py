"""The floor: the benchmark endpoints as one plain ASGI callable, no framework at all.

Every peer app (covet, starlette, fastapi, blacksheep) serves the same endpoints:

    GET  /plaintext       b"Hello, World!"                 text/plain
    GET  /json            {"message":"Hello, World!"}      application/json, built per request
    GET  /users/{id:int}  {"id": id}                       application/json (404 if not an int)
    POST /echo            the JSON body, parsed and re-serialized
    WS   /ws              echoes every text and bytes message
    GET  /db, /queries?queries=N, /fortunes, /updates?queries=N, /cached-queries?count=N
                          TechEmpower's database tests (rules in `_db.py`); 503 without a database

JSON: orjson when installed (the `speed` and `bench` extras install it), else stdlib `json.dumps`
with compact separators; serialized per request as TechEmpower asks. The floor takes the fastest
serializer on offer so that no framework can look cheaper than no framework (covet's own JSON path
also picks orjson; Starlette, FastAPI and BlackSheep use stdlib json: that cost is theirs).
`JSON_SERIALIZER` names the one in use. The server adds `Server` and `Date`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from apps import _db

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PLAINTEXT = b"Hello, World!"
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]
_HTML = [(b"content-type", b"text/html; charset=utf-8")]


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


class _Database:
    """The asyncpg pool (opened by the lifespan when a database is configured) and the
    cached-queries cache (all of World, read once at startup)."""

    pool: Any = None
    cache: dict[int, int] = {}


def _param(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True).get(name)
    return values[0] if values else None


async def _db_endpoint(path: str, scope: Scope, send: Send) -> None:
    pool = _Database.pool
    if pool is None:
        await _respond(send, 503, _TEXT, _db.NO_DATABASE.encode())
        return
    if path == "/db":
        async with pool.acquire() as conn:
            row = await conn.fetchrow(_db.READ_ROW, _db.random_id())
        await _respond(send, 200, _JSON, _dumps({"id": row[0], "randomNumber": row[1]}))
    elif path == "/queries":
        worlds = []
        async with pool.acquire() as conn:
            for row_id in _db.random_ids(_db.clamp(_param(scope, "queries"))):
                row = await conn.fetchrow(_db.READ_ROW, row_id)
                worlds.append({"id": row[0], "randomNumber": row[1]})
        await _respond(send, 200, _JSON, _dumps(worlds))
    elif path == "/fortunes":
        async with pool.acquire() as conn:
            rows = await conn.fetch(_db.READ_FORTUNES)
        fortunes = _db.with_extra_fortune((row[0], row[1]) for row in rows)
        await _respond(send, 200, _HTML, _db.render_fortunes(fortunes).encode())
    elif path == "/updates":
        ids = _db.update_ids(_db.clamp(_param(scope, "queries")))
        updates = [(row_id, random.randint(1, _db.WORLD_ROWS)) for row_id in ids]
        async with pool.acquire() as conn:
            for row_id in ids:
                await conn.fetchrow(_db.READ_ROW, row_id)
            await conn.executemany(_db.WRITE_ROW, updates)
        await _respond(send, 200, _JSON, _dumps([{"id": i, "randomNumber": n} for i, n in updates]))
    else:  # /cached-queries
        ids = _db.random_ids(_db.clamp(_param(scope, "count")))
        cache = _Database.cache
        await _respond(send, 200, _JSON, _dumps([{"id": i, "randomNumber": cache[i]} for i in ids]))


_DB_PATHS = frozenset(("/db", "/queries", "/fortunes", "/updates", "/cached-queries"))


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    path: str = scope["path"]
    method: str = scope["method"]
    if path in _DB_PATHS and method == "GET":
        await _db_endpoint(path, scope, send)
    elif path == "/plaintext" and method == "GET":
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
    elif path in ("/plaintext", "/json", "/echo") or path in _DB_PATHS:
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


async def _open_database() -> None:
    url = _db.database_url()
    if url is None:
        return
    import asyncpg  # only with a database: the app runs without the driver otherwise

    pool = await asyncpg.create_pool(url, min_size=_db.POOL_SIZE, max_size=_db.POOL_SIZE)
    async with pool.acquire() as conn:
        _Database.cache = {row[0]: row[1] for row in await conn.fetch(_db.READ_ALL_ROWS)}
    _Database.pool = pool


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await _open_database()
            except Exception as exc:  # the server reports it and does not start
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _Database.pool is not None:
                await _Database.pool.close()
                _Database.pool = None
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
