"""Database URLs: which backend, which database, and how a message names them.

`postgresql://user@host:port/name` (asyncpg) or `sqlite:///path/to/file.db` (aiosqlite). The
URL reaches a launched server through one environment variable, `DATABASE_URL_ENV`; the peer
apps (`scenarios/apps/_db.py`) read the same name, a test keeps the two equal.

    url = parse_url("postgresql://postgres@127.0.0.1:5432/covetbench")
    url.backend, url.database, url.maintenance  # "postgresql", "covetbench", ".../postgres"
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from covetbench.exceptions import DatabaseError

#: the environment variable the harness sets on a launched server (the apps read it)
DATABASE_URL_ENV = "COVETBENCH_DATABASE_URL"
#: the database the `db` suite uses, created by `covet-bench db init`
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/covetbench"

POSTGRESQL = "postgresql"
SQLITE = "sqlite"
_SCHEMES = {"postgresql": POSTGRESQL, "postgres": POSTGRESQL, "sqlite": SQLITE}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL; `text` is what the user gave, `shown` hides its password."""

    text: str
    backend: str
    #: PostgreSQL: the database name; SQLite: the file path
    database: str

    @property
    def shown(self) -> str:
        """The URL for messages: the password, if any, replaced by `***`."""
        parts = urlsplit(self.text)
        if parts.password is None:
            return self.text
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))

    @property
    def maintenance(self) -> str:
        """PostgreSQL: the same server's `postgres` database (where CREATE DATABASE runs)."""
        return urlunsplit(urlsplit(self.text)._replace(path="/postgres"))

    @property
    def is_postgresql(self) -> bool:
        return self.backend == POSTGRESQL


def parse_url(text: str) -> DatabaseURL:
    """Parse `text`; DatabaseError naming it when the scheme or the database is missing."""
    parts = urlsplit(text)
    backend = _SCHEMES.get(parts.scheme.lower())
    if backend is None:
        raise DatabaseError(
            f"database URL {text!r}: scheme {parts.scheme!r} is not one of "
            "postgresql:// (asyncpg) or sqlite:///path (aiosqlite)"
        )
    if backend == SQLITE:
        path = parts.path
        if parts.netloc or not path or path == "/":
            raise DatabaseError(
                f"database URL {text!r}: expected sqlite:///relative/path or sqlite:////abs/path"
            )
        return DatabaseURL(text, backend, path[1:])
    name = parts.path.lstrip("/")
    if not name or "/" in name:
        raise DatabaseError(f"database URL {text!r}: expected one database name after the host")
    return DatabaseURL(text, backend, name)


def server_env(text: str) -> dict[str, str]:
    """This process's environment plus `DATABASE_URL_ENV`: what a launched server gets."""
    parse_url(text)  # a malformed URL fails here, not inside every server
    return {**os.environ, DATABASE_URL_ENV: text}
