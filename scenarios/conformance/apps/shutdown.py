"""Graceful shutdown: a slow endpoint whose requests are in flight when SIGTERM arrives.

`GET /slow?delay=S&size=N&token=T` notes its arrival as the file `arrived-T` in
$COVET_CONFORM_SHUTDOWN_DIR (a file, so the harness sees it whichever worker process took the
request), waits S/2 seconds, sends the head and the first half of an N-byte body, waits S/2 more
and sends the rest: a SIGTERM right after arrival finds one request not yet answered and then
half-answered, and a server that drops in-flight requests cuts the body short.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from _common import Receive, Scope, Send, query_param

#: the body's repeating pattern: a truncated or reordered body cannot match by chance
PATTERN = b"0123456789abcdef"


def slow_body(size: int) -> bytes:
    """The body `/slow?size=N` sends (the harness checks the bytes it got against it)."""
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


async def slow(scope: Scope, receive: Receive, send: Send) -> None:
    delay = min(float(query_param(scope, "delay", "2") or 2), 30.0)
    size = min(int(query_param(scope, "size", "65536") or 65536), 16 * 1024 * 1024)
    token = query_param(scope, "token")
    directory = os.environ.get("COVET_CONFORM_SHUTDOWN_DIR")
    if directory and token.isalnum():
        Path(directory, f"arrived-{token}").write_text(str(os.getpid()))
    body = slow_body(size)
    await asyncio.sleep(delay / 2)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/octet-stream"),
                (b"content-length", str(size).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body[: size // 2], "more_body": True})
    await asyncio.sleep(delay / 2)
    await send({"type": "http.response.body", "body": body[size // 2 :]})
