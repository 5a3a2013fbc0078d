"""The test client's portal: an event loop in a helper thread that synchronous test code submits
coroutines to (``covet.testclient`` runs the app, its lifespan and WebSockets on it).

    portal = Portal()
    inbox = portal.call(new_queue())      # a queue made on the portal's loop
    portal.put(inbox, {"type": "websocket.connect"})
    portal.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from covet.types import Message

T = TypeVar("T")


class Portal:
    """An event loop running forever in a daemon thread; coroutines are submitted to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="covet-testclient", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
        finally:
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.submit(coro).result()

    def put(self, target: asyncio.Queue[Message], message: Message) -> None:
        self.loop.call_soon_threadsafe(target.put_nowait, message)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()


async def new_queue() -> asyncio.Queue[Message]:
    return asyncio.Queue()
