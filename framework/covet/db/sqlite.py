"""The SQLite backend: aiosqlite connections in a small pool, ``$N`` rewritten as ``?N``.

SQLite is the embedded default: no server, a file (or memory). aiosqlite runs each connection in
its own thread, so a few connections let reads overlap; writers still take turns (SQLite has
one writer at a time, and ``busy_timeout`` makes them wait instead of failing). File databases
use WAL journaling so readers do not block the writer. ``sqlite:///:memory:`` is one private
database per connection, so it gets exactly one connection, kept for the pool's whole life.

Connections run in autocommit mode (``isolation_level=None``): a statement outside a
transaction commits by itself, and transactions are opened explicitly with ``BEGIN IMMEDIATE``
(take the write lock up front, so two transactions that read then write cannot deadlock).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from covet.db.backend import Backend, Isolation, raise_translated
from covet.db.exceptions import (
    DatabaseError,
    DatabaseUnavailable,
    IntegrityError,
    NotConnectedError,
    QueryError,
)
from covet.db.placeholders import to_sqlite
from covet.db.rows import Record, row_factory
from covet.exceptions import MissingDependencyError

__all__ = ["SQLiteBackend", "translate"]

# sqlite3.OperationalError messages that mean "cannot get at the database now", not "the SQL is
# wrong": answered 503 like an unreachable PostgreSQL.
_UNAVAILABLE_MESSAGES = (
    "database is locked",
    "unable to open database",
    "disk i/o error",
    "database or disk is full",
)
# Seconds to wait for a failed connection's worker thread (it only closes and returns).
_REAP_TIMEOUT_S = 5.0


def _aiosqlite() -> Any:
    try:
        import aiosqlite
    except ImportError as exc:
        raise MissingDependencyError("covet.db (sqlite:// URLs)", "aiosqlite", "db") from exc
    return aiosqlite


def translate(exc: BaseException, where: str) -> DatabaseError | None:
    """The covet.db error for a sqlite3 error; None for non-database errors."""
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(str(exc))
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc)
        if message.lower().startswith(_UNAVAILABLE_MESSAGES):
            return DatabaseUnavailable(f"{where}: {message}")
        return QueryError(message)
    if isinstance(exc, sqlite3.Error):  # ProgrammingError (bindings), DataError, ...
        return QueryError(str(exc))
    if isinstance(exc, ValueError) and "no active connection" in str(exc):  # aiosqlite, closed
        return NotConnectedError(f"the SQLite connection to {where} is closed")
    return None


class SQLiteBackend(Backend):
    """aiosqlite connections, at most ``max_size`` (one for ``:memory:``), opened on demand.

    ``driver_options`` go to ``aiosqlite.connect`` (``sqlite3.connect``'s keywords, e.g.
    ``cached_statements``); ``timeout`` is also SQLite's busy timeout.
    """

    dialect = "sqlite"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._path = self.url.sqlite_path
        self._memory = self.url.is_memory
        self._max = 1 if self._memory else self.options.max_size
        self._idle: list[Any] = []
        self._slots: asyncio.Semaphore | None = None
        self._closing = False

    async def _connect(self) -> Any:
        aiosqlite = _aiosqlite()
        options: dict[str, Any] = {"timeout": self.options.timeout, "isolation_level": None}
        options.update(self.options.driver_options)
        pending = aiosqlite.connect(self._path, **options)
        try:
            raw = await pending
        except Exception as exc:
            await _reap(pending)
            raise_translated(exc, translate(exc, str(self.url)))
        raw.row_factory = row_factory
        try:
            # execute_fetchall steps each statement to its end: an unfinished PRAGMA would
            # hold a read lock and make every other connection wait for it.
            await raw.execute_fetchall("PRAGMA foreign_keys = ON")
            if not self._memory:
                await raw.execute_fetchall("PRAGMA journal_mode = WAL")
        except Exception as exc:
            await raw.close()
            raise_translated(exc, translate(exc, str(self.url)))
        return raw

    async def open(self) -> None:
        self._closing = False
        self._slots = asyncio.Semaphore(self._max)
        for _ in range(max(1, min(self.options.min_size, self._max))):
            self._idle.append(await self._connect())

    async def close(self) -> None:
        self._closing = True
        self._slots = None
        idle, self._idle = self._idle, []
        for raw in idle:
            await raw.close()

    async def acquire(self) -> Any:
        slots = self._slots
        if slots is None:
            raise NotConnectedError(f"the database {self.url} is not connected")
        try:
            await asyncio.wait_for(slots.acquire(), self.options.timeout)
        except TimeoutError as exc:
            busy = DatabaseUnavailable(
                f"{self.url}: no free connection within {self.options.timeout} s "
                f"(max_size={self._max})"
            )
            raise_translated(exc, busy)
        try:
            return self._idle.pop() if self._idle else await self._connect()
        except BaseException:
            slots.release()
            raise

    async def release(self, raw: Any, broken: bool = False) -> None:
        if not broken and raw.in_transaction:
            # Left inside a transaction (a task cancelled mid-block, a BEGIN sent by hand):
            # end it here, as asyncpg's pool does, so the next borrower starts clean.
            try:
                await raw.execute_fetchall("ROLLBACK")
            except Exception:  # noqa: BLE001 - whatever went wrong, do not reuse it
                broken = True
        slots = self._slots
        if self._closing or slots is None or (broken and not self._memory):
            await raw.close()  # a broken file connection is replaced by a fresh one later
        else:
            self._idle.append(raw)
        if slots is not None:
            slots.release()

    def begin_sql(self, isolation: Isolation | None) -> str:
        super().begin_sql(isolation)  # validates the name; SQLite is always serializable
        return "BEGIN IMMEDIATE"

    # -- one statement on a raw connection -------------------------------------------------

    async def fetch(self, raw: Any, sql: str, args: Sequence[Any]) -> list[Record]:
        try:
            return list(await raw.execute_fetchall(to_sqlite(sql), args))
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def fetchrow(self, raw: Any, sql: str, args: Sequence[Any]) -> Record | None:
        try:
            cursor = await raw.execute(to_sqlite(sql), args)
            try:
                return await cursor.fetchone()  # type: ignore[no-any-return]
            finally:
                await cursor.close()
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def fetchval(self, raw: Any, sql: str, args: Sequence[Any], column: int) -> Any:
        row = await self.fetchrow(raw, sql, args)
        return None if row is None else row[column]

    async def execute(self, raw: Any, sql: str, args: Sequence[Any]) -> int:
        try:
            cursor = await raw.execute(to_sqlite(sql), args)
            count: int = cursor.rowcount
            await cursor.close()
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))
        return max(count, 0)

    async def executemany(self, raw: Any, sql: str, args: Iterable[Sequence[Any]]) -> None:
        try:
            cursor = await raw.executemany(to_sqlite(sql), args)
            await cursor.close()
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))


async def _reap(connection: Any) -> None:
    """Wait for a failed connection's worker thread to end.

    After a failed connect aiosqlite stops its thread by queueing a future of this loop; if the
    loop closes first (a client or test that leaves at once, a worker shutting down) the thread
    resolves that future on a closed loop and dies with "Event loop is closed". Joining it here
    keeps the whole failure inside the request that met it.
    """
    thread = getattr(connection, "_thread", None)
    if isinstance(thread, threading.Thread) and thread.ident is not None:
        await asyncio.to_thread(thread.join, _REAP_TIMEOUT_S)
