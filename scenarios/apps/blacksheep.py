"""BlackSheep: the benchmark endpoints with BlackSheep's router and response helpers.

Same endpoints as `raw.py`. JSON through `blacksheep.json` (its default serializer: stdlib json
via `essentials.json`, compact separators), serialized per request. The application starts
itself on the ASGI lifespan startup event, or on its first request under a server without
lifespan (daphne).

The database endpoints with an asyncpg pool opened by `@app.lifespan` (BlackSheep's start and
stop events), fortunes rendered by a Jinja2 environment with autoescaping and sent with
BlackSheep's `html` helper. Without a database (`_db.DATABASE_URL_ENV` unset) they answer 503.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any, cast

import jinja2
from blacksheep import Application, Request, Response, WebSocket, html, json, text
from blacksheep.server.websocket import WebSocketDisconnectError

from apps import _db

app = Application()
get = app.router.get
post = app.router.post
templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_db.TEMPLATES), autoescape=True, auto_reload=False
)
fortunes_template = templates.get_template(_db.FORTUNES_TEMPLATE)


class Database:
    """The pool and the cached-queries cache, set by the lifespan when a database is given."""

    pool: Any = None
    cache: dict[int, int] = {}


async def database_lifespan() -> AsyncIterator[None]:
    url = _db.database_url()
    if url is None:
        yield
        return
    import asyncpg

    async with asyncpg.create_pool(url, min_size=_db.POOL_SIZE, max_size=_db.POOL_SIZE) as pool:
        async with pool.acquire() as conn:
            rows = await conn.fetch(_db.READ_ALL_ROWS)
        Database.cache = {row["id"]: row["randomnumber"] for row in rows}
        Database.pool = pool
        yield
        Database.pool = None


# entered on BlackSheep's start event, left on its stop event (`lifespan` has no annotations)
cast(Any, app).lifespan(database_lifespan)


def _param(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _unavailable() -> Response:
    return text(_db.NO_DATABASE, status=503)


@get("/plaintext")
async def plaintext() -> Response:
    return text("Hello, World!")


@get("/json")
async def json_endpoint() -> Response:
    return json({"message": "Hello, World!"})


@get("/users/{int:id}")
async def user(id: int) -> Response:
    return json({"id": id})


@post("/echo")
async def echo(request: Request) -> Response:
    payload: Any = await request.json()
    return json(payload)


@get("/db")
async def single_query() -> Response:
    if Database.pool is None:
        return _unavailable()
    async with Database.pool.acquire() as conn:
        row = await conn.fetchrow(_db.READ_ROW, _db.random_id())
    return json({"id": row["id"], "randomNumber": row["randomnumber"]})


@get("/queries")
async def multiple_queries(request: Request) -> Response:
    if Database.pool is None:
        return _unavailable()
    worlds = []
    async with Database.pool.acquire() as conn:
        for row_id in _db.random_ids(_db.clamp(_param(request, "queries"))):
            row = await conn.fetchrow(_db.READ_ROW, row_id)
            worlds.append({"id": row["id"], "randomNumber": row["randomnumber"]})
    return json(worlds)


@get("/fortunes")
async def fortunes() -> Response:
    if Database.pool is None:
        return _unavailable()
    async with Database.pool.acquire() as conn:
        rows = await conn.fetch(_db.READ_FORTUNES)
    fortunes = _db.with_extra_fortune((row["id"], row["message"]) for row in rows)
    return html(fortunes_template.render(fortunes=fortunes))


@get("/updates")
async def updates(request: Request) -> Response:
    if Database.pool is None:
        return _unavailable()
    ids = _db.update_ids(_db.clamp(_param(request, "queries")))
    changes = [(row_id, random.randint(1, _db.WORLD_ROWS)) for row_id in ids]
    async with Database.pool.acquire() as conn:
        for row_id in ids:
            await conn.fetchrow(_db.READ_ROW, row_id)
        await conn.executemany(_db.WRITE_ROW, changes)
    return json([{"id": i, "randomNumber": n} for i, n in changes])


@get("/cached-queries")
async def cached_queries(request: Request) -> Response:
    if Database.pool is None:
        return _unavailable()
    ids = _db.random_ids(_db.clamp(_param(request, "count")))
    return json([{"id": i, "randomNumber": Database.cache[i]} for i in ids])


@app.router.ws("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            data = message.get("text")
            if isinstance(data, str):
                await websocket.send_text(data)
            else:
                raw = message.get("bytes")
                await websocket.send_bytes(raw if isinstance(raw, bytes) else b"")
    except WebSocketDisconnectError:
        return
