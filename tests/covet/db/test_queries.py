"""covet.db's statements, rows, errors and transactions, each test on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from covet.db import (
    Database,
    DatabaseError,
    IntegrityError,
    NotConnectedError,
    QueryError,
    TransactionError,
)

Body = Callable[[Database], Awaitable[None]]


def run(url: str, body: Body, **options: Any) -> None:
    """Connect to ``url``, give every test a fresh ``item`` table, run ``body``."""

    async def main() -> None:
        async with Database(url, **options) as db:
            await db.execute("DROP TABLE IF EXISTS item")
            await db.execute(
                "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER)"
            )
            await body(db)

    asyncio.run(main())


def test_fetch_fetchrow_fetchval_execute(db_url: str) -> None:
    async def body(db: Database) -> None:
        inserted = await db.execute(
            "INSERT INTO item (id, name, n) VALUES ($1, $2, $3)", 1, "a", 10
        )
        assert inserted == 1
        await db.executemany(
            "INSERT INTO item (id, name, n) VALUES ($1, $2, $3)", [(2, "b", 20), (3, "c", None)]
        )
        rows = await db.fetch("SELECT id, name, n FROM item WHERE id >= $1 ORDER BY id", 1)
        assert [tuple(r) for r in rows] == [(1, "a", 10), (2, "b", 20), (3, "c", None)]
        row = await db.fetchrow("SELECT id, name, n FROM item WHERE name = $1", "b")
        assert row is not None
        assert row["name"] == "b" and row[0] == 2 and row.get("n") == 20
        assert row.get("missing", "dflt") == "dflt"
        assert dict(row) == {"id": 2, "name": "b", "n": 20}
        assert list(row.keys()) == ["id", "name", "n"] and list(row.values()) == [2, "b", 20]
        assert list(row.items())[0] == ("id", 2)
        assert "name" in row and "zzz" not in row and len(row) == 3
        assert await db.fetchrow("SELECT id FROM item WHERE id = $1", 99) is None
        assert await db.fetchval("SELECT count(*) FROM item") == 3
        assert await db.fetchval("SELECT id, name FROM item WHERE id = $1", 3, column=1) == "c"
        assert await db.fetchval("SELECT id FROM item WHERE id = $1", 99) is None
        updated = await db.execute("UPDATE item SET n = $1 WHERE id <= $2", 0, 2)
        assert updated == 2
        assert await db.execute("DELETE FROM item WHERE id = $1", 99) == 0
        # The same parameter twice and out of order, as PostgreSQL allows.
        same = await db.fetchval("SELECT count(*) FROM item WHERE id = $2 OR n = $1", 0, 3)
        assert same == 3

    run(db_url, body)


def test_injection_attempts_stay_data(db_url: str) -> None:
    hostile = [
        "x'); DROP TABLE item; --",
        "' OR '1'='1",
        "$1",
        '"; DELETE FROM item; --',
        "?1",
        "a\x00b".replace("\x00", ""),
        "1; SELECT pg_sleep(10)",
    ]

    async def body(db: Database) -> None:
        for i, name in enumerate(hostile):
            await db.execute("INSERT INTO item (id, name) VALUES ($1, $2)", i, name)
        for i, name in enumerate(hostile):
            assert await db.fetchval("SELECT name FROM item WHERE id = $1", i) == name
            assert await db.fetchval("SELECT id FROM item WHERE name = $1", name) == i
        assert await db.fetchval("SELECT count(*) FROM item") == len(hostile)
        assert await db.fetch("SELECT id FROM item WHERE name = $1", "' OR '1'='1' --x") == []

    run(db_url, body)


def test_errors_are_translated(db_url: str) -> None:
    async def body(db: Database) -> None:
        await db.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 1, "a")
        with pytest.raises(IntegrityError) as dup:
            await db.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 2, "a")
        assert isinstance(dup.value.__cause__, Exception)
        with pytest.raises(IntegrityError):
            await db.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 3, None)
        with pytest.raises(QueryError) as syntax:
            await db.fetch("SELEKT 1")
        assert "SELEKT" in str(syntax.value)
        with pytest.raises(QueryError):
            await db.fetch("SELECT * FROM no_such_table")
        with pytest.raises(QueryError):  # a parameter missing
            await db.fetch("SELECT * FROM item WHERE id = $1 AND name = $2", 1)
        # The pool is still fine after every one of them.
        assert await db.fetchval("SELECT count(*) FROM item") == 1

    run(db_url, body)


def test_postgres_error_has_sqlstate(pg_url: str) -> None:
    async def body(db: Database) -> None:
        with pytest.raises(QueryError) as info:
            await db.fetch("SELECT * FROM no_such_table")
        assert info.value.sqlstate == "42P01"
        with pytest.raises(QueryError):  # asyncpg's DataError: the argument has the wrong type
            await db.fetch("SELECT * FROM item WHERE id = $1", "not a number")

    run(pg_url, body)


def test_transaction_commits_and_rolls_back(db_url: str) -> None:
    async def body(db: Database) -> None:
        async with db.transaction() as conn:
            assert conn.in_transaction
            await conn.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 1, "kept")
        with pytest.raises(RuntimeError, match="boom"):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 2, "gone")
                # The Database's own methods join the task's transaction.
                assert await db.fetchval("SELECT count(*) FROM item") == 2
                raise RuntimeError("boom")
        assert [r["name"] for r in await db.fetch("SELECT name FROM item")] == ["kept"]
        with pytest.raises(IntegrityError):
            async with db.transaction():
                await db.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 3, "x")
                await db.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 4, "x")
        assert await db.fetchval("SELECT count(*) FROM item") == 1

    run(db_url, body)


def test_nested_transaction_is_a_savepoint(db_url: str) -> None:
    async def body(db: Database) -> None:
        async with db.transaction() as outer:
            await outer.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 1, "outer")
            with pytest.raises(IntegrityError):
                async with db.transaction() as inner:
                    assert inner is outer
                    await inner.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 2, "in")
                    await inner.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 3, "in")
            async with outer.transaction():
                await outer.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 4, "second")
        names = [r["name"] for r in await db.fetch("SELECT name FROM item ORDER BY id")]
        assert names == ["outer", "second"]
        with pytest.raises(TransactionError, match="savepoint"):
            async with db.transaction(), db.transaction(isolation="serializable"):
                pass

    run(db_url, body)


def test_uncommitted_rows_are_invisible_to_other_connections(db_url: str) -> None:
    async def body(db: Database) -> None:
        seen: list[int] = []

        async def reader() -> None:
            seen.append(await db.fetchval("SELECT count(*) FROM item"))

        async with db.transaction() as conn:
            await conn.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 1, "pending")
            # A task with an empty context is not bound to the transaction's connection.
            await asyncio.create_task(reader(), context=contextvars.Context())
        await reader()
        assert seen == [0, 1]

    run(db_url, body)


def test_isolation_levels(pg_url: str) -> None:
    async def body(db: Database) -> None:
        for level, shown in [
            ("serializable", "serializable"),
            ("repeatable_read", "repeatable read"),
            ("read_committed", "read committed"),
        ]:
            async with db.transaction(isolation=level) as conn:  # type: ignore[arg-type]
                assert await conn.fetchval("SHOW transaction_isolation") == shown
        with pytest.raises(ValueError, match="isolation"):
            async with db.transaction(isolation="chaos"):  # type: ignore[arg-type]
                pass

    run(pg_url, body)


def test_connection_block_binds_and_releases(db_url: str) -> None:
    async def body(db: Database) -> None:
        async with db.connection() as conn:
            async with db.connection() as again:
                assert again is conn  # re-entering in one task lends the same connection
            await conn.execute("INSERT INTO item (id, name) VALUES ($1, $2)", 1, "a")
            assert conn.raw is not None and conn.dialect == db.dialect
        with pytest.raises(NotConnectedError, match="returned to the pool"):
            await conn.fetch("SELECT 1")
        # The Database no longer uses the released connection.
        assert await db.fetchval("SELECT count(*) FROM item") == 1
        tx = conn.transaction()
        with pytest.raises(NotConnectedError):
            async with tx:
                pass

    run(db_url, body)


def test_a_transaction_is_entered_once(db_url: str) -> None:
    async def body(db: Database) -> None:
        async with db.connection() as conn:
            tx = conn.transaction()
            async with tx:
                pass
            with pytest.raises(TransactionError, match="only once"):
                async with tx:
                    pass

    run(db_url, body)


def test_not_connected_and_idempotent_lifecycle(db_url: str) -> None:
    async def main() -> None:
        db = Database(db_url)
        with pytest.raises(NotConnectedError, match="not connected"):
            await db.fetch("SELECT 1")
        assert not db.is_connected
        await db.disconnect()  # nothing to close: fine
        await db.connect()
        await db.connect()  # already open: fine
        assert db.is_connected and "connected" in repr(db)
        assert await db.fetchval("SELECT 1") == 1
        await db.disconnect()
        with pytest.raises(NotConnectedError):
            await db.execute("SELECT 1")
        with pytest.raises(DatabaseError):
            async with db.transaction():
                pass

    asyncio.run(main())


def test_sqlite_memory_is_one_database(tmp_path: object) -> None:
    """``:memory:`` has one connection: every statement, from any task, sees the same data."""

    async def main() -> None:
        async with Database("sqlite:///:memory:", max_size=5) as db:
            await db.execute("CREATE TABLE t (v INTEGER)")
            await asyncio.gather(*(db.execute("INSERT INTO t VALUES ($1)", i) for i in range(5)))
            assert await db.fetchval("SELECT count(*) FROM t") == 5

    asyncio.run(main())


def test_concurrent_tasks_share_the_pool(db_url: str) -> None:
    async def body(db: Database) -> None:
        async def one(i: int) -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO item (id, name) VALUES ($1, $2)", i, f"n{i}")

        await asyncio.gather(*(one(i) for i in range(12)))  # more tasks than connections
        assert await db.fetchval("SELECT count(*) FROM item") == 12

    run(db_url, body, max_size=3)
