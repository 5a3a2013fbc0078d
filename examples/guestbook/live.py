"""The live channel: every open page hears about new and deleted entries over a WebSocket.

:class:`LiveFeed` fans each message out to one bounded queue per connected page. A page that
does not keep up (its queue is full) is dropped rather than allowed to make the server hold
an ever-growing backlog; its script reconnects and the page can be reloaded.

The feed lives in one process: with ``--workers N`` a page hears only about entries posted
through the same worker. On PostgreSQL, LISTEN/NOTIFY on a dedicated connection (asyncpg's,
through covet.db's ``Connection.raw``) could carry them across; this example keeps to what
works on SQLite too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from covet import WebSocket
from covet.exceptions import CovetError

__all__ = ["LiveFeed", "stream_to"]

# Close codes (RFC 6455 section 7.4.1): the server is going away; a client too slow to follow.
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013


class LiveFeed:
    """Fan-out of text messages to subscribers; a subscriber is an ``asyncio.Queue``.

    A ``None`` in a queue ends that subscription (shutdown, or it fell behind).
    """

    def __init__(self, queue_size: int = 64, max_subscribers: int = 1000) -> None:
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self._subscribers: set[asyncio.Queue[str | None]] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._subscribers)

    @property
    def closed(self) -> bool:
        return self._closed

    def subscribe(self) -> asyncio.Queue[str | None] | None:
        """A new subscription, or None when the feed is closed or full."""
        if self._closed or len(self._subscribers) >= self.max_subscribers:
            return None
        queue: asyncio.Queue[str | None] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._subscribers.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        """Send ``message`` (as JSON) to every subscriber; drop those whose queue is full."""
        text = json.dumps(message, ensure_ascii=False)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(text)
            except asyncio.QueueFull:
                self._end(queue)

    def close(self) -> None:
        """End every subscription (at shutdown, so open pages do not hold the server up)."""
        self._closed = True
        for queue in list(self._subscribers):
            self._end(queue)

    def _end(self, queue: asyncio.Queue[str | None]) -> None:
        self._subscribers.discard(queue)
        while not queue.empty():  # make room for the end marker
            queue.get_nowait()
        queue.put_nowait(None)


async def _forward(websocket: WebSocket, queue: asyncio.Queue[str | None]) -> None:
    while (text := await queue.get()) is not None:
        await websocket.send_text(text)


async def _until_closed(websocket: WebSocket) -> None:
    # Pages never speak; reading is how a closed tab is noticed. What they send is ignored.
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def stream_to(websocket: WebSocket, feed: LiveFeed) -> None:
    """Accept ``websocket`` and forward the feed to it until either side ends."""
    queue = feed.subscribe()
    if queue is None:
        await websocket.close(TRY_AGAIN_LATER)
        return
    forward: asyncio.Task[None] | None = None
    closed: asyncio.Task[None] | None = None
    try:
        await websocket.accept()
        forward = asyncio.create_task(_forward(websocket, queue))
        closed = asyncio.create_task(_until_closed(websocket))
        await asyncio.wait({forward, closed}, return_when=asyncio.FIRST_COMPLETED)
        if closed.done():
            closed.result()
            return  # the page left
        # The feed ended this subscription (shutting down, or the page fell behind), or a send
        # failed because the page left mid-message (OSError or the server's own error).
        with contextlib.suppress(OSError, CovetError):
            forward.result()
            await websocket.close(GOING_AWAY if feed.closed else TRY_AGAIN_LATER)
    finally:
        feed.unsubscribe(queue)
        for task in (forward, closed):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
