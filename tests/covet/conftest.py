"""Database fixtures for covet's tests: SQLite everywhere, the real PostgreSQL at POSTGRES_URL.

PostgreSQL is part of the test environment (trust auth, database ``test``): when it cannot be
reached, every test that asks for it FAILS with a message naming the URL tried, so ``ci/test``
cannot pass by skipping them. Each test module works in a schema of its own, created for it
and dropped (with everything in it) afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The one declaration of where the tests find PostgreSQL (COVET_TEST_POSTGRES_URL overrides).
POSTGRES_URL = os.environ.get(
    "COVET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def with_query(url: str, **params: str) -> str:
    """``url`` with extra query parameters (asyncpg passes unknown ones as server settings)."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return url + ("&" if "?" in url else "?") + query


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema owned by this test module."""
    module = request.module.__name__.rpartition(".")[2]
    schema = f"covet_{module}_{uuid.uuid4().hex[:8]}".lower()
    try:
        asyncio.run(_admin(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
        pytest.fail(
            f"PostgreSQL is unreachable at {POSTGRES_URL} ({type(exc).__name__}: {exc}). "
            "covet.db's tests need it: start PostgreSQL (trust auth, database 'test') or set "
            "COVET_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    try:
        yield with_query(POSTGRES_URL, search_path=schema)
    finally:
        asyncio.run(_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of this test's own (a file, so several connections see one database)."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_url"))
