"""Drive an ASGI app in-process, with no server: the cost of the app alone.

    driver = AsgiDriver(app)          # runs lifespan startup on its own event loop
    driver.check("/json")             # one request, returns (status, body) to verify
    driver.run_batch("/json", 1000)   # 1000 sequential requests in one coroutine
    driver.close()                    # lifespan shutdown, loop closed

Each request gets a fresh shallow copy of one scope template (what servers build per request,
lifespan `state` copied as uvicorn does), a `receive` returning one empty `http.request`, and a
`send` that only counts. Batches run inside one coroutine so the event loop's own cost per
request is a single await, the same for every app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: requests per timed round: a round's time in ms is then the time per request in µs
BATCH = 1000
#: per-request figures of finished benchmarks, for the summary at the end of the session
RESULTS: dict[str, dict[str, float]] = {}

_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


_BASE_HEADERS = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]


def scope_for(
    path: str,
    method: str = "GET",
    state: dict[str, Any] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Scope:
    """The HTTP scope a server like uvicorn builds for `GET path` from 127.0.0.1."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [*_BASE_HEADERS, *(headers or [])],
        "state": dict(state or {}),
    }


async def _receive() -> Message:
    return _REQUEST


def record(name: str, benchmark: Any) -> None:
    """Keep a finished benchmark's µs per request (best and median round) for the summary."""
    if benchmark.stats is None:  # --benchmark-disable: ran once, untimed
        return
    stats = benchmark.stats.stats
    RESULTS[name] = {"min": stats.min * 1e6 / BATCH, "median": stats.median * 1e6 / BATCH}


class AsgiDriver:
    """One app on one private event loop, lifespan started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.state: dict[str, Any] = {}
        #: extra request headers sent with every request
        self.headers: list[tuple[bytes, bytes]] = []
        self._shutdown: asyncio.Queue[Message] | None = None
        self._lifespan_task: asyncio.Task[None] | None = None
        self.loop.run_until_complete(self._startup())

    async def _startup(self) -> None:
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        started: asyncio.Future[Message] = self.loop.create_future()

        async def send(message: Message) -> None:
            if not started.done():
                started.set_result(message)

        async def receive() -> Message:
            return await inbox.get()

        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except Exception:  # an app without lifespan support may raise: that is allowed
                if not started.done():
                    started.set_result({"type": "lifespan.unsupported"})

        await inbox.put({"type": "lifespan.startup"})
        self._lifespan_task = self.loop.create_task(run())
        message = await started
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {message.get('message')}")
        self._shutdown = inbox

    def check(self, path: str, method: str = "GET") -> tuple[int, bytes]:
        """One request; its status and body."""
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        async def one() -> None:
            await self.app(scope_for(path, method, self.state, self.headers), _receive, send)

        self.loop.run_until_complete(one())
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return status, body

    def run_batch(self, path: str, count: int, method: str = "GET") -> int:
        """`count` sequential requests; returns how many response starts were sent."""
        template = scope_for(path, method, self.state, self.headers)
        state = self.state
        app = self.app
        starts = 0

        async def send(message: Message) -> None:
            nonlocal starts
            if message["type"] == "http.response.start":
                starts += 1

        async def batch() -> None:
            for _ in range(count):
                scope = dict(template)
                scope["state"] = state.copy()
                await app(scope, _receive, send)

        self.loop.run_until_complete(batch())
        return starts

    def close(self) -> None:
        if self._shutdown is not None and self._lifespan_task is not None:
            self._shutdown.put_nowait({"type": "lifespan.shutdown"})
            try:
                self.loop.run_until_complete(asyncio.wait_for(self._lifespan_task, 5))
            except (TimeoutError, Exception):
                pass
        self.loop.close()
