"""covet.db: a thin async data layer (not an ORM) for PostgreSQL (asyncpg) and SQLite (aiosqlite).

Example::

    from covet import Covet
    from covet.db import Database

    db = Database("sqlite:///app.db")     # or postgresql://..., or $COVET_DATABASE_URL
    app = Covet(lifespan=db.lifespan)

    @app.get("/world/{id:int}")
    async def world(request):
        row = await db.fetchrow("SELECT id, randomnumber FROM world WHERE id = $1",
                                request.path_params["id"])
        return dict(row)

One placeholder style everywhere, PostgreSQL's ``$1, $2``; values are always bound by the
driver. ``fetch``/``fetchrow``/``fetchval``/``execute``/``executemany``, ``connection()`` and
``transaction()`` (nested: savepoints). An unreachable database raises
:class:`DatabaseUnavailable`, which covet answers with 503. Needs the ``db`` extra
(``pip install 'covetpy[db]'``); ``import covet.db`` itself needs nothing, the driver is imported
when a URL needs it. See docs/database.md.
"""

from __future__ import annotations

from covet.db.connection import Connection, Transaction
from covet.db.database import Database
from covet.db.exceptions import (
    DatabaseError,
    DatabaseUnavailable,
    DatabaseURLError,
    IntegrityError,
    NotConnectedError,
    PlaceholderError,
    QueryError,
    TransactionError,
)
from covet.db.rows import Record, Row
from covet.db.url import DEFAULT_URL, ENV_VAR, DatabaseURL

__all__ = [
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
]
