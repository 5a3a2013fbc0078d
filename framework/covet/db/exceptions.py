"""Errors raised by ``covet.db``, a branch of the one covet tree (``covet.exceptions``).

::

    CovetError
     +-- DatabaseError               any failure of covet.db; the driver's error is __cause__
          +-- DatabaseURLError       (also a ValueError) a URL covet.db cannot use
          +-- DatabaseUnavailable    (also an HTTPException 503) the database cannot be reached:
          |                          refused, reset, timed out, shut down, out of connections
          +-- NotConnectedError      a query before connect(), after disconnect(), or on a
          |                          connection whose ``async with`` block has ended
          +-- TransactionError       a transaction used wrongly (entered twice, used after exit)
          +-- QueryError             the database refused the statement (syntax, types,
               |                     a wrong number of parameters); ``sqlstate`` when known
               +-- IntegrityError    a constraint was violated (unique, foreign key, not null)
               +-- PlaceholderError  (also a ValueError) SQL written with another placeholder
                                     style than ``$1, $2``

``DatabaseUnavailable`` is an ``HTTPException`` with status 503 on purpose: the error that means
"try again later" carries its HTTP meaning with it, so any covet app (and any code path: a
handler, a middleware, a mounted app) answers 503 without registering anything, and an app that
wants another answer registers a handler for ``503`` or for the class. The client sees only
``{"detail": "Service Unavailable"}`` and ``Retry-After``; the cause (host, driver message) goes
to the ``covet.db`` logger and ``str(exc)``, never to the response. Every other
``DatabaseError`` is a server error (500, logged), because it means the code or the schema is
wrong, not that the database is away.
"""

from __future__ import annotations

from covet.exceptions import CovetError, HTTPException

__all__ = [
    "DatabaseError",
    "DatabaseURLError",
    "DatabaseUnavailable",
    "IntegrityError",
    "NotConnectedError",
    "PlaceholderError",
    "QueryError",
    "TransactionError",
]

# Seconds a client is told to wait after a 503 (the pool reconnects on the next acquire).
RETRY_AFTER_S = 1


class DatabaseError(CovetError):
    """Root of every error ``covet.db`` raises; the driver's own error is ``__cause__``."""


class DatabaseURLError(DatabaseError, ValueError):
    """The database URL is malformed or names a backend covet.db does not have."""


class DatabaseUnavailable(DatabaseError, HTTPException):
    """The database cannot be reached now; answered as ``503 Service Unavailable``.

    ``str(exc)`` says why (for logs); the response says only "Service Unavailable".
    """

    def __init__(self, reason: str) -> None:
        HTTPException.__init__(self, 503, headers={"Retry-After": str(RETRY_AFTER_S)})
        self.reason = reason

    def __str__(self) -> str:
        return f"database unavailable: {self.reason}"


class NotConnectedError(DatabaseError):
    """A statement was sent through a Database that is not connected, or through a
    connection whose ``async with`` block has ended."""


class TransactionError(DatabaseError):
    """A transaction was used wrongly: entered twice, or used after its block ended."""


class QueryError(DatabaseError):
    """The database refused the statement. ``sqlstate`` is PostgreSQL's code when known."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class IntegrityError(QueryError):
    """A constraint was violated: unique, primary key, foreign key, not null or check."""


class PlaceholderError(QueryError, ValueError):
    """The SQL uses a placeholder style other than PostgreSQL's ``$1, $2`` (``?``, ``$0``)."""
