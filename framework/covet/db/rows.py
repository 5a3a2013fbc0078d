"""Rows: one read-only, mapping-like shape on every backend.

PostgreSQL rows are asyncpg's own ``Record`` (no copy on the hot path); SQLite rows are
:class:`Row`, which behaves the same way. Both support::

    row["name"]   row[0]   row.get("name", default)   "name" in row   len(row)
    row.keys()    row.values()   row.items()   dict(row)   tuple(row)  # values, in order

Iterating a row yields its values (as a tuple would), ``in`` looks at column names (as a mapping
would): that is asyncpg's choice, and SQLite rows follow it so code moves between backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

__all__ = ["Columns", "Record", "Row", "row_factory"]


class Record(Protocol):
    """What every row returned by ``covet.db`` supports, whatever the backend."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def get(self, key: str, default: Any = None, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...

    def values(self) -> Iterable[Any]: ...

    def items(self) -> Iterable[tuple[str, Any]]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __contains__(self, key: object, /) -> bool: ...


class Columns:
    """The column names of one statement's result and where each name first appears."""

    __slots__ = ("index", "names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.index: dict[str, int] = {}
        for position, name in enumerate(names):
            self.index.setdefault(name, position)


class Row:
    """A SQLite row: values in column order plus the (shared) columns of its statement."""

    __slots__ = ("_columns", "_index", "_values")

    def __init__(self, columns: Columns, values: tuple[Any, ...]) -> None:
        self._columns = columns
        self._index = columns.index
        self._values = values

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._index[key]]
            except KeyError:
                raise KeyError(key) from None
        return self._values[key]

    def get(self, key: str, default: Any = None, /) -> Any:
        position = self._index.get(key)
        return default if position is None else self._values[position]

    def keys(self) -> list[str]:
        return list(self._columns.names)

    def values(self) -> list[Any]:
        return list(self._values)

    def items(self) -> list[tuple[str, Any]]:
        return list(zip(self._columns.names, self._values, strict=True))

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __contains__(self, key: object, /) -> bool:
        return key in self._index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Row):
            return self._values == other._values and self._columns.names == other._columns.names
        if isinstance(other, tuple):
            return self._values == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-free but compared like a tuple

    def __repr__(self) -> str:
        fields = " ".join(
            f"{k}={v!r}" for k, v in zip(self._columns.names, self._values, strict=True)
        )
        return f"<Row {fields}>"


_COLUMNS: dict[tuple[str, ...], Columns] = {}


def row_factory(cursor: Any, values: Sequence[Any]) -> Row:
    """sqlite3's ``row_factory``: one shared :class:`Columns` per distinct column list.

    Duplicate names (``SELECT a.id, b.id``): ``row["id"]`` is the first, like asyncpg.
    """
    names = tuple(d[0] for d in cursor.description)
    columns = _COLUMNS.get(names)
    if columns is None:
        columns = Columns(names)
        if len(_COLUMNS) < 4096:  # bounded: statements are few, but SQL may be generated
            _COLUMNS[names] = columns
    return Row(columns, tuple(values))
