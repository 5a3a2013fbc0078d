"""A covet app on covet.db, served by a real server process in test_availability.py.

``COVET_DATABASE_URL`` (set by the test) says which database; ``/pids`` answers the worker's
process id and the PostgreSQL backend that served the query, so the test can tell a recovered
pool (new backend, same worker) from a restarted worker.
"""

from __future__ import annotations

import os

from covet import Covet
from covet.db import Database

db = Database(max_size=2, timeout=5)
app = Covet(lifespan=db.lifespan)


@app.get("/pids")
async def pids() -> dict[str, int]:
    return {"worker": os.getpid(), "backend": await db.fetchval("SELECT pg_backend_pid()")}


@app.get("/sleep")
async def sleep() -> dict[str, str]:
    await db.execute("SELECT pg_sleep(30)")  # killed by the test long before 30 s
    return {"slept": "yes"}
