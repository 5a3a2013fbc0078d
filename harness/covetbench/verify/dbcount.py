"""Query counts: send N requests, read what PostgreSQL counted, compare with N x rows.

TechEmpower reads `pg_stat_statements` around 512 requests. Here the counters are
`pg_stat_user_tables` (see `covetbench.db.stats`), and PostgreSQL 15 publishes a backend's
counters at the end of a transaction only when its last flush is a second old, an idle
backend's leftovers only after 10 s. So one count is a window:

1. wait `FLUSH_INTERVAL_S`, then a *nudge*: a burst on an endpoint that reads the *other*
   table (/fortunes while World is counted, /db while Fortune is), so every pooled connection
   ends a transaction and publishes what earlier requests left pending; nudge again until two
   readings agree, then they are `before`;
2. the measured burst: `requests` GETs of the scenario, `concurrency` at a time;
3. wait, nudge again, read `after`; while the counts fall short, nudge and read again until
   `deadline_s` has passed (a connection no nudge reached publishes within 10 s,
   PostgreSQL's PGSTAT_IDLE_INTERVAL).

A correct app passes in about two seconds; one that skips queries fails after `deadline_s`.
The verifier runs the pairs of a database run one after another, so no other app's queries
land in a window.

    window = count_window(base_url, "/db", database, requests=512, nudge="/fortunes",
                          enough=lambda delta, ok: delta.world_scans >= ok)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from covetbench.db.connect import connect_postgresql
from covetbench.db.stats import TableCounters, nudge_table, read_counters
from covetbench.db.url import parse_url

#: PostgreSQL publishes a backend's counters at most once a second (PGSTAT_MIN_INTERVAL)
FLUSH_INTERVAL_S = 1.05
#: connections of one nudge: more than any peer app's pool holds
NUDGE_CONNECTIONS = 32
#: most nudges before a window while earlier requests' counts are still being published
SETTLE_ROUNDS = 4
_POLL_S = 0.2
_TIMEOUT_S = 30.0


@dataclass
class CountWindow:
    """What one window measured: counter deltas and the measured burst's outcome."""

    delta: TableCounters
    ok: int
    failures: list[str] = field(default_factory=list)


async def _burst(
    client: httpx.AsyncClient, url: str, requests: int, concurrency: int
) -> CountWindow:
    gate = asyncio.Semaphore(concurrency)
    window = CountWindow(TableCounters(), 0)

    async def one() -> None:
        async with gate:
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                window.failures.append(f"{type(exc).__name__}: {exc}")
                return
            if response.status_code == 200:
                window.ok += 1
            else:
                window.failures.append(f"status {response.status_code}")

    await asyncio.gather(*(one() for _ in range(requests)))
    return window


async def _nudge(base_url: str, path: str, connections: int) -> None:
    """`connections` requests for `path` written back to back on as many fresh connections, so
    they reach the server in one event-loop turn and the app takes every pooled connection at
    once (requests that trickle in one by one would all get the pool's last-used one)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    opened = await asyncio.gather(
        *(asyncio.open_connection(host, port) for _ in range(connections)),
        return_exceptions=True,
    )
    streams = [s for s in opened if not isinstance(s, BaseException)]
    request = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
    for _, writer in streams:
        writer.write(request.encode("latin-1"))
    try:
        await asyncio.wait_for(
            asyncio.gather(*(reader.read() for reader, _ in streams), return_exceptions=True),
            _TIMEOUT_S,
        )
    except TimeoutError:
        pass  # a nudge only helps; the window's deadline bounds the wait
    finally:
        for _, writer in streams:
            writer.close()


async def _settled(conn: Any, base: str, nudge: str) -> TableCounters:
    """Counters once earlier requests' leftovers are published: nudge until two readings
    agree on the counted tables (the nudge's own table keeps moving; it is not compared)."""
    previous: TableCounters | None = None
    for _ in range(SETTLE_ROUNDS):
        await _nudge(base, nudge, NUDGE_CONNECTIONS)
        current = await read_counters(conn)
        if previous is not None and current.same_counted(previous, nudge_table(nudge)):
            break
        previous = current
    return current


async def _count(
    base_url: str,
    path: str,
    database: str,
    requests: int,
    concurrency: int,
    nudge: str,
    enough: Callable[[TableCounters, int], bool],
    deadline_s: float,
) -> CountWindow:
    conn = await connect_postgresql(parse_url(database))
    base = base_url.rstrip("/")
    limits = httpx.Limits(max_connections=concurrency)
    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT_S, limits=limits, trust_env=False) as client:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            before = await _settled(conn, base, nudge)
            window = await _burst(client, base + path, requests, concurrency)
        await asyncio.sleep(FLUSH_INTERVAL_S)
        deadline = time.monotonic() + deadline_s
        while True:
            # again while counts are missing: a connection the last nudge missed still holds
            # them, and it has not published for over a second, so the next one that reaches
            # it makes it publish
            await _nudge(base, nudge, NUDGE_CONNECTIONS)
            window.delta = await read_counters(conn) - before
            if enough(window.delta, window.ok) or time.monotonic() >= deadline:
                return window
            await asyncio.sleep(_POLL_S)
    finally:
        await conn.close()


def count_window(
    base_url: str,
    path: str,
    database: str,
    *,
    requests: int,
    concurrency: int,
    nudge: str,
    enough: Callable[[TableCounters, int], bool],
    deadline_s: float = 11.0,
) -> CountWindow:
    """One measured window (module docstring); `enough(delta, ok)` says when the counts of `ok`
    answered requests are all in. DatabaseError when PostgreSQL is unreachable."""
    return asyncio.run(
        _count(base_url, path, database, requests, concurrency, nudge, enough, deadline_s)
    )
