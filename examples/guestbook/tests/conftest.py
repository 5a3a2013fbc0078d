"""Fixtures for the guestbook's tests: an in-process app on SQLite, and the real server.

``guestbook`` builds the app with its own SQLite file and runs it in-process (covet's
TestClient, lifespan included). ``serve`` starts it under covet's real server on a free
127.0.0.1 port, the way README says (``python -m examples.guestbook``), readiness polled and
the process group always reaped. PostgreSQL comes from covet.db's own fixture (``pg_url``: a
schema of this module's own, dropped afterwards; it fails, naming the URL, if unreachable).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from covet import Covet
from covet.db import ENV_VAR as DATABASE_URL_VAR
from covet.testclient import TestClient
from covetbench.apps import AppTarget
from covetbench.servers import RunningServer, ServerOptions, get_server
from covetbench.servers.base import ServerAdapter
from examples.guestbook.factory import create_app
from examples.guestbook.settings import ALLOWED_HOSTS_VAR, SECRET_KEYS_VAR, Settings
from tests.covet.conftest import pg_url  # noqa: F401 - a fixture, shared with covet.db's tests

ROOT = Path(__file__).resolve().parents[3]
SECRET_KEY = "guestbook-tests-only-" + "k" * 24
APP_IMPORT = "examples.guestbook.app:app"


class GuestbookCommand(ServerAdapter):
    """``python -m examples.guestbook``, the README's one command, launched like any server."""

    name = "guestbook"
    distribution = "covetpy"

    def command(self, app: AppTarget, host: str, port: int, options: ServerOptions) -> list[str]:
        return [self.python(), "-m", "examples.guestbook", "--host", host, "--port", str(port)]


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "guestbook.db"


@pytest.fixture
def app(sqlite_file: Path) -> Covet:
    settings = Settings(
        database_url=f"sqlite:///{sqlite_file}",
        secret_keys=(SECRET_KEY,),
        allowed_hosts=("testserver",),
    )
    return create_app(settings)


@pytest.fixture
def client(app: Covet) -> Iterator[TestClient]:
    with TestClient(app) as running:
        yield running


Serve = Callable[[str, bool], RunningServer]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(database_url, one_command)``: the guestbook under covet's server.

    ``one_command``: launched as ``python -m examples.guestbook``; otherwise as
    ``covet serve examples.guestbook.app:app``.
    """
    started: list[RunningServer] = []

    def start(database_url: str, one_command: bool) -> RunningServer:
        adapter = GuestbookCommand() if one_command else get_server("covet")
        env = {
            **os.environ,
            DATABASE_URL_VAR: database_url,
            SECRET_KEYS_VAR: SECRET_KEY,
            ALLOWED_HOSTS_VAR: "127.0.0.1",
        }
        log = tmp_path / f"server-{len(started)}.log"
        target = AppTarget("guestbook", APP_IMPORT, str(ROOT))
        running = adapter.launch(target, ServerOptions(), log, env=env)
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            running.stop()
