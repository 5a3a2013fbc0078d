"""Lifespan behaviour: records the lifespan scope and events, sets state at startup, and shows
what a request sees of it. On shutdown it writes the file named by $COVET_CONFORM_MARKER.
"""

from __future__ import annotations

import os
import time
from typing import Any

from _common import Receive, Scope, Send, jsonable, send_json

SEEN: dict[str, Any] = {"lifespan_scope": None, "events": [], "startup_at": None}


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    SEEN["lifespan_scope"] = jsonable(scope)
    while True:
        message = await receive()
        SEEN["events"].append(message["type"])
        if message["type"] == "lifespan.startup":
            state = scope.get("state")
            if isinstance(state, dict):
                state["greeting"] = "hello"
                state["shared"] = {"count": 0}
            SEEN["startup_at"] = time.time()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            marker = os.environ.get("COVET_CONFORM_MARKER")
            if marker:
                with open(marker, "w") as fh:
                    fh.write("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def lifespan_view(scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, SEEN)


async def state_view(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /state: the request's state; ?mutate=1 then sets a top-level key on it."""
    state = scope.get("state")
    seen = jsonable(dict(state)) if isinstance(state, dict) else None
    if isinstance(state, dict) and "mutate=1" in scope.get("query_string", b"").decode():
        state["leaked"] = True
    await send_json(send, {"has_state": "state" in scope, "state": seen})
