"""When the database goes away: 503 with nothing leaked, then recovery when it returns.

PostgreSQL outages are real: a TCP forwarder in front of the real server is cut and restored,
and the pool's backends are killed with ``pg_terminate_backend`` under covet's own server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from covet import Covet, JSONResponse, Request
from covet.db import Database, DatabaseUnavailable
from covet.testclient import TestClient
from covetbench.servers import AppTarget, ServerOptions, get_server
from tests.covet.conftest import POSTGRES_URL, with_query
from tests.covet.db.tcpproxy import TCPProxy

APP_DIR = Path(__file__).parent
UNAVAILABLE = {"detail": "Service Unavailable"}


def _app(db: Database) -> Covet:
    app = Covet(lifespan=db.lifespan)

    @app.get("/one")
    async def one() -> dict[str, int]:
        return {"one": await db.fetchval("SELECT 1")}

    return app


def _through(proxy: TCPProxy, url: str) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@127.0.0.1:{proxy.port}" if user else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TCPProxy]:
    target = urlsplit(POSTGRES_URL)
    forwarder = TCPProxy(target.hostname or "127.0.0.1", target.port or 5432)
    try:
        yield forwarder
    finally:
        forwarder.close()


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == "1"
    assert "127.0.0.1" not in response.text and "postgres" not in response.text


def test_outage_is_503_then_the_pool_recovers(pg_url: str, proxy: TCPProxy) -> None:
    proxy.start()
    db = Database(_through(proxy, pg_url), min_size=2, max_size=2, timeout=2)
    with TestClient(_app(db)) as client:
        assert client.get("/one").json() == {"one": 1}
        proxy.stop()  # open connections reset, new ones refused
        for _ in range(3):
            _assert_unavailable(client.get("/one"))
        proxy.start()  # the database is back
        for _ in range(3):
            assert client.get("/one").json() == {"one": 1}


def test_database_down_at_startup(pg_url: str, proxy: TCPProxy) -> None:
    url = _through(proxy, pg_url)  # nothing listens there yet
    with pytest.raises(DatabaseUnavailable) as info, TestClient(_app(Database(url, timeout=2))):
        pass
    assert f"127.0.0.1:{proxy.port}" in str(info.value)
    # min_size=0 opens no connection at startup: the app starts, answers 503, then recovers.
    with TestClient(_app(Database(url, min_size=0, timeout=2))) as client:
        _assert_unavailable(client.get("/one"))
        proxy.start()
        assert client.get("/one").json() == {"one": 1}


def test_sqlite_locked_is_503_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}", timeout=0.2)
    app = Covet(lifespan=db.lifespan)

    @app.post("/add")
    async def add() -> dict[str, int]:
        return {"added": await db.execute("INSERT INTO t VALUES ($1)", 1)}

    with TestClient(app) as client:
        asyncio.run(_create(path))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            _assert_unavailable(client.post("/add"))
        finally:
            holder.execute("COMMIT")
            holder.close()
        assert client.post("/add").json() == {"added": 1}


async def _create(path: Path) -> None:
    async with Database(f"sqlite:///{path}") as db:
        await db.execute("CREATE TABLE t (v INTEGER)")


def test_an_app_may_answer_unavailability_its_own_way(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}", min_size=0)
    app = Covet()

    @app.exception_handler(DatabaseUnavailable)
    async def maintenance(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"maintenance": True}, status_code=503)

    @app.get("/")
    async def index() -> None:
        await db.connect()  # the directory does not exist: SQLite cannot open the file

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 503 and response.json() == {"maintenance": True}


def test_a_failed_sqlite_connect_leaves_no_thread_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiosqlite stops a failed connection's thread through a future of the caller's loop; a
    loop closed right after the failure (a client gone, a worker stopping) must not leave that
    thread to die on it ("Event loop is closed": 17 of 30 loops did before the fix)."""
    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    before = set(threading.enumerate())

    async def connect_and_leave() -> None:
        db = Database(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}", min_size=0)
        with pytest.raises(DatabaseUnavailable):
            await db.connect()

    for _ in range(30):
        asyncio.run(connect_and_leave())  # closes its loop as soon as the failure is raised
    assert errors == []
    assert not [t for t in set(threading.enumerate()) - before if t.is_alive()]


def test_terminated_backends_under_covets_server(pg_url: str, tmp_path: Path) -> None:
    """Kill the pool's PostgreSQL backends under a running covet server: the same worker
    goes on answering from fresh connections, never a 500."""
    name = f"covet-terminate-{tmp_path.name}"[:60]
    env = dict(os.environ, COVET_DATABASE_URL=with_query(pg_url, application_name=name))
    target = AppTarget("covet-db", "db_app:app", str(APP_DIR))
    server = get_server("covet").launch(target, ServerOptions(), tmp_path / "server.log", env=env)
    try:
        url = server.base_url + "/pids"
        before = httpx.get(url, timeout=10).json()
        killed = asyncio.run(_terminate(name))
        assert before["backend"] in killed
        statuses = []
        after = None
        for _ in range(5):
            response = httpx.get(url, timeout=10)
            statuses.append(response.status_code)
            if response.status_code == 200:
                after = response.json()
        assert set(statuses) <= {200, 503}, statuses
        assert statuses[-2:] == [200, 200], statuses
        assert after is not None and after["worker"] == before["worker"]
        assert after["backend"] not in killed
        # A statement running when its backend dies: that request is a 503, not a 500.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            sleeping = pool.submit(httpx.get, server.base_url + "/sleep", timeout=20)
            killed = asyncio.run(_terminate(name, running="SELECT pg_sleep(30)"))
            assert len(killed) == 1
            _assert_unavailable(sleeping.result())
        assert httpx.get(url, timeout=10).json()["worker"] == before["worker"]
        assert server.proc.poll() is None
    finally:
        server.stop()


async def _terminate(application_name: str, running: str | None = None) -> list[int]:
    """Terminate the app's backends (only the one running ``running``, once it runs)."""
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        select = (
            "SELECT pid, pg_terminate_backend(pid) AS done FROM pg_stat_activity"
            " WHERE application_name = $1 AND pid <> pg_backend_pid()"
        )
        if running is None:
            rows = await conn.fetch(select, application_name)
        else:
            for _ in range(250):  # until the statement runs (bounded: 250 x 20 ms)
                rows = await conn.fetch(select + " AND query = $2", application_name, running)
                if rows:
                    break
                await asyncio.sleep(0.02)
        killed = [r["pid"] for r in rows if r["done"]]
        for _ in range(100):  # until they are gone (bounded: 100 x 20 ms)
            left = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = any($1::int[])", killed
            )
            if not left:
                break
            await asyncio.sleep(0.02)
        return killed
    finally:
        await conn.close()
