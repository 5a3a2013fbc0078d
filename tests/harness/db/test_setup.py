"""`covet-bench db init`: World and Fortune created, filled as TechEmpower says, idempotent,
on SQLite and on PostgreSQL (a database of its own, created by init); errors name the URL."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import psutil
import pytest

from covetbench.cli import main
from covetbench.db.connect import postmaster_pid
from covetbench.db.data import FORTUNES, MAX_RANDOM, WORLD_ROWS, expected_fortunes
from covetbench.db.setup import init_database
from covetbench.db.stats import world_rows
from covetbench.db.url import DATABASE_URL_ENV, parse_url
from covetbench.exceptions import DatabaseError
from covetbench.servers import free_port
from tests.harness.db.conftest import MakeDatabase


def _check_world(rows: dict[int, int]) -> None:
    assert sorted(rows) == list(range(1, WORLD_ROWS + 1))
    assert all(1 <= n <= MAX_RANDOM for n in rows.values())
    assert len(set(rows.values())) > 1000  # random, not one value


def test_sqlite_init_fills_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tfb.db"  # an absolute path: four slashes
    first = init_database(url)
    assert (first.world_filled, first.fortune_filled) == (True, True)
    again = init_database(url)
    assert (again.world_filled, again.fortune_filled) == (False, False)
    _check_world(asyncio.run(world_rows(url)))
    with sqlite3.connect(tmp_path / "tfb.db") as db:
        assert db.execute("SELECT id, message FROM fortune ORDER BY id").fetchall() == list(
            FORTUNES
        )
        db.execute("DELETE FROM world WHERE id = 77")
        db.execute("UPDATE fortune SET message = 'x' WHERE id = 3")
    repaired = init_database(url)
    assert (repaired.world_filled, repaired.fortune_filled) == (True, True)
    _check_world(asyncio.run(world_rows(url)))


@pytest.mark.needs_postgres
def test_postgresql_init_creates_its_database(make_pg_database: MakeDatabase) -> None:
    url = make_pg_database(fill=False)
    first = init_database(url)  # creates the database, then the tables
    assert (first.world_filled, first.fortune_filled) == (True, True)
    assert init_database(url).world_filled is False
    _check_world(asyncio.run(world_rows(url)))
    # PostgreSQL runs here: the run can charge its process tree's CPU to the database
    assert first.server_pid is not None
    server = psutil.Process(first.server_pid)
    assert "postgres" in " ".join(server.cmdline())
    assert server.children()  # its backends and workers


def test_sqlite_has_no_server_process(tmp_path: Path) -> None:
    assert init_database(f"sqlite:///{tmp_path}/tfb.db").server_pid is None
    assert postmaster_pid(os.getpid()) is None  # not a PostgreSQL backend


def test_cli_db_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "init", "--url", f"sqlite:///{tmp_path}/cli.db"]) == 0
    assert "World: filled" in capsys.readouterr().out
    assert main(["db", "init", "--url", f"sqlite:///{tmp_path}/cli.db"]) == 0
    assert "already right" in capsys.readouterr().out


def test_unreachable_postgresql_names_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://postgres:secret@127.0.0.1:{free_port()}/covetbench"
    with pytest.raises(DatabaseError, match="unreachable") as caught:
        init_database(url)
    assert "postgres:***@127.0.0.1" in str(caught.value) and "secret" not in str(caught.value)
    assert main(["db", "init", "--url", url]) == 1
    assert "unreachable" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x/y", "scheme 'mysql'"),
        ("postgresql://127.0.0.1:5432", "one database name"),
        ("sqlite://", "sqlite:///"),
        ("sqlite:////no/such/directory/x.db", "does not exist"),
    ],
)
def test_bad_urls_are_named(url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        init_database(url)


def test_url_env_is_the_one_the_apps_read() -> None:
    # The apps declare the name on their side (they do not import the harness): keep them equal.
    source = (Path(__file__).parents[3] / "scenarios" / "apps" / "_db.py").read_text()
    assert f'DATABASE_URL_ENV = "{DATABASE_URL_ENV}"' in source
    assert parse_url("postgres://u@h/n").is_postgresql


def test_expected_fortunes_sorted_with_the_extra_row() -> None:
    rows = expected_fortunes()
    assert len(rows) == 13 and rows[0][0] == 11 and rows[-1][0] == 12
    assert (0, "Additional fortune added at request time.") in rows
