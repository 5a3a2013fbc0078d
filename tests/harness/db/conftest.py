"""Real databases for the database tests: PostgreSQL at 127.0.0.1:5432 (each test module its
own freshly created database, dropped afterwards) and SQLite files in a temporary directory.

PostgreSQL unreachable is a failure naming the URL, not a skip: the issue asks for these tests
to run for real.

    def test_x(make_pg_database):
        url = make_pg_database()      # filled by `db init`, dropped at the end of the module
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from covetbench.apps import builtin_apps
from covetbench.db.setup import init_database
from covetbench.db.url import server_env
from covetbench.servers import AppTarget, RunningServer, ServerOptions, get_server

#: the PostgreSQL server the tests use (trust auth, user postgres)
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
MakeDatabase = Callable[..., str]
LaunchWithDatabase = Callable[..., RunningServer]


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _check_reachable() -> None:
    try:
        asyncio.run(_admin("SELECT 1"))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL at {PG_SERVER}/postgres is unreachable ({type(exc).__name__}: {exc}): "
            "the database tests need it running there (trust auth, user postgres)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def make_pg_database() -> Iterator[MakeDatabase]:
    """Factory: `make_pg_database(fill=True)` -> the URL of a new database (filled by
    `init_database` unless `fill` is False); every one is dropped when the module ends."""
    _check_reachable()
    names: list[str] = []

    def make(fill: bool = True) -> str:
        name = f"covetbench_t{os.getpid()}_{secrets.token_hex(3)}"
        names.append(name)
        url = f"{PG_SERVER}/{name}"
        if fill:
            init_database(url)
        return url

    yield make
    for name in names:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def launch_with_database(tmp_path: Path) -> Iterator[LaunchWithDatabase]:
    """Factory: `launch_with_database(app, url, server="uvicorn")`: the app served with the
    database URL in its environment (None: without one); stopped at teardown."""
    started: list[RunningServer] = []

    def launch(app: str | AppTarget, url: str | None, server: str = "uvicorn") -> RunningServer:
        target = builtin_apps()[app] if isinstance(app, str) else app
        env = server_env(url) if url else None
        log = tmp_path / f"{target.name}-{server}-{len(started)}.log"
        running = get_server(server).launch(target, ServerOptions(), log, env=env)
        started.append(running)
        return running

    yield launch
    for running in started:
        running.stop()
