"""What every peer app's TechEmpower database endpoints share: the rules, not the code paths.

Each app queries with its own stack (raw and Starlette/FastAPI/BlackSheep: an asyncpg pool
opened in the lifespan; covet: covet.db); this module holds only what must be identical for
the comparison to be fair:

- the URL: `DATABASE_URL_ENV` (the harness sets it on the server it launches; the same name as
  `covetbench.db.url.DATABASE_URL_ENV`, a test keeps them equal). Unset: the app starts and
  its database endpoints answer 503, so suites without a database keep working;
- the `queries` / `count` clamping (`clamp`), the row ids (`random_ids`, `update_ids`), the SQL
  (one statement per row: no `IN (...)`), the extra fortune, the pool size;
- `render_fortunes` for the apps with no template engine (raw), escaping with `html.escape`.

Not an app: `covetbench.apps` skips modules whose name starts with `_`.
"""

from __future__ import annotations

import html
import os
import random
from collections.abc import Iterable
from pathlib import Path

DATABASE_URL_ENV = "COVETBENCH_DATABASE_URL"
#: connections per server process (min = max: none is opened under load). Small on purpose: a
#: run keeps every pair's server up (the db suite: 15 single-process servers = 60 connections)
#: and PostgreSQL allows 100 by default; one server process on one core cannot keep more than a
#: few busy anyway.
POOL_SIZE = 4
WORLD_ROWS = 10_000
MAX_QUERIES = 500

READ_ROW = "SELECT id, randomNumber FROM world WHERE id = $1"
READ_ALL_ROWS = "SELECT id, randomNumber FROM world"
READ_FORTUNES = "SELECT id, message FROM fortune"
WRITE_ROW = "UPDATE world SET randomNumber = $2 WHERE id = $1"
EXTRA_FORTUNE = (0, "Additional fortune added at request time.")

NO_DATABASE = f"no database configured: set {DATABASE_URL_ENV}"
TEMPLATES = Path(__file__).resolve().parent / "templates"
FORTUNES_TEMPLATE = "fortunes.html"


def database_url() -> str | None:
    """The database URL the harness passed, None when the app runs without a database."""
    return os.environ.get(DATABASE_URL_ENV) or None


def clamp(raw: str | None) -> int:
    """TechEmpower's rule: not an integer -> 1, below 1 -> 1, above 500 -> 500."""
    try:
        value = int(raw) if raw is not None else 1
    except ValueError:
        return 1
    return min(max(value, 1), MAX_QUERIES)


def random_id() -> int:
    return random.randint(1, WORLD_ROWS)


def random_ids(count: int) -> list[int]:
    """`count` random ids (repeats allowed, as TechEmpower allows)."""
    return [random.randint(1, WORLD_ROWS) for _ in range(count)]


def update_ids(count: int) -> list[int]:
    """`count` distinct ids in ascending order: two concurrent batched updates then lock rows
    in the same order and cannot deadlock."""
    return sorted(random.sample(range(1, WORLD_ROWS + 1), count))


def with_extra_fortune(rows: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """The rows plus the request-time fortune, sorted by message in code (no ORDER BY)."""
    fortunes = [*rows, EXTRA_FORTUNE]
    fortunes.sort(key=lambda row: row[1])
    return fortunes


def render_fortunes(fortunes: Iterable[tuple[int, str]]) -> str:
    """The fortunes page, each message HTML-escaped (for apps without a template engine)."""
    rows = "".join(
        f"<tr><td>{fid}</td><td>{html.escape(message)}</td></tr>" for fid, message in fortunes
    )
    return (
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        f"<tr><th>id</th><th>message</th></tr>{rows}</table></body></html>"
    )
