"""FastAPI: the benchmark endpoints written the way FastAPI's documentation writes them.

Same endpoints as `raw.py`. `/json` and `/users/{id}` return dicts, so they take FastAPI's
normal path (validation of the path parameter, `jsonable_encoder`, `JSONResponse` with stdlib
json); `/echo` declares a `dict` body, which FastAPI parses and validates.

The database endpoints as FastAPI's documentation builds them: an asyncpg pool opened by the
lifespan on `app.state`, reached through a dependency (`Depends(database)`), which answers 503
when no database is configured; `queries` / `count` declared as optional strings (an int
would turn `foo` into a 422, TechEmpower wants 1); fortunes rendered by `Jinja2Templates`.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates

from apps import _db

templates = Jinja2Templates(directory=_db.TEMPLATES)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = None
    app.state.cache = None
    url = _db.database_url()
    if url is None:
        yield
        return
    import asyncpg

    async with asyncpg.create_pool(url, min_size=_db.POOL_SIZE, max_size=_db.POOL_SIZE) as pool:
        async with pool.acquire() as conn:
            rows = await conn.fetch(_db.READ_ALL_ROWS)
        app.state.cache = {row["id"]: row["randomnumber"] for row in rows}
        app.state.pool = pool
        yield


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)


def database(request: Request) -> Any:
    """The pool, or 503 when the app runs without a database."""
    pool = getattr(request.app.state, "pool", None)
    if pool is None:
        raise HTTPException(status_code=503, detail=_db.NO_DATABASE)
    return pool


Pool = Annotated[Any, Depends(database)]


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


@app.get("/db")
async def single_query(pool: Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_db.READ_ROW, _db.random_id())
    return {"id": row["id"], "randomNumber": row["randomnumber"]}


@app.get("/queries")
async def multiple_queries(pool: Pool, queries: str | None = None) -> list[dict[str, int]]:
    worlds = []
    async with pool.acquire() as conn:
        for row_id in _db.random_ids(_db.clamp(queries)):
            row = await conn.fetchrow(_db.READ_ROW, row_id)
            worlds.append({"id": row["id"], "randomNumber": row["randomnumber"]})
    return worlds


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes(request: Request, pool: Pool) -> HTMLResponse:
    async with pool.acquire() as conn:
        rows = await conn.fetch(_db.READ_FORTUNES)
    fortunes = _db.with_extra_fortune((row["id"], row["message"]) for row in rows)
    return templates.TemplateResponse(request, _db.FORTUNES_TEMPLATE, {"fortunes": fortunes})


@app.get("/updates")
async def updates(pool: Pool, queries: str | None = None) -> list[dict[str, int]]:
    ids = _db.update_ids(_db.clamp(queries))
    changes = [(row_id, random.randint(1, _db.WORLD_ROWS)) for row_id in ids]
    async with pool.acquire() as conn:
        for row_id in ids:
            await conn.fetchrow(_db.READ_ROW, row_id)
        await conn.executemany(_db.WRITE_ROW, changes)
    return [{"id": i, "randomNumber": n} for i, n in changes]


@app.get("/cached-queries")
async def cached_queries(request: Request, pool: Pool, count: str | None = None) -> Any:
    cache: dict[int, int] = request.app.state.cache
    return [{"id": i, "randomNumber": cache[i]} for i in _db.random_ids(_db.clamp(count))]


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
