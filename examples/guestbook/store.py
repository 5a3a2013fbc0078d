"""The guestbook's tables and every statement it runs, on SQLite or PostgreSQL via covet.db.

Two tables: ``guestbook_users`` (a name and an scrypt hash) and ``guestbook_entries`` (a text
by a user). Every statement takes its values as ``$1, $2`` parameters, bound by the driver:
what a visitor types is data, never SQL. Timestamps are stored as ISO 8601 UTC text, which
sorts and reads the same on both databases.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from covet.db import Database, IntegrityError, Record

__all__ = ["Account", "Entry", "GuestbookStore", "UsernameTaken"]

_USERS = """CREATE TABLE IF NOT EXISTS guestbook_users (
    id {identity},
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL)"""
_ENTRIES = """CREATE TABLE IF NOT EXISTS guestbook_entries (
    id {identity},
    user_id BIGINT NOT NULL REFERENCES guestbook_users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL)"""
_ENTRIES_BY_USER = (
    "CREATE INDEX IF NOT EXISTS guestbook_entries_by_user ON guestbook_entries (user_id, id)"
)
# The one piece of DDL the two databases spell differently: an auto-numbered key.
_SCHEMA = {
    dialect: (_USERS.format(identity=key), _ENTRIES.format(identity=key), _ENTRIES_BY_USER)
    for dialect, key in (
        ("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        ("postgresql", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    )
}
# Any constant number: it only has to be the same in every worker that creates the schema.
_SCHEMA_LOCK = 0x6775657374

_SELECT_ENTRY = """SELECT e.id, e.body, e.created_at, u.username
    FROM guestbook_entries e JOIN guestbook_users u ON u.id = e.user_id
    WHERE e.id = $1"""
_SELECT_LATEST = """SELECT e.id, e.body, e.created_at, u.username
    FROM guestbook_entries e JOIN guestbook_users u ON u.id = e.user_id
    ORDER BY e.id DESC LIMIT $1"""
_SELECT_OLDER = """SELECT e.id, e.body, e.created_at, u.username
    FROM guestbook_entries e JOIN guestbook_users u ON u.id = e.user_id
    WHERE e.id < $2 ORDER BY e.id DESC LIMIT $1"""
_SELECT_BY_AUTHOR = """SELECT e.id, e.body, e.created_at, u.username
    FROM guestbook_entries e JOIN guestbook_users u ON u.id = e.user_id
    WHERE u.username = $1 ORDER BY e.id DESC LIMIT $2"""


class UsernameTaken(Exception):
    """Somebody registered that name first."""


@dataclass(frozen=True)
class Account:
    """A registered user; what ``request.user`` is once signed in (covet.auth's BaseUser)."""

    id: int
    username: str

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.username

    @property
    def identity(self) -> str:
        return str(self.id)


@dataclass(frozen=True)
class Entry:
    """One guestbook entry and its author's name."""

    id: int
    author: str
    body: str
    created_at: str

    @classmethod
    def from_row(cls, row: Record) -> Entry:
        return cls(int(row["id"]), row["username"], row["body"], row["created_at"])


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


class GuestbookStore:
    """The guestbook's queries on one :class:`covet.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_schema(self) -> None:
        """Create the tables if they are missing (every start; harmless when they exist).

        On PostgreSQL, workers starting together would race on ``CREATE TABLE IF NOT
        EXISTS`` (it is not atomic there), so they take turns behind an advisory lock.
        """
        async with self.db.transaction():
            if self.db.dialect == "postgresql":
                await self.db.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
            for statement in _SCHEMA[self.db.dialect]:
                await self.db.execute(statement)

    # -- accounts -------------------------------------------------------------------------

    async def create_account(self, username: str, password_hash: str) -> Account:
        try:
            new_id = await self.db.fetchval(
                "INSERT INTO guestbook_users (username, password_hash, created_at) "
                "VALUES ($1, $2, $3) RETURNING id",
                username,
                password_hash,
                _now(),
            )
        except IntegrityError:
            raise UsernameTaken(username) from None
        return Account(int(new_id), username)

    async def account(self, account_id: int) -> Account | None:
        row = await self.db.fetchrow(
            "SELECT id, username FROM guestbook_users WHERE id = $1", account_id
        )
        return None if row is None else Account(int(row["id"]), row["username"])

    async def account_named(self, username: str) -> Account | None:
        row = await self.db.fetchrow(
            "SELECT id, username FROM guestbook_users WHERE username = $1", username
        )
        return None if row is None else Account(int(row["id"]), row["username"])

    async def credentials(self, username: str) -> tuple[Account, str] | None:
        """The account called ``username`` and its stored password hash."""
        row = await self.db.fetchrow(
            "SELECT id, username, password_hash FROM guestbook_users WHERE username = $1",
            username,
        )
        if row is None:
            return None
        return Account(int(row["id"]), row["username"]), row["password_hash"]

    async def set_password_hash(self, account_id: int, password_hash: str) -> None:
        await self.db.execute(
            "UPDATE guestbook_users SET password_hash = $1 WHERE id = $2",
            password_hash,
            account_id,
        )

    # -- entries --------------------------------------------------------------------------

    async def add_entry(self, author: Account, body: str) -> Entry:
        created_at = _now()
        new_id = await self.db.fetchval(
            "INSERT INTO guestbook_entries (user_id, body, created_at) "
            "VALUES ($1, $2, $3) RETURNING id",
            author.id,
            body,
            created_at,
        )
        return Entry(int(new_id), author.username, body, created_at)

    async def entry(self, entry_id: int) -> Entry | None:
        row = await self.db.fetchrow(_SELECT_ENTRY, entry_id)
        return None if row is None else Entry.from_row(row)

    async def latest(self, limit: int, before: int | None = None) -> list[Entry]:
        """The newest ``limit`` entries (older than entry ``before`` when given)."""
        if before is None:
            rows = await self.db.fetch(_SELECT_LATEST, limit)
        else:
            rows = await self.db.fetch(_SELECT_OLDER, limit, before)
        return [Entry.from_row(row) for row in rows]

    async def by_author(self, username: str, limit: int) -> list[Entry]:
        rows = await self.db.fetch(_SELECT_BY_AUTHOR, username, limit)
        return [Entry.from_row(row) for row in rows]

    async def delete_entry(self, entry_id: int, author: Account) -> bool:
        """Delete the entry if ``author`` wrote it; whether a row went."""
        deleted = await self.db.execute(
            "DELETE FROM guestbook_entries WHERE id = $1 AND user_id = $2", entry_id, author.id
        )
        return deleted > 0
