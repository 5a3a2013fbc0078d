"""The PostgreSQL backend: an asyncpg pool, the SQL passed through unchanged.

asyncpg already speaks ``$1, $2``, prepares and caches statements, and returns rows that behave
like :class:`covet.db.rows.Record`, so this module adds only error translation and the pool's
lifecycle. A pooled connection whose server process went away (a restart, a failover,
``pg_terminate_backend``) is found closed on the next acquire and replaced by asyncpg; the
request that was using it when it died gets a 503, the next ones a fresh connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from covet.db.backend import Backend, raise_translated
from covet.db.exceptions import (
    DatabaseError,
    DatabaseUnavailable,
    DatabaseURLError,
    IntegrityError,
    NotConnectedError,
    QueryError,
)
from covet.db.rows import Record
from covet.exceptions import MissingDependencyError

__all__ = ["PostgresBackend", "translate"]

# SQLSTATE classes and codes that mean "the server is away", not "the statement is wrong":
# 08 connection exceptions, 53 insufficient resources (too many connections, out of memory),
# 57P01..57P03 admin/crash shutdown and "cannot connect now" (57014, a cancelled statement, is
# not in the list: the database is there).
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_CODES = ("57P01", "57P02", "57P03", "57P04", "57P05")


def _asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError as exc:
        raise MissingDependencyError("covet.db (postgresql:// URLs)", "asyncpg", "db") from exc
    return asyncpg


def translate(exc: BaseException, where: str) -> DatabaseError | None:
    """The covet.db error for an asyncpg (or socket) error; None for non-database errors."""
    if isinstance(exc, DatabaseError):
        return exc
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):  # an error the server sent (or asyncpg's 08003)
        if sqlstate[:2] in _UNAVAILABLE_CLASSES or sqlstate in _UNAVAILABLE_CODES:
            return DatabaseUnavailable(f"{where}: {type(exc).__name__}: {exc}")
        if sqlstate.startswith("23"):
            return IntegrityError(str(exc), sqlstate)
        return QueryError(str(exc), sqlstate)
    if isinstance(exc, OSError | TimeoutError):
        return DatabaseUnavailable(f"{where}: {type(exc).__name__}: {exc}")
    module = type(exc).__module__
    if not module.startswith("asyncpg"):
        return None
    message = str(exc)
    if "connection is closed" in message or "connection was closed" in message:
        return DatabaseUnavailable(f"{where}: {message}")
    if "another operation is in progress" in message:
        return DatabaseError(
            f"{message} (one connection runs one statement at a time: do not share a "
            "connection or transaction between concurrent tasks)"
        )
    if isinstance(exc, ValueError) or type(exc).__name__ == "InterfaceError":
        # asyncpg.DataError (an argument of the wrong type), or the statement used wrongly
        # (the wrong number of arguments): the statement's fault, as in SQLite
        return QueryError(message)
    return DatabaseError(f"{type(exc).__name__}: {message}")


def _rows_affected(status: str) -> int:
    """Rows affected from a command tag: ``UPDATE 3`` -> 3, ``INSERT 0 1`` -> 1, DDL -> 0."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


class PostgresBackend(Backend):
    """asyncpg's pool. ``driver_options`` go to ``asyncpg.create_pool`` (e.g.
    ``command_timeout``, ``statement_cache_size``, ``server_settings``)."""

    dialect = "postgresql"

    _pool: Any = None

    async def open(self) -> None:
        asyncpg = _asyncpg()
        options: dict[str, Any] = {"timeout": self.options.timeout}
        options.update(self.options.driver_options)
        try:
            self._pool = await asyncpg.create_pool(
                self.url.dsn,
                min_size=self.options.min_size,
                max_size=self.options.max_size,
                **options,
            )
        except Exception as exc:
            translated = translate(exc, f"connecting to {self.url}")
            if not isinstance(translated, DatabaseUnavailable):
                # Not an outage but a wrong URL, user, password or database name: say so
                # at startup, with the (redacted) URL, rather than as a statement error.
                kind = DatabaseURLError if isinstance(exc, ValueError) else DatabaseError
                translated = kind(f"cannot connect to {self.url}: {exc}")
            raise_translated(exc, translated)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), self.options.timeout)
        except (TimeoutError, OSError):
            pool.terminate()  # a connection still lent out: do not wait for it forever

    def _ready_pool(self) -> Any:
        pool = self._pool
        if pool is None:
            raise NotConnectedError(f"the database {self.url} is not connected")
        return pool

    async def acquire(self) -> Any:
        pool = self._ready_pool()
        try:
            return await pool.acquire(timeout=self.options.timeout)
        except Exception as exc:
            raise_translated(exc, translate(exc, f"acquiring a connection to {self.url}"))

    async def release(self, raw: Any, broken: bool = False) -> None:
        pool = self._pool
        if broken or pool is None:  # broken, or the pool was closed meanwhile
            with contextlib.suppress(Exception):
                # A connection asyncpg saw die is already detached from its proxy.
                raw.terminate()
        if pool is not None:
            await pool.release(raw)  # a no-op for a detached proxy

    # -- one statement on a raw connection -------------------------------------------------

    async def fetch(self, raw: Any, sql: str, args: Sequence[Any]) -> list[Record]:
        try:
            return await raw.fetch(sql, *args)  # type: ignore[no-any-return]
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def fetchrow(self, raw: Any, sql: str, args: Sequence[Any]) -> Record | None:
        try:
            return await raw.fetchrow(sql, *args)  # type: ignore[no-any-return]
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def fetchval(self, raw: Any, sql: str, args: Sequence[Any], column: int) -> Any:
        try:
            return await raw.fetchval(sql, *args, column=column)
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def execute(self, raw: Any, sql: str, args: Sequence[Any]) -> int:
        try:
            return _rows_affected(await raw.execute(sql, *args))
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def executemany(self, raw: Any, sql: str, args: Iterable[Sequence[Any]]) -> None:
        try:
            await raw.executemany(sql, args)
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    # -- one statement on any free connection ---------------------------------------------
    # asyncpg's pool.fetch() & co. acquire with no time limit; these bound the wait by
    # `timeout` (503 when every connection stays busy), as the SQLite pool does.

    async def pool_fetch(self, sql: str, args: Sequence[Any]) -> list[Record]:
        pool = self._ready_pool()
        try:
            async with pool.acquire(timeout=self.options.timeout) as raw:
                return await raw.fetch(sql, *args)  # type: ignore[no-any-return]
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def pool_fetchrow(self, sql: str, args: Sequence[Any]) -> Record | None:
        pool = self._ready_pool()
        try:
            async with pool.acquire(timeout=self.options.timeout) as raw:
                return await raw.fetchrow(sql, *args)  # type: ignore[no-any-return]
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def pool_fetchval(self, sql: str, args: Sequence[Any], column: int) -> Any:
        pool = self._ready_pool()
        try:
            async with pool.acquire(timeout=self.options.timeout) as raw:
                return await raw.fetchval(sql, *args, column=column)
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def pool_execute(self, sql: str, args: Sequence[Any]) -> int:
        pool = self._ready_pool()
        try:
            async with pool.acquire(timeout=self.options.timeout) as raw:
                return _rows_affected(await raw.execute(sql, *args))
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))

    async def pool_executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        pool = self._ready_pool()
        try:
            async with pool.acquire(timeout=self.options.timeout) as raw:
                await raw.executemany(sql, args)
        except Exception as exc:
            raise_translated(exc, translate(exc, str(self.url)))
