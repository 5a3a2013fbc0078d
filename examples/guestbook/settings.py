"""The guestbook's configuration, read once from the environment at start-up.

======================== ==================================================================
``COVET_DATABASE_URL``   ``sqlite:///guestbook.db`` (a file in the working directory) unless
                         set; ``postgresql://user@host:5432/name`` uses PostgreSQL
``GUESTBOOK_SECRET_KEYS`` session signing keys, comma-separated, newest first (rotation);
                         unset: a random key kept in ``guestbook.secret`` (mode 0600), made on
                         the first start, so sessions survive restarts and every worker agrees
``GUESTBOOK_ALLOWED_HOSTS`` Host header values served, comma-separated (``*.example.com``
                         works); default ``127.0.0.1,localhost,[::1]``
``GUESTBOOK_HTTPS_ONLY`` ``1``: session cookies are ``Secure`` (set it behind TLS)
======================== ==================================================================
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from covet.db import ENV_VAR as DATABASE_URL_VAR

__all__ = [
    "ALLOWED_HOSTS_VAR",
    "DEFAULT_ALLOWED_HOSTS",
    "DEFAULT_DATABASE_URL",
    "HTTPS_ONLY_VAR",
    "SECRET_FILE",
    "SECRET_KEYS_VAR",
    "Settings",
    "SettingsError",
]

DEFAULT_DATABASE_URL = "sqlite:///guestbook.db"
SECRET_KEYS_VAR = "GUESTBOOK_SECRET_KEYS"
ALLOWED_HOSTS_VAR = "GUESTBOOK_ALLOWED_HOSTS"
HTTPS_ONLY_VAR = "GUESTBOOK_HTTPS_ONLY"
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SECRET_FILE = "guestbook.secret"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")

logger = logging.getLogger("guestbook")


class SettingsError(ValueError):
    """An environment variable holds something the guestbook cannot use (the message names it)."""


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r}: expected 1 or 0")


def _key_from_file(path: Path) -> str:
    """The key in ``path``, made first if there is none.

    Several workers may start at once: the key is written to a private temporary file and
    linked into place, which fails for all but one of them; the others read the winner's.
    """
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)
            logger.warning(
                "made a new session key in %s (set %s to choose one)", path, SECRET_KEYS_VAR
            )
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    key = path.read_text().strip()
    if not key:
        raise SettingsError(
            f"{path} is empty: delete it (a new key is made) or set {SECRET_KEYS_VAR}"
        )
    return key


@dataclass(frozen=True)
class Settings:
    """Everything :func:`~examples.guestbook.app.create_app` needs to know."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_keys: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    https_only: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        keys = tuple(_split(env.get(SECRET_KEYS_VAR, "")))
        if not keys:
            keys = (_key_from_file(Path(SECRET_FILE)),)
        hosts = tuple(_split(env.get(ALLOWED_HOSTS_VAR, ""))) or DEFAULT_ALLOWED_HOSTS
        return cls(
            database_url=env.get(DATABASE_URL_VAR, "").strip() or DEFAULT_DATABASE_URL,
            secret_keys=keys,
            allowed_hosts=hosts,
            https_only=_flag(env, HTTPS_ONLY_VAR),
        )
