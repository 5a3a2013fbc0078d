"""What covet.db adds to a PostgreSQL query, in-process (not a test, no HTTP).

    python benchmarks/db_overhead.py [--url postgresql://postgres@127.0.0.1:5432/test]

Interleaves, for ``--rounds`` rounds of ``--queries`` sequential ``fetchrow`` calls each:
asyncpg's own ``pool.fetchrow``, covet.db's ``db.fetchrow`` (a pool checkout per query, as
asyncpg's), and ``conn.fetchrow`` inside one ``db.connection()`` block (one checkout for all).
Both pools hold one connection. Prints the median microseconds per query of each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg

from covet.db import Database

SQL = "SELECT $1::int AS id, 42 AS randomnumber"


async def _timed(queries: int, one: Callable[[int], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for i in range(queries):
        await one(i)
    return (time.perf_counter() - start) / queries * 1e6


async def main(url: str, rounds: int, queries: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        "asyncpg pool.fetchrow": [],
        "covet db.fetchrow": [],
        "covet conn.fetchrow in one db.connection() block": [],
    }
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        async with Database(url, min_size=1, max_size=1) as db:
            for _ in range(rounds):
                results["asyncpg pool.fetchrow"].append(
                    await _timed(queries, lambda i: pool.fetchrow(SQL, i))
                )
                results["covet db.fetchrow"].append(
                    await _timed(queries, lambda i: db.fetchrow(SQL, i))
                )
                async with db.connection() as conn:
                    results["covet conn.fetchrow in one db.connection() block"].append(
                        await _timed(queries, lambda i: conn.fetchrow(SQL, i))
                    )
    finally:
        await pool.close()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=3000)
    args = parser.parse_args()
    for name, values in asyncio.run(main(args.url, args.rounds, args.queries)).items():
        print(f"{name}: median {statistics.median(values):.1f} us/query ({args.rounds} rounds)")
