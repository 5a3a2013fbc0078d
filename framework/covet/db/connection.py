"""A connection lent by the pool for one block of code, and transactions on it.

Example::

    async with db.connection() as conn:            # one connection for several statements
        rows = await conn.fetch("SELECT id FROM world WHERE id = $1", 7)

    async with db.transaction() as conn:           # BEGIN ... COMMIT, or ROLLBACK on error
        await conn.execute("UPDATE account SET balance = balance - $1 WHERE id = $2", 10, 1)
        async with conn.transaction():             # nested: a SAVEPOINT
            ...

While such a block runs, the ``Database``'s own ``fetch``/``execute``/... in the same task use
its connection (the block binds it in a context variable), so code that calls ``db.fetch``
deep inside a transaction is part of the transaction. A connection runs one statement at a
time: do not share one (or a transaction) between concurrent tasks (``asyncio.gather``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from covet.db.backend import Isolation, logger
from covet.db.exceptions import NotConnectedError, TransactionError
from covet.db.rows import Record

if TYPE_CHECKING:
    from covet.db.backend import Backend

__all__ = ["Connection", "Transaction"]


class Connection:
    """One pooled connection, usable until the ``async with`` block that lent it ends.

    ``raw`` is the driver's own connection (``asyncpg.Connection`` or
    ``aiosqlite.Connection``) for what covet.db does not cover (COPY, LISTEN/NOTIFY, ...).
    """

    __slots__ = ("_backend", "_depth", "_raw", "_released", "broken")

    def __init__(self, backend: Backend, raw: Any) -> None:
        self._backend = backend
        self._raw = raw
        self._released = False
        self._depth = 0  # open transactions: 0 none, 1 a transaction, 2+ savepoints in it
        self.broken = False  # a rollback failed: the pool must not lend this connection again

    @property
    def raw(self) -> Any:
        self._check()
        return self._raw

    @property
    def dialect(self) -> str:
        return self._backend.dialect

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @property
    def usable(self) -> bool:
        return not self._released

    def _check(self) -> None:
        if self._released:
            raise NotConnectedError(
                "this connection was returned to the pool when its `async with` block ended"
            )

    async def _release(self) -> None:
        if not self._released:
            self._released = True
            await self._backend.release(self._raw, broken=self.broken)

    # -- statements --------------------------------------------------------------------------

    async def fetch(self, sql: str, *args: Any) -> list[Record]:
        """Every row of the result (``$1, $2`` placeholders, values bound, never formatted)."""
        self._check()
        return await self._backend.fetch(self._raw, sql, args)

    async def fetchrow(self, sql: str, *args: Any) -> Record | None:
        """The first row, or None."""
        self._check()
        return await self._backend.fetchrow(self._raw, sql, args)

    async def fetchval(self, sql: str, *args: Any, column: int = 0) -> Any:
        """One value of the first row (``column``), or None when there is no row."""
        self._check()
        return await self._backend.fetchval(self._raw, sql, args, column)

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; the number of rows it inserted, updated or deleted (0 for DDL)."""
        self._check()
        return await self._backend.execute(self._raw, sql, args)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter sequence."""
        self._check()
        await self._backend.executemany(self._raw, sql, args)

    def transaction(self, *, isolation: Isolation | None = None) -> Transaction:
        """A transaction on this connection; a SAVEPOINT when one is already open."""
        return Transaction(self, isolation)


class Transaction:
    """``async with``: BEGIN (or SAVEPOINT), then COMMIT on success, ROLLBACK on an exception.

    The exception is never swallowed. If the rollback itself fails (the connection died), the
    original exception is raised and the connection is closed instead of going back to the
    pool. Entering one Transaction twice raises :class:`TransactionError`.
    """

    __slots__ = ("_conn", "_done", "_entered", "_isolation", "_savepoint")

    def __init__(self, conn: Connection, isolation: Isolation | None = None) -> None:
        self._conn = conn
        self._isolation = isolation
        self._savepoint: str | None = None
        self._entered = False
        self._done = False

    async def __aenter__(self) -> Connection:
        if self._entered:
            raise TransactionError("a transaction can be entered only once; make a new one")
        self._entered = True
        conn = self._conn
        conn._check()
        backend = conn._backend
        if conn._depth == 0:
            begin = backend.begin_sql(self._isolation)
        else:
            if self._isolation is not None:
                raise TransactionError("a nested transaction (a savepoint) takes no isolation")
            # A name made of our own counter, never of caller input.
            self._savepoint = f"covet_savepoint_{conn._depth}"
            begin = "SAVEPOINT " + self._savepoint
        await backend.execute(conn._raw, begin, ())
        conn._depth += 1
        return conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        if self._done:
            raise TransactionError("this transaction has already ended")
        self._done = True
        conn._depth -= 1
        backend = conn._backend
        if exc is None:
            if self._savepoint is not None:
                await backend.execute(conn._raw, "RELEASE SAVEPOINT " + self._savepoint, ())
                return
            try:
                await backend.execute(conn._raw, "COMMIT", ())
            except BaseException:
                # A failed COMMIT (a serialization failure, SQLite busy) may leave the
                # transaction open: end it, so the connection goes back to the pool clean.
                await self._rollback_quietly("ROLLBACK")
                raise
            return
        if self._savepoint is None:
            await self._rollback_quietly("ROLLBACK")
        else:
            await self._rollback_quietly(
                "ROLLBACK TO SAVEPOINT " + self._savepoint, "RELEASE SAVEPOINT " + self._savepoint
            )

    async def _rollback_quietly(self, *statements: str) -> None:
        conn = self._conn
        try:
            for sql in statements:
                await conn._backend.execute(conn._raw, sql, ())
        except Exception as rollback_error:  # the connection is gone; the caller's error wins
            conn.broken = True
            logger.debug("rollback failed, connection discarded: %s", rollback_error)
