"""Database URLs: which backend, where, and how to print one without its password.

::

    postgresql://user:password@host:5432/name?search_path=app   asyncpg (a pool)
    postgres://...  postgresql+asyncpg://...                     the same
    sqlite:///relative/path.db   sqlite:////absolute/path.db     aiosqlite
    sqlite:///:memory:                                           one private in-memory database

The SQLAlchemy spellings (``+asyncpg``, ``+aiosqlite``) are accepted so one
``COVET_DATABASE_URL`` can serve covet.db and an SQLAlchemy engine alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from covet.db.exceptions import DatabaseURLError

__all__ = ["DEFAULT_URL", "ENV_VAR", "DatabaseURL", "resolve_url"]

ENV_VAR = "COVET_DATABASE_URL"
# SQLite is the embedded default: everything runs with no database server.
DEFAULT_URL = "sqlite:///:memory:"
MEMORY = ":memory:"

Dialect = Literal["postgresql", "sqlite"]

_SCHEMES: dict[str, Dialect] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+asyncpg": "postgresql",
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL. ``str()`` and ``repr()`` hide the password."""

    raw: str
    dialect: Dialect

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        scheme, sep, _ = url.partition("://")
        if not sep:
            raise DatabaseURLError(
                f"not a database URL: {redact(url)!r} (expected postgresql://... or sqlite:///...)"
            )
        dialect = _SCHEMES.get(scheme.lower())
        if dialect is None:
            known = ", ".join(sorted(_SCHEMES))
            raise DatabaseURLError(
                f"unknown database scheme {scheme!r} in {redact(url)!r}: {known}"
            )
        if dialect == "sqlite" and not url.partition("://")[2].startswith("/"):
            raise DatabaseURLError(
                f"{redact(url)!r}: SQLite URLs have three slashes before a relative path "
                "(sqlite:///app.db) and four before an absolute one (sqlite:////tmp/app.db)"
            )
        return cls(url, dialect)

    @property
    def dsn(self) -> str:
        """The URL for asyncpg: the scheme it knows (``postgresql``)."""
        return "postgresql://" + self.raw.partition("://")[2]

    @property
    def sqlite_path(self) -> str:
        """The file path of a SQLite URL (``:memory:`` for an in-memory database)."""
        rest = self.raw.partition("://")[2]
        path = unquote(rest[1:].partition("?")[0])  # drop the slash that ends the empty host
        if not path:
            raise DatabaseURLError(f"{self.raw!r}: no SQLite path (use sqlite:///:memory:)")
        return path

    @property
    def is_memory(self) -> bool:
        return self.dialect == "sqlite" and self.sqlite_path == MEMORY

    def __str__(self) -> str:
        return redact(self.raw)

    def __repr__(self) -> str:
        return f"DatabaseURL({redact(self.raw)!r})"


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for errors and logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    userinfo = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[2]}"))


def resolve_url(url: str | None) -> DatabaseURL:
    """``url``, else ``$COVET_DATABASE_URL``, else the in-memory SQLite default."""
    if url is None:
        url = os.environ.get(ENV_VAR) or DEFAULT_URL
    return DatabaseURL.parse(url)
