"""The TechEmpower database the `db` scenarios need: its data, its URL, its setup, its counters.

    covet-bench db init --url postgresql://postgres@127.0.0.1:5432/covetbench

- `data`: World and Fortune as TechEmpower defines them, the `queries` clamping rule.
- `url`: `parse_url`, `DATABASE_URL_ENV` (how a launched server learns the URL).
- `connect`: asyncpg / aiosqlite behind a guard; errors name the URL.
- `setup`: `init_database` (idempotent create and fill).
- `stats`: PostgreSQL's per-table counters and World's rows, for the verify rules.
"""

from __future__ import annotations

from covetbench.db.url import DATABASE_URL_ENV, DEFAULT_URL, DatabaseURL, parse_url

__all__ = ["DATABASE_URL_ENV", "DEFAULT_URL", "DatabaseURL", "parse_url"]
