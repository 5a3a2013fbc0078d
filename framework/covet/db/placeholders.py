"""One placeholder style for every backend: PostgreSQL's ``$1, $2``.

PostgreSQL gets the SQL unchanged. SQLite gets the same numbered parameters in its own spelling,
``?1, ?2`` (same numbers, so a parameter may be used twice or out of order, as in PostgreSQL).
The translation is a small scanner, not a regex, because ``$1`` inside a string literal, a
quoted identifier or a comment is text, not a parameter::

    to_sqlite("SELECT '$1', \"a$1\", x FROM t WHERE id = $1 -- $2")
    # "SELECT '$1', \"a$1\", x FROM t WHERE id = ?1 -- $2"

Any other placeholder style outside literals (``?``, ``?3``, ``:name``, ``@name``, ``$name``)
raises :class:`PlaceholderError`: SQL written for one backend must mean the same on the other.
Values never enter the SQL text; they are always bound by the driver.
"""

from __future__ import annotations

import functools

from covet.db.exceptions import PlaceholderError

__all__ = ["to_sqlite"]

_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
# Opening quote -> closing quote; a doubled closing quote inside is an escaped one.
_QUOTES = {"'": "'", '"': '"', "`": "`", "[": "]"}


def _skip_quoted(sql: str, i: int, close: str) -> int:
    """Index just after the literal that starts at ``sql[i]`` (the end if unterminated)."""
    n = len(sql)
    j = i + 1
    while j < n:
        if sql[j] == close:
            if close != "]" and j + 1 < n and sql[j + 1] == close:
                j += 2  # '' or "" inside: an escaped quote
                continue
            return j + 1
        j += 1
    return n


def _where(sql: str, i: int) -> str:
    return f"at offset {i} of {sql[:60]!r}" + ("..." if len(sql) > 60 else "")


@functools.lru_cache(maxsize=1024)
def to_sqlite(sql: str) -> str:
    """``sql`` with ``$N`` placeholders rewritten as SQLite's ``?N``.

    Cached: applications send the same few statements over and over.
    """
    if "$" not in sql and "?" not in sql and ":" not in sql and "@" not in sql:
        return sql
    out: list[str] = []
    n = len(sql)
    start = i = 0
    while i < n:
        c = sql[i]
        if c in _QUOTES:
            i = _skip_quoted(sql, i, _QUOTES[c])
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "/" and sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == "$":
            if i > 0 and sql[i - 1] in _IDENT:
                i += 1  # part of an identifier such as a$1
                continue
            j = i + 1
            while j < n and sql[j].isdigit():
                j += 1
            digits = sql[i + 1 : j]
            if not digits:
                raise PlaceholderError(
                    f"'$' not followed by a parameter number {_where(sql, i)}: "
                    "covet.db uses $1, $2, ... on every backend"
                )
            if int(digits) == 0:
                raise PlaceholderError(f"parameters are numbered from $1, not $0 {_where(sql, i)}")
            out.append(sql[start:i])
            out.append("?" + str(int(digits)))
            start = i = j
        elif c == ":" and sql.startswith("::", i):
            i += 2  # a PostgreSQL cast: not a placeholder, and SQLite will say what it thinks
        elif c == "?" or (c in ":@" and i + 1 < n and sql[i + 1] in _IDENT_START):
            raise PlaceholderError(
                f"placeholder {c!r} {_where(sql, i)}: covet.db uses $1, $2, ... on every backend"
            )
        else:
            i += 1
    out.append(sql[start:])
    return "".join(out)
