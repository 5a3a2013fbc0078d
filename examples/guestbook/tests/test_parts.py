"""The guestbook's own pieces without a server: settings from the environment, the live feed."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from examples.guestbook.live import LiveFeed
from examples.guestbook.settings import (
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_DATABASE_URL,
    SECRET_FILE,
    Settings,
    SettingsError,
)


def test_settings_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env(
        {
            "COVET_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
            "GUESTBOOK_SECRET_KEYS": " new-key-new-key-new ,old-key-old-key-old",
            "GUESTBOOK_ALLOWED_HOSTS": "guestbook.example, *.guestbook.example",
            "GUESTBOOK_HTTPS_ONLY": "1",
        }
    )
    assert settings == Settings(
        database_url="postgresql://postgres@127.0.0.1:5432/test",
        secret_keys=("new-key-new-key-new", "old-key-old-key-old"),
        allowed_hosts=("guestbook.example", "*.guestbook.example"),
        https_only=True,
    )
    assert not (tmp_path / SECRET_FILE).exists()  # keys were given: no file made


def test_without_a_key_one_is_made_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Settings.from_env({})
    assert (first.database_url, first.allowed_hosts) == (
        DEFAULT_DATABASE_URL,
        DEFAULT_ALLOWED_HOSTS,
    )
    key_file = tmp_path / SECRET_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Settings.from_env({}).secret_keys == first.secret_keys == (key_file.read_text().strip(),)
    assert sorted(path.name for path in tmp_path.iterdir()) == [SECRET_FILE]  # no temp file left
    key_file.write_text("\n")
    with pytest.raises(SettingsError, match="guestbook.secret is empty"):
        Settings.from_env({})


def test_a_bad_flag_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="GUESTBOOK_HTTPS_ONLY='maybe'"):
        Settings.from_env({"GUESTBOOK_SECRET_KEYS": "k" * 32, "GUESTBOOK_HTTPS_ONLY": "maybe"})


def test_the_feed_drops_a_page_that_falls_behind_and_ends_all_at_close() -> None:
    async def scenario() -> None:
        feed = LiveFeed(queue_size=2, max_subscribers=2)
        slow, fast = feed.subscribe(), feed.subscribe()
        assert slow is not None and fast is not None
        assert feed.subscribe() is None  # full
        for number in range(2):
            feed.publish({"n": number})
            text = await fast.get()
            assert text is not None and json.loads(text) == {"n": number}
        feed.publish({"n": 2})  # slow already holds two: it is dropped, its backlog cleared
        assert slow.get_nowait() is None and len(feed) == 1
        assert fast.qsize() == 1
        feed.close()  # what was still queued is dropped: the page is told to go at once
        assert fast.get_nowait() is None
        assert feed.closed and feed.subscribe() is None and len(feed) == 0

    asyncio.run(scenario())
