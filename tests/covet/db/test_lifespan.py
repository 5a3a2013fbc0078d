"""covet.db with covet's lifespan: the Database as the lifespan, or inside one of yours."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

import covet.db
from covet import Covet, Request
from covet.db import Database, DatabaseError, DatabaseUnavailable
from covet.exceptions import CovetError, HTTPException, MissingDependencyError
from covet.testclient import TestClient


def test_database_as_the_lifespan(db_url: str) -> None:
    db = Database(db_url)
    app = Covet(lifespan=db.lifespan)

    @app.get("/")
    async def index(request: Request) -> dict[str, Any]:
        assert request.state.db is db
        return {
            "sum": await request.state.db.fetchval(
                "SELECT CAST($1 AS INTEGER) + CAST($2 AS INTEGER)", 2, 3
            )
        }

    assert not db.is_connected
    with TestClient(app) as client:
        assert db.is_connected
        assert client.get("/").json() == {"sum": 5}
    assert not db.is_connected


def test_database_inside_a_user_lifespan(db_url: str) -> None:
    db = Database(db_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[dict[str, Any]]:
        async with db:
            await db.execute("DROP TABLE IF EXISTS greeting")
            await db.execute("CREATE TABLE greeting (text TEXT)")
            await db.execute("INSERT INTO greeting VALUES ($1)", "hello")
            yield {"greeting_db": db}

    app = Covet(lifespan=lifespan)

    @app.get("/")
    async def index(request: Request) -> str:
        return str(await request.state.greeting_db.fetchval("SELECT text FROM greeting"))

    with TestClient(app) as client:
        assert client.get("/").text == "hello"
    assert not db.is_connected


def test_request_scoped_connection(db_url: str) -> None:
    db = Database(db_url)
    app = Covet(lifespan=db.lifespan)

    @app.get("/")
    async def index() -> dict[str, bool]:
        async with db.connection() as conn:
            backend = conn.raw
            # Inside the block, db.* runs on the same connection.
            async with db.connection() as again:
                same = again.raw is backend
        return {"same": same}

    with TestClient(app) as client:
        assert client.get("/").json() == {"same": True}


def test_exceptions_hang_off_the_covet_tree() -> None:
    assert issubclass(DatabaseError, CovetError)
    assert issubclass(DatabaseUnavailable, HTTPException)
    exc = DatabaseUnavailable("postgresql://u@h/db: refused")
    assert exc.status_code == 503 and exc.detail == "Service Unavailable"
    assert "refused" in str(exc) and "refused" not in str(exc.detail)


# The names other parts (the TechEmpower apps, the example) build on: change only with them.
PUBLIC = {
    "DEFAULT_URL",
    "ENV_VAR",
    "Connection",
    "Database",
    "DatabaseError",
    "DatabaseURL",
    "DatabaseURLError",
    "DatabaseUnavailable",
    "IntegrityError",
    "NotConnectedError",
    "PlaceholderError",
    "QueryError",
    "Record",
    "Row",
    "Transaction",
    "TransactionError",
}


def test_public_api() -> None:
    assert set(covet.db.__all__) == PUBLIC
    for name in covet.db.__all__:
        assert getattr(covet.db, name) is not None
    for method in ("connect", "disconnect", "lifespan", "connection", "transaction", "fetch"):
        assert callable(getattr(Database, method))
    for method in ("fetchrow", "fetchval", "execute", "executemany"):
        assert callable(getattr(Database, method)) and callable(
            getattr(covet.db.Connection, method)
        )


_BLOCK = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in {BLOCKED}:\n"
    "            raise ImportError(name, name=name)\n"
    "sys.meta_path.insert(0, Block())\n"
)


@pytest.mark.parametrize(
    ("url", "driver"),
    [("postgresql://u@127.0.0.1/x", "asyncpg"), ("sqlite:///:memory:", "aiosqlite")],
)
def test_missing_driver_names_the_extra(url: str, driver: str) -> None:
    code = _BLOCK.replace("{BLOCKED}", repr({driver})) + (
        "import asyncio\n"
        "from covet.db import Database\n"  # importing covet.db needs no driver
        "from covet.exceptions import MissingDependencyError\n"
        "try:\n"
        f"    asyncio.run(Database({url!r}).connect())\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"needs {driver}" in out.stdout
    assert "pip install 'covetpy[db]'" in out.stdout
    assert issubclass(MissingDependencyError, ImportError)
