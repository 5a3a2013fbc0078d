"""The database endpoints on real servers and a real PostgreSQL, checked by the verify step:
raw (asyncpg) and covet (covet.db) pass every rule; an app that batches, caches, skips the
escaping and writes nothing fails each rule with its reason; SQL in `queries` stays data."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from covetbench.db.stats import world_rows
from covetbench.db.url import DATABASE_URL_ENV
from covetbench.records import VerifyRecord
from covetbench.results.store import load_results
from covetbench.run.runner import Runner, RunOptions
from covetbench.run.schedule import build_plan
from covetbench.run.suite import Suite, SuiteEntry
from covetbench.scenarios import SCENARIOS
from covetbench.servers import AppTarget
from covetbench.verify import DatabaseCheck, verify_server
from tests.harness.conftest import MakeApp
from tests.harness.db.conftest import LaunchWithDatabase, MakeDatabase

DB_SCENARIOS = [name for name, spec in SCENARIOS.items() if spec.needs_database]
#: fewer than TechEmpower's 512 requests per query-count window: a test, not a benchmark
COUNT_REQUESTS = 32

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]

# Breaks every rule while looking plausible: a constant /db row, one `= ANY($1)` query for all
# rows, no clamping (0 -> no rows), fortunes by id and unescaped, updates never written.
CHEATING_APP = f"""
import json, os, random
import asyncpg

POOL = []

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                POOL.append(await asyncpg.create_pool(os.environ["{DATABASE_URL_ENV}"],
                                                      min_size=2, max_size=2))
                await send({{"type": "lifespan.startup.complete"}})
            else:
                await POOL[0].close()
                await send({{"type": "lifespan.shutdown.complete"}})
                return
    path, query = scope["path"], scope["query_string"].decode()
    raw = query.partition("=")[2]
    n = int(raw) if raw.isdigit() else 1
    ctype, body = b"application/json", b""
    async with POOL[0].acquire() as conn:
        if path == "/db":
            body = json.dumps({{"id": 1, "randomNumber": 1}}).encode()
        elif path in ("/queries", "/updates", "/cached-queries"):
            ids = [random.randint(1, 10000) for _ in range(n)]
            rows = await conn.fetch("SELECT id, randomNumber FROM world WHERE id = ANY($1)", ids)
            body = json.dumps([{{"id": r[0], "randomNumber": r[1]}} for r in rows]).encode()
        else:
            rows = await conn.fetch("SELECT id, message FROM fortune ORDER BY id")
            cells = "".join(f"<tr><td>{{r[0]}}</td><td>{{r[1]}}</td></tr>" for r in rows)
            body = f"<table><tr><th>id</th><th>message</th></tr>{{cells}}</table>".encode()
            ctype = b"text/html; charset=utf-8"
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", ctype)]}})
    await send({{"type": "http.response.body", "body": body}})
"""


def test_sql_in_queries_stays_data(
    make_pg_database: MakeDatabase, launch_with_database: LaunchWithDatabase
) -> None:
    url = make_pg_database()
    server = launch_with_database("raw", url)
    for hostile in ("1; DROP TABLE world", "1) OR (1=1", "'; DELETE FROM world; --"):
        response = httpx.get(server.base_url + "/queries", params={"queries": hostile})
        assert response.status_code == 200 and len(response.json()) == 1
    assert len(asyncio.run(world_rows(url))) == 10_000


def test_database_rules_pass_raw_and_covet_and_fail_a_cheat(
    make_pg_database: MakeDatabase, launch_with_database: LaunchWithDatabase, make_app: MakeApp
) -> None:
    # Each app its own database, so one's query counts never see another's queries; the three
    # verify at once (a count window mostly waits for PostgreSQL to publish its counters).
    targets: dict[str, str | AppTarget] = {
        "raw": "raw",
        "covet": "covet",
        "cheat": make_app("cheat", CHEATING_APP),
    }
    urls = {name: make_pg_database() for name in targets}
    servers = {name: launch_with_database(t, urls[name]) for name, t in targets.items()}
    checks = {
        "raw": DatabaseCheck(urls["raw"], count_requests=COUNT_REQUESTS),
        "covet": DatabaseCheck(urls["covet"], count_requests=COUNT_REQUESTS),
        # a short wait for late counts: the cheat's counts are short for good, not late
        "cheat": DatabaseCheck(urls["cheat"], count_requests=16, count_deadline_s=0.5),
    }

    def verify(name: str) -> list[VerifyRecord]:
        scenarios = [*DB_SCENARIOS, "json"]
        base = servers[name].base_url
        return verify_server(base, name, "uvicorn", scenarios, database=checks[name])

    with ThreadPoolExecutor(max_workers=3) as pool:
        records = dict(zip(targets, pool.map(verify, targets), strict=True))
    for app in ("raw", "covet"):
        got = [(r.scenario, r.status, r.reasons) for r in records[app]]
        assert got == [(n, "pass", []) for n in [*DB_SCENARIOS, "json"]], (
            app,
            servers[app].log_tail(),
        )
        # the verify step sent `queries=1; DROP TABLE world` and friends: still 10,000 rows
        assert len(asyncio.run(world_rows(urls[app]))) == 10_000

    reasons = {r.scenario: " | ".join(r.reasons) for r in records["cheat"]}
    assert all(r.status == "fail" for r in records["cheat"] if r.scenario != "json"), reasons
    assert "world scans over 16 x /db: PostgreSQL counted 0" in reasons["db"]
    assert "/queries?queries=0: 0 rows, expected 1" in reasons["queries"]
    # PostgreSQL 15 counts an index scan per element of `= ANY($1)`: the transactions tell
    assert "statements over 16 x /queries?queries=20: PostgreSQL counted" in reasons["queries"]
    assert "fortune row 1 is ('1', 'fortune: No such file or directory')" in reasons["fortunes"]
    assert "rows answered were written to World" in reasons["updates"]
    assert (
        "world rows updated over 16 x /updates?queries=20: PostgreSQL counted 0"
        in (reasons["updates"])
    )
    assert "fail: /cached-queries?count=0: 0 rows, expected 1" in reasons["cached-queries"]


@pytest.mark.needs_wrk
def test_tiny_database_run_end_to_end(make_pg_database: MakeDatabase, tmp_path: Path) -> None:
    # One second of wrk on /db: the runner fills the database, hands its URL to the server,
    # verifies with the query count, and loads it without errors.
    url = make_pg_database(fill=False)
    entry = SuiteEntry("", ("raw",), ("uvicorn",), ("db",), (4,))
    suite = Suite("tiny-db", (entry,), duration_s=1, warmup_s=0, trials=1, database=url)
    out = tmp_path / "out"
    options = RunOptions(out_dir=out, lock_path=tmp_path / "lock", idle_timeout_s=2.0, report=False)
    Runner(build_plan(suite), options).run()
    data = load_results(out)
    assert [(v["scenario"], v["status"], v["reasons"]) for v in data["verify"]] == [
        ("db", "pass", [])
    ]
    [trial] = data["runs"]
    assert trial["scenario"] == "db" and trial["requests"] > 0 and trial["error_rate"] == 0
    assert len(asyncio.run(world_rows(url))) == 10_000  # filled by the runner
