"""The one placeholder style: ``$N`` kept for PostgreSQL, rewritten as ``?N`` for SQLite, and
never inside a literal, a quoted identifier or a comment."""

from __future__ import annotations

import pytest

from covet.db import PlaceholderError
from covet.db.placeholders import to_sqlite


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT * FROM t WHERE a = $1 AND b = $2", "SELECT * FROM t WHERE a = ?1 AND b = ?2"),
        ("SELECT $2, $1, $2", "SELECT ?2, ?1, ?2"),
        ("SELECT $10", "SELECT ?10"),
        ("SELECT $01", "SELECT ?1"),
        ("SELECT '$1', $1", "SELECT '$1', ?1"),
        ("SELECT 'it''s $1', $1", "SELECT 'it''s $1', ?1"),
        ('SELECT "col$1", "a""$2", $1', 'SELECT "col$1", "a""$2", ?1'),
        ("SELECT `x$1`, [y$1], $1", "SELECT `x$1`, [y$1], ?1"),
        ("SELECT $1 -- and $2 ?\nFROM t", "SELECT ?1 -- and $2 ?\nFROM t"),
        ("SELECT /* $2 ? :x */ $1", "SELECT /* $2 ? :x */ ?1"),
        ("SELECT a$1 FROM t", "SELECT a$1 FROM t"),
        ("SELECT '12:30', 'a@b', '?'", "SELECT '12:30', 'a@b', '?'"),
        ("SELECT $1::int", "SELECT ?1::int"),
        ("SELECT 'unterminated $1", "SELECT 'unterminated $1"),
        ("SELECT 1 /* unterminated $1", "SELECT 1 /* unterminated $1"),
    ],
)
def test_translation(sql: str, expected: str) -> None:
    assert to_sqlite(sql) == expected


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM t WHERE a = ?", "'?'"),
        ("SELECT * FROM t WHERE a = ?1", "'?'"),
        ("SELECT * FROM t WHERE a = :name", "':'"),
        ("SELECT * FROM t WHERE a = @name", "'@'"),
        ("SELECT * FROM t WHERE a = $name", "not followed by a parameter number"),
        ("SELECT $0", "numbered from $1"),
    ],
)
def test_other_styles_are_refused(sql: str, message: str) -> None:
    with pytest.raises(PlaceholderError, match="offset") as info:
        to_sqlite(sql)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
