"""``Database``: a pool configured by URL, opened and closed with the app's lifespan.

Example::

    from covet import Covet
    from covet.db import Database

    db = Database()                       # $COVET_DATABASE_URL, else sqlite:///:memory:
    app = Covet(lifespan=db.lifespan)     # connect at startup, disconnect at shutdown

    @app.get("/users/{user_id:int}")
    async def user(request):
        user_id = request.path_params["user_id"]
        row = await db.fetchrow("SELECT id, name FROM users WHERE id = $1", user_id)
        return dict(row) if row else {"detail": "no such user"}

Inside a lifespan of your own, ``async with db:`` connects and disconnects::

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with db:
            await db.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
            yield {"db": db}

Only parameterised statements: values are passed as arguments and bound by the driver, never
formatted into the SQL, and no method builds SQL from names or values.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from covet.db.backend import Backend, Isolation, PoolOptions
from covet.db.connection import Connection, Transaction
from covet.db.exceptions import NotConnectedError
from covet.db.rows import Record
from covet.db.url import DatabaseURL, resolve_url

__all__ = ["Database"]


class Database:
    """A connection pool and the statements that run on it.

    :param url: ``postgresql://user@host:5432/name`` (asyncpg) or ``sqlite:///path.db`` /
        ``sqlite:///:memory:`` (aiosqlite); None reads ``COVET_DATABASE_URL``, and without it
        uses an in-memory SQLite database.
    :param min_size: connections opened at connect time (PostgreSQL keeps at least these).
    :param max_size: most connections open at once (SQLite ``:memory:`` always has one).
    :param timeout: seconds to connect, or to wait for a free connection, before
        :class:`~covet.db.exceptions.DatabaseUnavailable` (503); also SQLite's busy timeout.
    :param driver_options: passed to ``asyncpg.create_pool`` or ``aiosqlite.connect``.

    A query before :meth:`connect` (or after :meth:`disconnect`) raises
    :class:`~covet.db.exceptions.NotConnectedError`.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 10.0,
        **driver_options: Any,
    ) -> None:
        self.url: DatabaseURL = resolve_url(url)
        self._options = PoolOptions(min_size, max_size, timeout, driver_options)
        self._backend: Backend | None = None
        # The connection a `connection()`/`transaction()` block lent to the running task.
        self._bound: ContextVar[Connection | None] = ContextVar(
            f"covet.db.Database.{id(self)}", default=None
        )

    def __repr__(self) -> str:
        state = "connected" if self._backend is not None else "not connected"
        return f"Database({str(self.url)!r}, {state})"

    @property
    def dialect(self) -> str:
        """``"postgresql"`` or ``"sqlite"``: for the little DDL that differs between them."""
        return self.url.dialect

    @property
    def is_connected(self) -> bool:
        return self._backend is not None

    # -- lifecycle -------------------------------------------------------------------------

    def _new_backend(self) -> Backend:
        if self.url.dialect == "postgresql":
            from covet.db.postgres import PostgresBackend

            return PostgresBackend(self.url, self._options)
        from covet.db.sqlite import SQLiteBackend

        return SQLiteBackend(self.url, self._options)

    async def connect(self) -> None:
        """Open the pool. Does nothing if it is open already.

        Raises :class:`~covet.db.exceptions.DatabaseUnavailable` if the database cannot be
        reached, and :class:`~covet.exceptions.MissingDependencyError` naming the ``db`` extra
        if the driver is not installed.
        """
        if self._backend is not None:
            return
        backend = self._new_backend()
        await backend.open()
        self._backend = backend

    async def disconnect(self) -> None:
        """Close the pool. Does nothing if it is not open."""
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.close()

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[dict[str, Any]]:
        """``Covet(lifespan=db.lifespan)``: connect at startup, disconnect at shutdown.

        Yields ``{"db": self}``, so handlers can also reach it as ``request.state.db``.
        """
        async with self:
            yield {"db": self}

    def _pool(self) -> Backend:
        backend = self._backend
        if backend is None:
            raise NotConnectedError(
                f"the database {self.url} is not connected: await db.connect(), "
                "`async with db:`, or Covet(lifespan=db.lifespan)"
            )
        return backend

    # -- connections and transactions ------------------------------------------------------

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """Borrow one connection for the block (and bind it to this task: the Database's own
        methods use it inside the block). Re-entering in the same task yields the same one."""
        current = self._bound.get()
        if current is not None and current.usable:
            yield current
            return
        backend = self._pool()
        conn = Connection(backend, await backend.acquire())
        token = self._bound.set(conn)
        try:
            yield conn
        finally:
            self._bound.reset(token)
            await conn._release()

    @contextlib.asynccontextmanager
    async def transaction(self, *, isolation: Isolation | None = None) -> AsyncIterator[Connection]:
        """``async with db.transaction() as conn:``: commit on success, roll back on an
        exception (which is raised on). Inside another transaction of the same task this is a
        SAVEPOINT: an error rolls back only the inner block.

        :param isolation: ``"read_committed"``, ``"repeatable_read"`` or ``"serializable"``
            (PostgreSQL; SQLite transactions are always serializable).
        """
        async with self.connection() as conn, Transaction(conn, isolation) as inner:
            yield inner

    # -- statements ------------------------------------------------------------------------
    # Inside a connection()/transaction() block of this task, on its connection; otherwise on
    # whichever pooled connection is free.

    async def fetch(self, sql: str, *args: Any) -> list[Record]:
        """Every row of the result, as mapping-like :class:`~covet.db.rows.Record` rows.

        ``await db.fetch("SELECT id, name FROM users WHERE name LIKE $1", "a%")``
        """
        conn = self._bound.get()
        if conn is not None and conn.usable:
            return await conn.fetch(sql, *args)
        return await self._pool().pool_fetch(sql, args)

    async def fetchrow(self, sql: str, *args: Any) -> Record | None:
        """The first row of the result, or None."""
        conn = self._bound.get()
        if conn is not None and conn.usable:
            return await conn.fetchrow(sql, *args)
        return await self._pool().pool_fetchrow(sql, args)

    async def fetchval(self, sql: str, *args: Any, column: int = 0) -> Any:
        """One value (``column`` of the first row), or None when there is no row."""
        conn = self._bound.get()
        if conn is not None and conn.usable:
            return await conn.fetchval(sql, *args, column=column)
        return await self._pool().pool_fetchval(sql, args, column)

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows inserted, updated or deleted (0 for DDL)."""
        conn = self._bound.get()
        if conn is not None and conn.usable:
            return await conn.execute(sql, *args)
        return await self._pool().pool_execute(sql, args)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter sequence, on one connection."""
        conn = self._bound.get()
        if conn is not None and conn.usable:
            return await conn.executemany(sql, args)
        return await self._pool().pool_executemany(sql, args)
