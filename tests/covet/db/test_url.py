"""Database URLs: backends by scheme, the environment variable, the SQLite default, and
passwords that never reach an error message."""

from __future__ import annotations

import pytest

from covet.db import DEFAULT_URL, ENV_VAR, Database, DatabaseURL, DatabaseURLError
from covet.db.url import redact


@pytest.mark.parametrize(
    ("url", "dialect"),
    [
        ("postgresql://u@h/db", "postgresql"),
        ("postgres://u@h/db", "postgresql"),
        ("postgresql+asyncpg://u@h/db", "postgresql"),
        ("sqlite:///app.db", "sqlite"),
        ("sqlite+aiosqlite:///app.db", "sqlite"),
        ("SQLITE:///:memory:", "sqlite"),
    ],
)
def test_dialect_by_scheme(url: str, dialect: str) -> None:
    assert DatabaseURL.parse(url).dialect == dialect


def test_dsn_and_sqlite_paths() -> None:
    assert DatabaseURL.parse("postgresql+asyncpg://u@h:5/d?x=1").dsn == "postgresql://u@h:5/d?x=1"
    assert DatabaseURL.parse("sqlite:///rel/app.db").sqlite_path == "rel/app.db"
    assert DatabaseURL.parse("sqlite:////abs/app.db").sqlite_path == "/abs/app.db"
    assert DatabaseURL.parse("sqlite:///a%20b.db").sqlite_path == "a b.db"
    memory = DatabaseURL.parse("sqlite:///:memory:")
    assert memory.is_memory and memory.sqlite_path == ":memory:"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:hunter2@h/db", "unknown database scheme 'mysql'"),
        ("just-a-path.db", "not a database URL"),
        ("sqlite://app.db", "three slashes"),
    ],
)
def test_bad_urls_are_named_without_the_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseURLError, match=message) as info:
        Database(url)
    assert "hunter2" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_empty_sqlite_path() -> None:
    with pytest.raises(DatabaseURLError, match="no SQLite path"):
        DatabaseURL.parse("sqlite:///").sqlite_path  # noqa: B018


def test_redaction() -> None:
    assert redact("postgresql://u:hunter2@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    url = DatabaseURL.parse("postgresql://u:hunter2@h/db")
    assert "hunter2" not in str(url) and "hunter2" not in repr(url)
    assert "hunter2" not in repr(Database("postgresql://u:hunter2@h/db"))


def test_url_from_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "postgresql://u@h/from-env")
    assert Database().url.raw == "postgresql://u@h/from-env"
    assert Database("sqlite:///x.db").url.raw == "sqlite:///x.db"  # an explicit URL wins
    monkeypatch.delenv(ENV_VAR)
    assert Database().url.raw == DEFAULT_URL
    assert Database().dialect == "sqlite"


@pytest.mark.parametrize(
    "options",
    [{"min_size": 3, "max_size": 2}, {"max_size": 0}, {"min_size": -1}, {"timeout": 0}],
)
def test_pool_options_are_checked(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Database("sqlite:///:memory:", **options)  # type: ignore[arg-type]
