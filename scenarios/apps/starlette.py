"""Starlette: the benchmark endpoints with Starlette's routing and responses.

Same endpoints as `raw.py`. JSON through `JSONResponse` (stdlib json, compact separators),
serialized per request; the echo body through `await request.json()`. The database endpoints
the way Starlette's documentation builds them: an asyncpg pool opened by the lifespan and
handed to requests as `request.state.pool`, fortunes rendered by `Jinja2Templates`
(autoescaping). Without a database (`_db.DATABASE_URL_ENV` unset) they answer 503.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.templating import Jinja2Templates
from starlette.websockets import WebSocket, WebSocketDisconnect

from apps import _db

templates = Jinja2Templates(directory=_db.TEMPLATES)


async def plaintext(request: Request) -> Response:
    return PlainTextResponse("Hello, World!")


async def json_endpoint(request: Request) -> Response:
    return JSONResponse({"message": "Hello, World!"})


async def user(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"]})


async def echo(request: Request) -> Response:
    return JSONResponse(await request.json())


def _state(request: Request, name: str) -> Any:
    # getattr: under a server without lifespan (daphne) the state was never set
    return getattr(request.state, name, None)


def _unavailable() -> Response:
    return PlainTextResponse(_db.NO_DATABASE, status_code=503)


async def single_query(request: Request) -> Response:
    pool = _state(request, "pool")
    if pool is None:
        return _unavailable()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_db.READ_ROW, _db.random_id())
    return JSONResponse({"id": row["id"], "randomNumber": row["randomnumber"]})


async def multiple_queries(request: Request) -> Response:
    pool = _state(request, "pool")
    if pool is None:
        return _unavailable()
    worlds = []
    async with pool.acquire() as conn:
        for row_id in _db.random_ids(_db.clamp(request.query_params.get("queries"))):
            row = await conn.fetchrow(_db.READ_ROW, row_id)
            worlds.append({"id": row["id"], "randomNumber": row["randomnumber"]})
    return JSONResponse(worlds)


async def fortunes(request: Request) -> Response:
    pool = _state(request, "pool")
    if pool is None:
        return _unavailable()
    async with pool.acquire() as conn:
        rows = await conn.fetch(_db.READ_FORTUNES)
    fortunes = _db.with_extra_fortune((row["id"], row["message"]) for row in rows)
    return templates.TemplateResponse(request, _db.FORTUNES_TEMPLATE, {"fortunes": fortunes})


async def updates(request: Request) -> Response:
    pool = _state(request, "pool")
    if pool is None:
        return _unavailable()
    ids = _db.update_ids(_db.clamp(request.query_params.get("queries")))
    changes = [(row_id, random.randint(1, _db.WORLD_ROWS)) for row_id in ids]
    async with pool.acquire() as conn:
        for row_id in ids:
            await conn.fetchrow(_db.READ_ROW, row_id)
        await conn.executemany(_db.WRITE_ROW, changes)
    return JSONResponse([{"id": i, "randomNumber": n} for i, n in changes])


async def cached_queries(request: Request) -> Response:
    cache: dict[int, int] | None = _state(request, "cache")
    if cache is None:
        return _unavailable()
    ids = _db.random_ids(_db.clamp(request.query_params.get("count")))
    return JSONResponse([{"id": i, "randomNumber": cache[i]} for i in ids])


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    url = _db.database_url()
    if url is None:
        yield {"pool": None, "cache": None}
        return
    import asyncpg

    async with asyncpg.create_pool(url, min_size=_db.POOL_SIZE, max_size=_db.POOL_SIZE) as pool:
        async with pool.acquire() as conn:
            cache = {row["id"]: row["randomnumber"] for row in await conn.fetch(_db.READ_ALL_ROWS)}
        yield {"pool": pool, "cache": cache}


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


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_endpoint),
        Route("/users/{id:int}", user),
        Route("/echo", echo, methods=["POST"]),
        Route("/db", single_query),
        Route("/queries", multiple_queries),
        Route("/fortunes", fortunes),
        Route("/updates", updates),
        Route("/cached-queries", cached_queries),
        WebSocketRoute("/ws", ws_echo),
    ],
    lifespan=lifespan,
)
