"""The contract between :class:`~covet.db.Database` and one driver (asyncpg, aiosqlite).

A backend owns the pool and speaks its driver: it opens and closes the pool, lends and takes back
raw driver connections, runs one statement on a raw connection, and turns the driver's errors
into the ``covet.db`` tree (:mod:`covet.db.exceptions`). Everything above it (connections bound
to a task, transactions, savepoints, the lifespan) is written once in :mod:`covet.db.connection`
and :mod:`covet.db.database`, so both backends behave alike.

The ``pool_*`` methods run one statement on whichever connection is free: acquire (waiting at
most ``timeout``), run, release. The PostgreSQL backend overrides them with asyncpg's acquire
context (one step fewer on the TechEmpower hot path).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NoReturn

from covet.db.exceptions import DatabaseError, DatabaseUnavailable
from covet.db.rows import Record
from covet.db.url import DatabaseURL

__all__ = ["Backend", "Isolation", "PoolOptions", "raise_translated"]

logger = logging.getLogger("covet.db")

Isolation = Literal["read_committed", "repeatable_read", "serializable"]
ISOLATION_SQL: dict[str, str] = {
    "read_committed": "READ COMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class PoolOptions:
    """How many connections, and how long to wait for one (seconds)."""

    __slots__ = ("driver_options", "max_size", "min_size", "timeout")

    def __init__(
        self, min_size: int, max_size: int, timeout: float, driver_options: dict[str, Any]
    ) -> None:
        if min_size < 0 or max_size < 1 or min_size > max_size:
            raise ValueError(
                f"need 0 <= min_size <= max_size, 1 <= max_size: {min_size}, {max_size}"
            )
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self.driver_options = driver_options


class _OutageLog:
    """Log an unreachable database at most once per interval: during an outage every request
    fails the same way, and one line per request would drown the log (and the disk)."""

    interval_s = 5.0

    def __init__(self) -> None:
        self.last = -self.interval_s
        self.suppressed = 0

    def report(self, error: DatabaseUnavailable) -> None:
        now = time.monotonic()
        if now - self.last < self.interval_s:
            self.suppressed += 1
            return
        more = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
        logger.warning("%s%s", error, more)
        self.last = now
        self.suppressed = 0


outage_log = _OutageLog()


def raise_translated(exc: BaseException, translated: DatabaseError | None) -> NoReturn:
    """Raise ``translated`` (chained to ``exc``), or ``exc`` itself when there is nothing to
    translate; an unavailable database is logged here, where the cause is still known."""
    if translated is None or translated is exc:
        raise exc
    if isinstance(translated, DatabaseUnavailable):
        outage_log.report(translated)
    raise translated from exc


class Backend(ABC):
    """One driver's pool and statements. Every method raises only ``covet.db`` errors for
    database failures (programming errors such as a wrong argument type stay themselves)."""

    dialect: str

    def __init__(self, url: DatabaseURL, options: PoolOptions) -> None:
        self.url = url
        self.options = options

    # -- pool ------------------------------------------------------------------------------

    @abstractmethod
    async def open(self) -> None:
        """Create the pool (and its first connections); DatabaseUnavailable if unreachable."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection; connections still lent out are closed when returned."""

    @abstractmethod
    async def acquire(self) -> Any:
        """A raw driver connection; DatabaseUnavailable if none can be had in time."""

    @abstractmethod
    async def release(self, raw: Any, broken: bool = False) -> None:
        """Take a connection back; ``broken`` ones (a failed rollback) are closed, not reused."""

    def begin_sql(self, isolation: Isolation | None) -> str:
        """The statement that opens a transaction."""
        if isolation is None:
            return "BEGIN"
        if isolation not in ISOLATION_SQL:
            raise ValueError(f"isolation must be one of {sorted(ISOLATION_SQL)}, not {isolation!r}")
        return "BEGIN ISOLATION LEVEL " + ISOLATION_SQL[isolation]

    # -- one statement on a raw connection -------------------------------------------------

    @abstractmethod
    async def fetch(self, raw: Any, sql: str, args: Sequence[Any]) -> list[Record]: ...

    @abstractmethod
    async def fetchrow(self, raw: Any, sql: str, args: Sequence[Any]) -> Record | None: ...

    @abstractmethod
    async def fetchval(self, raw: Any, sql: str, args: Sequence[Any], column: int) -> Any: ...

    @abstractmethod
    async def execute(self, raw: Any, sql: str, args: Sequence[Any]) -> int: ...

    @abstractmethod
    async def executemany(self, raw: Any, sql: str, args: Iterable[Sequence[Any]]) -> None: ...

    # -- one statement on any free connection ----------------------------------------------

    async def pool_fetch(self, sql: str, args: Sequence[Any]) -> list[Record]:
        raw = await self.acquire()
        try:
            return await self.fetch(raw, sql, args)
        finally:
            await self.release(raw)

    async def pool_fetchrow(self, sql: str, args: Sequence[Any]) -> Record | None:
        raw = await self.acquire()
        try:
            return await self.fetchrow(raw, sql, args)
        finally:
            await self.release(raw)

    async def pool_fetchval(self, sql: str, args: Sequence[Any], column: int) -> Any:
        raw = await self.acquire()
        try:
            return await self.fetchval(raw, sql, args, column)
        finally:
            await self.release(raw)

    async def pool_execute(self, sql: str, args: Sequence[Any]) -> int:
        raw = await self.acquire()
        try:
            return await self.execute(raw, sql, args)
        finally:
            await self.release(raw)

    async def pool_executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        raw = await self.acquire()
        try:
            await self.executemany(raw, sql, args)
        finally:
            await self.release(raw)
