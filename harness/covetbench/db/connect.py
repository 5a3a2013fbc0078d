"""Opening the benchmark database: asyncpg or aiosqlite behind a guard, errors naming the URL.

conn = await connect_postgresql(parse_url(URL))      # DatabaseError if unreachable
async with open_sqlite(parse_url("sqlite:///x.db")) as db: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psutil

from covetbench.db.url import DatabaseURL
from covetbench.exceptions import DatabaseError

#: seconds to wait for PostgreSQL to accept a connection
CONNECT_TIMEOUT_S = 5.0
_EXTRA_HINT = "pip install 'covetpy[bench]' (asyncpg and aiosqlite)"


def _asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError as exc:
        raise DatabaseError(f"PostgreSQL needs asyncpg: {_EXTRA_HINT}") from exc
    return asyncpg


def _aiosqlite() -> Any:
    try:
        import aiosqlite
    except ImportError as exc:
        raise DatabaseError(f"SQLite needs aiosqlite: {_EXTRA_HINT}") from exc
    return aiosqlite


async def connect_postgresql(url: DatabaseURL, *, create: bool = False) -> Any:
    """An asyncpg connection to `url`. `create`: a missing database is created first (on the
    same server's `postgres` database). DatabaseError naming the URL when it cannot connect."""
    asyncpg = _asyncpg()
    try:
        return await asyncpg.connect(url.text, timeout=CONNECT_TIMEOUT_S)
    except asyncpg.InvalidCatalogNameError:
        if not create:
            raise DatabaseError(
                f"database {url.database!r} does not exist at {url.shown}: "
                f"run `covet-bench db init --url {url.shown}`"
            ) from None
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(
            f"PostgreSQL at {url.shown} is unreachable: {type(exc).__name__}: {exc}"
        ) from exc
    await _create_database(url)
    return await connect_postgresql(url)


async def _create_database(url: DatabaseURL) -> None:
    asyncpg = _asyncpg()
    try:
        admin = await asyncpg.connect(url.maintenance, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(
            f"cannot create {url.database!r}: PostgreSQL at {url.shown} is unreachable through "
            f"its 'postgres' database: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        # An identifier cannot be a query parameter: quote it as PostgreSQL's quote_ident does.
        quoted = await admin.fetchval("SELECT quote_ident($1)", url.database)
        await admin.execute(f"CREATE DATABASE {quoted}")
    except asyncpg.DuplicateDatabaseError:
        pass  # created meanwhile by someone else: fine
    except asyncpg.PostgresError as exc:
        raise DatabaseError(
            f"cannot create database {url.database!r} at {url.shown}: {exc}"
        ) from exc
    finally:
        await admin.close()


@asynccontextmanager
async def open_sqlite(url: DatabaseURL) -> AsyncIterator[Any]:
    """An aiosqlite connection to the file of `url` (its directory must exist)."""
    aiosqlite = _aiosqlite()
    path = Path(url.database)
    if not path.parent.is_dir():
        raise DatabaseError(f"database URL {url.shown}: directory {path.parent} does not exist")
    try:
        db = await aiosqlite.connect(str(path))
    except Exception as exc:  # aiosqlite raises sqlite3.Error subclasses and OSError
        raise DatabaseError(f"cannot open SQLite database {url.shown}: {exc}") from exc
    try:
        yield db
    finally:
        await db.close()


def postmaster_pid(backend_pid: int) -> int | None:
    """The PostgreSQL server process that forked backend `backend_pid` (`pg_backend_pid()`),
    when that backend runs on this machine; None otherwise (another host, another PID
    namespace, a proxy in between)."""
    try:
        backend = psutil.Process(backend_pid)
        parent = backend.parent()
        if parent is None or not backend.name().startswith("postgres"):
            return None
        return int(parent.pid)
    except psutil.Error:
        return None
