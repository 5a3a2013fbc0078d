"""What the database saw: PostgreSQL's per-table statistics, and World's rows.

Query counts come from `pg_stat_user_tables` (the statistics collector's per-table view of the
counters `pg_stat_database` sums) and `pg_stat_database`'s transactions: each
`SELECT ... WHERE id = $1` on World is one index scan and, outside a transaction block, one
transaction; an `= ANY(...)` batch is as many scans but one transaction; an UPDATE adds to
`n_tup_upd`.
`pg_stat_statements` would be exact per statement, but it needs `shared_preload_libraries` (a
server restart), which a shared PostgreSQL cannot be asked for.

PostgreSQL 15 flushes a backend's counters at the end of a transaction at most once a second,
and an idle backend's leftovers only after 10 s; `covetbench.verify.dbcount` makes the app's
connections flush before it reads them.

    counters = await read_counters(conn)   # TableCounters(world_scans=..., ...)
    rows = await world_rows(URL)           # {1: 4242, 2: 17, ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from covetbench.db.connect import connect_postgresql, open_sqlite
from covetbench.db.url import parse_url

_COUNTERS = """
SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0), n_tup_upd
FROM pg_stat_user_tables
WHERE relname IN ('world', 'fortune') AND schemaname = current_schema()
UNION ALL
SELECT '', xact_commit + xact_rollback, 0 FROM pg_stat_database WHERE datname = current_database()
"""


@dataclass(frozen=True)
class TableCounters:
    """Cumulative scans of World and Fortune, rows updated in World, and the database's
    transactions; subtract two readings.

    Scans count rows looked up, not statements: PostgreSQL 15 counts one index scan per element
    of `id = ANY($1)`. A statement outside a transaction block is a transaction of its own, so
    `transactions` is what tells one query per row from one batched query.
    """

    world_scans: int = 0
    world_updates: int = 0
    fortune_scans: int = 0
    transactions: int = 0

    def same_counted(self, other: TableCounters, moving: str) -> bool:
        """Equal on the tables' counters except those of table `moving` ("world" or
        "fortune"); transactions are not compared (every request moves them)."""
        if moving == "world":
            return self.fortune_scans == other.fortune_scans
        return (self.world_scans, self.world_updates) == (other.world_scans, other.world_updates)

    def __sub__(self, other: TableCounters) -> TableCounters:
        return TableCounters(
            self.world_scans - other.world_scans,
            self.world_updates - other.world_updates,
            self.fortune_scans - other.fortune_scans,
            self.transactions - other.transactions,
        )


def nudge_table(path: str) -> str:
    """The table a nudge endpoint reads: /fortunes reads Fortune, anything else World."""
    return "fortune" if path.startswith("/fortunes") else "world"


async def read_counters(conn: Any) -> TableCounters:
    """The current counters. Outside a transaction block each statement gets a fresh
    statistics snapshot (`stats_fetch_consistency` caches one per transaction)."""
    values: dict[str, tuple[int, int]] = {
        row[0]: (int(row[1]), int(row[2])) for row in await conn.fetch(_COUNTERS)
    }
    world = values.get("world", (0, 0))
    fortune = values.get("fortune", (0, 0))
    return TableCounters(world[0], world[1], fortune[0], values.get("", (0, 0))[0])


async def world_rows(text: str) -> dict[int, int]:
    """World as {id: randomNumber}, from PostgreSQL or SQLite."""
    url = parse_url(text)
    query = "SELECT id, randomNumber FROM world"
    if url.is_postgresql:
        conn = await connect_postgresql(url)
        try:
            return {int(r[0]): int(r[1]) for r in await conn.fetch(query)}
        finally:
            await conn.close()
    async with open_sqlite(url) as db, db.execute(query) as cursor:
        return {int(r[0]): int(r[1]) for r in await cursor.fetchall()}
