"""covet: the benchmark endpoints with covet's public API.

Same endpoints as `raw.py`. Handlers return dicts, covet's normal JSON path (orjson when
installed, else stdlib json with compact separators), serialized per request; `/plaintext`
returns a `PlainTextResponse`.

The database endpoints with covet's own parts: `covet.db.Database` (an asyncpg pool for
`postgresql://`, aiosqlite for `sqlite:///`, opened by the lifespan; an unreachable database
is a 503) and `covet.templating.Jinja2Templates` (autoescaping) for fortunes. Without a
database (`_db.DATABASE_URL_ENV` unset) they answer 503.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from apps import _db
from covet import Covet, PlainTextResponse, Request, Response, WebSocket, WebSocketDisconnect
from covet.db import Database
from covet.templating import Jinja2Templates

_url = _db.database_url()
db = Database(_url, min_size=_db.POOL_SIZE, max_size=_db.POOL_SIZE) if _url else None
templates = Jinja2Templates(directory=_db.TEMPLATES)
#: all of World, read once at startup, for /cached-queries
cache: dict[int, int] = {}


@asynccontextmanager
async def lifespan(app: Covet) -> AsyncIterator[None]:
    if db is None:
        yield
        return
    async with db:
        cache.update((row[0], row[1]) for row in await db.fetch(_db.READ_ALL_ROWS))
        yield


app = Covet(lifespan=lifespan)


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


def _unavailable() -> Response:
    return PlainTextResponse(_db.NO_DATABASE, status_code=503)


@app.get("/db")
async def single_query(request: Request) -> Any:
    if db is None:
        return _unavailable()
    row = await db.fetchrow(_db.READ_ROW, _db.random_id())
    assert row is not None  # ids 1..10,000 all exist
    return {"id": row[0], "randomNumber": row[1]}


@app.get("/queries")
async def multiple_queries(request: Request) -> Any:
    if db is None:
        return _unavailable()
    worlds = []
    async with db.connection() as conn:
        for row_id in _db.random_ids(_db.clamp(request.query_params.get("queries"))):
            row = await conn.fetchrow(_db.READ_ROW, row_id)
            assert row is not None
            worlds.append({"id": row[0], "randomNumber": row[1]})
    return worlds


@app.get("/fortunes")
async def fortunes(request: Request) -> Response:
    if db is None:
        return _unavailable()
    rows = await db.fetch(_db.READ_FORTUNES)
    fortunes = _db.with_extra_fortune((row[0], row[1]) for row in rows)
    return templates.TemplateResponse(request, _db.FORTUNES_TEMPLATE, {"fortunes": fortunes})


@app.get("/updates")
async def updates(request: Request) -> Any:
    if db is None:
        return _unavailable()
    ids = _db.update_ids(_db.clamp(request.query_params.get("queries")))
    changes = [(row_id, random.randint(1, _db.WORLD_ROWS)) for row_id in ids]
    async with db.connection() as conn:
        for row_id in ids:
            await conn.fetchrow(_db.READ_ROW, row_id)
        await conn.executemany(_db.WRITE_ROW, changes)
    return [{"id": i, "randomNumber": n} for i, n in changes]


@app.get("/cached-queries")
async def cached_queries(request: Request) -> Any:
    if db is None:
        return _unavailable()
    ids = _db.random_ids(_db.clamp(request.query_params.get("count")))
    return [{"id": i, "randomNumber": cache[i]} for i in ids]


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
