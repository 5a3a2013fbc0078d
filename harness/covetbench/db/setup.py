"""`covet-bench db init`: create and fill World and Fortune, on PostgreSQL or SQLite.

Idempotent: a table that already holds what TechEmpower specifies (World: ids 1..10,000, each
randomNumber in 1..10,000; Fortune: the 12 canonical rows) is left alone, anything else is
emptied and refilled. On PostgreSQL a missing database is created first and the tables are
analyzed, so the planner looks rows up by primary key from the first request on.

    report = init_database("postgresql://postgres@127.0.0.1:5432/covetbench")
    report.world_filled, report.fortune_filled   # True, True the first time; False after
    report.server_pid                            # the local PostgreSQL's postmaster, or None

`server_pid` lets a run charge the database's CPU to the database rather than to "other
processes" (interference): a TechEmpower database test loads PostgreSQL by design.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from covetbench.db.connect import connect_postgresql, open_sqlite, postmaster_pid
from covetbench.db.data import FORTUNES, MAX_RANDOM, WORLD_ROWS
from covetbench.db.url import DatabaseURL, parse_url, server_env
from covetbench.exceptions import DatabaseError

# Unquoted names, so PostgreSQL folds them to `world`, `randomnumber` (TechEmpower's own SQL).
CREATE_WORLD = (
    "CREATE TABLE IF NOT EXISTS world ("
    "id integer NOT NULL PRIMARY KEY, randomNumber integer NOT NULL DEFAULT 0)"
)
CREATE_FORTUNE = (
    "CREATE TABLE IF NOT EXISTS fortune ("
    "id integer NOT NULL PRIMARY KEY, message varchar(2048) NOT NULL)"
)
WORLD_SHAPE = "SELECT count(*), min(id), max(id), min(randomNumber), max(randomNumber) FROM world"
FORTUNE_ROWS = "SELECT id, message FROM fortune ORDER BY id"


@dataclass(frozen=True)
class InitReport:
    """What `init_database` did: which tables it (re)filled."""

    url: str
    backend: str
    world_filled: bool
    fortune_filled: bool
    #: the PostgreSQL server process on this machine (its tree runs every backend); None for
    #: SQLite (in the app's process) and for a database on another machine
    server_pid: int | None = None


@dataclass(frozen=True)
class PreparedDatabase:
    """What servers reading the database need (`env`), and the database's own process."""

    env: dict[str, str]
    server_pid: int | None


def _world_ok(shape: Any) -> bool:
    count, low, high, low_n, high_n = shape
    return (count, low, high) == (WORLD_ROWS, 1, WORLD_ROWS) and (
        low_n is not None and low_n >= 1 and high_n <= MAX_RANDOM
    )


def _world_rows() -> list[tuple[int, int]]:
    return [(i, random.randint(1, MAX_RANDOM)) for i in range(1, WORLD_ROWS + 1)]


async def _init_postgresql(url: DatabaseURL) -> InitReport:
    import asyncpg

    conn = await connect_postgresql(url, create=True)
    try:
        server_pid = postmaster_pid(await conn.fetchval("SELECT pg_backend_pid()"))
        async with conn.transaction():
            await conn.execute(CREATE_WORLD)
            await conn.execute(CREATE_FORTUNE)
            world_filled = not _world_ok(await conn.fetchrow(WORLD_SHAPE))
            if world_filled:
                await conn.execute("TRUNCATE world")
                await conn.copy_records_to_table(
                    "world", records=_world_rows(), columns=["id", "randomnumber"]
                )
            rows = [tuple(r) for r in await conn.fetch(FORTUNE_ROWS)]
            fortune_filled = rows != list(FORTUNES)
            if fortune_filled:
                await conn.execute("TRUNCATE fortune")
                await conn.copy_records_to_table(
                    "fortune", records=list(FORTUNES), columns=["id", "message"]
                )
        await conn.execute("ANALYZE world, fortune")
    except asyncpg.PostgresError as exc:
        raise DatabaseError(f"cannot fill the tables at {url.shown}: {exc}") from exc
    finally:
        await conn.close()
    return InitReport(url.shown, url.backend, world_filled, fortune_filled, server_pid)


async def _init_sqlite(url: DatabaseURL) -> InitReport:
    import sqlite3

    async with open_sqlite(url) as db:
        try:
            await db.execute(CREATE_WORLD)
            await db.execute(CREATE_FORTUNE)
            async with db.execute(WORLD_SHAPE) as cursor:
                world_filled = not _world_ok(await cursor.fetchone())
            if world_filled:
                await db.execute("DELETE FROM world")
                await db.executemany(
                    "INSERT INTO world (id, randomNumber) VALUES (?, ?)", _world_rows()
                )
            async with db.execute(FORTUNE_ROWS) as cursor:
                rows = [tuple(r) for r in await cursor.fetchall()]
            fortune_filled = rows != list(FORTUNES)
            if fortune_filled:
                await db.execute("DELETE FROM fortune")
                await db.executemany("INSERT INTO fortune (id, message) VALUES (?, ?)", FORTUNES)
            await db.commit()
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot fill the tables in {url.shown}: {exc}") from exc
    return InitReport(url.shown, url.backend, world_filled, fortune_filled)


async def init_database_async(text: str) -> InitReport:
    url = parse_url(text)
    if url.is_postgresql:
        return await _init_postgresql(url)
    return await _init_sqlite(url)


def init_database(text: str) -> InitReport:
    """Create (PostgreSQL: the database too) and fill both tables; see the module docstring."""
    return asyncio.run(init_database_async(text))


def prepare_database(text: str) -> PreparedDatabase:
    """Before launching servers that read the database: fill it (idempotent); the environment
    that hands its URL to each of them, and the database's process when it runs here."""
    report = init_database(text)
    return PreparedDatabase(server_env(text), report.server_pid)
