"""How driver errors become covet.db errors, and what happens to a connection after one:
a failed COMMIT, a backend killed inside a transaction, a pool with no free connection."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextvars import Context

import asyncpg
import pytest

from covet.db import (
    Database,
    DatabaseError,
    DatabaseUnavailable,
    DatabaseURLError,
    IntegrityError,
    NotConnectedError,
    QueryError,
    backend,
    postgres,
    sqlite,
)
from covet.db.rows import Columns, Row


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (asyncpg.exceptions.TooManyConnectionsError("too many"), DatabaseUnavailable),
        (asyncpg.exceptions.AdminShutdownError("terminating"), DatabaseUnavailable),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), DatabaseUnavailable),
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), DatabaseUnavailable),
        (ConnectionRefusedError(111, "refused"), DatabaseUnavailable),
        (TimeoutError(), DatabaseUnavailable),
        (asyncpg.exceptions.InterfaceError("connection is closed"), DatabaseUnavailable),
        (asyncpg.exceptions.QueryCanceledError("statement timeout"), QueryError),
        (asyncpg.exceptions.UniqueViolationError("dup"), IntegrityError),
        (asyncpg.exceptions.UndefinedTableError("no table"), QueryError),
        (asyncpg.exceptions.DataError("bad argument"), QueryError),
        (asyncpg.exceptions.InterfaceError("expects 2 arguments"), QueryError),
        (asyncpg.exceptions.InternalClientError("odd"), DatabaseError),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else v.__name__,
)
def test_postgres_translation(error: BaseException, expected: type[DatabaseError]) -> None:
    translated = postgres.translate(error, "postgresql://u@h/db")
    assert type(translated) is expected


def test_postgres_translation_details() -> None:
    busy = postgres.translate(
        asyncpg.exceptions.InterfaceError(
            "cannot perform operation: another operation is in progress"
        ),
        "db",
    )
    assert type(busy) is DatabaseError and "concurrent tasks" in str(busy)
    assert postgres.translate(ValueError("not ours"), "db") is None
    same = QueryError("x")
    assert postgres.translate(same, "db") is same


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.OperationalError("database is locked"), DatabaseUnavailable),
        (sqlite3.OperationalError("unable to open database file"), DatabaseUnavailable),
        (sqlite3.OperationalError("disk I/O error"), DatabaseUnavailable),
        (sqlite3.OperationalError("no such table: t"), QueryError),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), IntegrityError),
        (sqlite3.ProgrammingError("Incorrect number of bindings"), QueryError),
        (ValueError("no active connection"), NotConnectedError),
    ],
    ids=str,
)
def test_sqlite_translation(error: BaseException, expected: type[DatabaseError]) -> None:
    assert type(sqlite.translate(error, "sqlite:///x.db")) is expected


def test_sqlite_translation_leaves_other_errors() -> None:
    assert sqlite.translate(TypeError("not ours"), "x") is None


def test_a_failed_commit_is_raised_and_the_connection_comes_back_clean(db_url: str) -> None:
    """A deferred foreign key fails at COMMIT: IntegrityError, and the pool's connection is
    not left inside the failed transaction."""

    async def main() -> None:
        async with Database(db_url, max_size=1) as db:
            await db.execute("DROP TABLE IF EXISTS child")
            await db.execute("DROP TABLE IF EXISTS parent")
            await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            await db.execute(
                "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES "
                "parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
            with pytest.raises(IntegrityError):
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO child VALUES ($1, $2)", 1, 99)
            async with db.transaction() as conn:  # the one connection works normally
                await conn.execute("INSERT INTO parent VALUES ($1)", 99)
                await conn.execute("INSERT INTO child VALUES ($1, $2)", 1, 99)
            assert await db.fetchval("SELECT count(*) FROM child") == 1

    asyncio.run(main())


def test_backend_killed_inside_a_transaction(pg_url: str) -> None:
    """The statement's error wins over the failed rollback; the dead connection is thrown
    away and the next statement gets a fresh one."""

    async def main() -> None:
        async with Database(pg_url, max_size=1) as db:
            first = await db.fetchval("SELECT pg_backend_pid()")
            with pytest.raises(DatabaseUnavailable):
                async with db.transaction() as conn:
                    await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            assert await db.fetchval("SELECT pg_backend_pid()") != first

    asyncio.run(main())


def test_no_free_connection_within_timeout_is_503(db_url: str) -> None:
    async def main() -> None:
        async with Database(db_url, max_size=1, timeout=0.2) as db:
            async with db.connection():
                # A task with an empty context: not bound to the block's connection.
                waiting = asyncio.create_task(db.fetchval("SELECT 1"), context=Context())
                with pytest.raises(DatabaseUnavailable, match=r"free connection|Timeout"):
                    await waiting
            assert await db.fetchval("SELECT 1") == 1  # free again

    asyncio.run(main())


def test_statements_inside_a_block_use_its_connection(db_url: str) -> None:
    async def main() -> None:
        async with Database(db_url) as db:
            await db.execute("DROP TABLE IF EXISTS t")
            await db.execute("CREATE TABLE t (v INTEGER)")
            async with db.transaction():
                await db.executemany("INSERT INTO t VALUES ($1)", [(1,), (2,)])
                assert (await db.fetchrow("SELECT count(*) AS n FROM t"))["n"] == 2  # type: ignore[index]
                assert await db.fetchval("SELECT max(v) FROM t") == 2
                assert len(await db.fetch("SELECT v FROM t")) == 2

    asyncio.run(main())


def test_sqlite_rows() -> None:
    columns = Columns(("id", "name", "id"))
    row = Row(columns, (1, "a", 2))
    assert row["id"] == 1 and row[2] == 2  # a repeated name: the first, like asyncpg
    assert list(row.keys()) == ["id", "name", "id"]
    assert list(row.items()) == [("id", 1), ("name", "a"), ("id", 2)]
    assert row == (1, "a", 2) and row == Row(columns, (1, "a", 2))
    assert row != Row(Columns(("x", "y", "z")), (1, "a", 2))
    assert (row == "text") is False
    assert repr(row) == "<Row id=1 name='a' id=2>"
    with pytest.raises(KeyError, match="missing"):
        row["missing"]
    with pytest.raises(TypeError):
        hash(row)


def test_an_outage_is_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    log = backend._OutageLog()
    with caplog.at_level(logging.WARNING, logger="covet.db"):
        for _ in range(3):
            log.report(DatabaseUnavailable("refused"))
        log.last -= log.interval_s  # the interval has passed
        log.report(DatabaseUnavailable("refused again"))
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "database unavailable: refused",
        "database unavailable: refused again (2 more since the last report)",
    ]


def test_raise_translated_chains_and_passes_through() -> None:
    cause = OSError("refused")
    with pytest.raises(DatabaseUnavailable) as info:
        backend.raise_translated(cause, DatabaseUnavailable("x"))
    assert info.value.__cause__ is cause
    with pytest.raises(OSError) as same:
        backend.raise_translated(cause, None)
    assert same.value is cause


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("127.0.0.1:notaport/test", DatabaseURLError, "notaport"),
        ("127.0.0.1:5432/test?sslmode=bogus", DatabaseURLError, "sslmode"),
        ("127.0.0.1:5432/covet_no_such_database", DatabaseError, "does not exist"),
    ],
)
def test_misconfiguration_is_named_at_startup(
    pg_url: str, path: str, error: type[DatabaseError], message: str
) -> None:
    url = f"postgresql://postgres:hunter2@{path}"

    async def main() -> None:
        async with Database(url, timeout=2):
            pass

    with pytest.raises(error, match=message) as info:
        asyncio.run(main())
    assert type(info.value) is error
    assert "cannot connect to postgresql://postgres:***@" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_a_connection_left_in_a_transaction_comes_back_clean(db_url: str) -> None:
    async def main() -> None:
        async with Database(db_url, max_size=1) as db:
            await db.execute("DROP TABLE IF EXISTS t")
            await db.execute("CREATE TABLE t (v INTEGER)")
            async with db.connection() as conn:
                await conn.execute("BEGIN")  # by hand, never committed
                await conn.execute("INSERT INTO t VALUES ($1)", 1)
            assert await db.fetchval("SELECT count(*) FROM t") == 0
            async with db.transaction() as conn:  # and the next transaction can begin
                await conn.execute("INSERT INTO t VALUES ($1)", 2)
            assert await db.fetchval("SELECT count(*) FROM t") == 1

    asyncio.run(main())
