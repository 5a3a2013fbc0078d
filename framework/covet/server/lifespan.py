"""ASGI lifespan: startup before the first connection, shutdown after the last.

    lifespan = Lifespan(app, mode="auto", state={})
    await lifespan.startup()      # raises StartupError on lifespan.startup.failed
    ...
    await lifespan.shutdown()

In `auto` mode an app that raises before answering startup is taken not to speak lifespan and
the server carries on without it (ASGI lifespan spec); in `on` mode that is a startup error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from covet.server.exceptions import StartupError
from covet.server.types import ASGIApp, Message

logger = logging.getLogger("covet.server")


class Lifespan:
    """Runs the app's lifespan scope as one task for the life of the server."""

    def __init__(
        self,
        app: ASGIApp,
        mode: str,
        state: dict[str, Any],
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.mode = mode
        self.state = state
        self.extensions = extensions or {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._startup_done = asyncio.Event()
        self._shutdown_done = asyncio.Event()
        self._failed: str | None = None
        self._unsupported = False
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        if self.mode == "off":
            return
        await self._inbox.put({"type": "lifespan.startup"})
        self._task = asyncio.get_running_loop().create_task(self._main())
        await self._startup_done.wait()
        if self._failed is not None:
            raise StartupError(f"lifespan startup failed: {self._failed}")

    async def shutdown(self) -> None:
        if self.mode == "off" or self._unsupported or self._task is None:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._shutdown_done.wait()
        if self._failed is not None:
            logger.error("lifespan shutdown failed: %s", self._failed)

    async def _main(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
            "extensions": self.extensions,
        }
        try:
            await self.app(scope, self.receive, self.send)
        except BaseException as exc:
            if not self._startup_done.is_set() and self.mode == "auto":
                self._unsupported = True
                logger.info("ASGI lifespan unsupported by the app; continuing without it")
            elif isinstance(exc, asyncio.CancelledError):
                raise
            else:
                self._failed = self._failed or repr(exc)
                logger.exception("Exception in ASGI lifespan")
        finally:
            self._startup_done.set()
            self._shutdown_done.set()

    async def receive(self) -> Message:
        return await self._inbox.get()

    async def send(self, message: Message) -> None:
        mtype = message["type"]
        if mtype == "lifespan.startup.complete":
            self._startup_done.set()
        elif mtype == "lifespan.startup.failed":
            self._failed = str(message.get("message", ""))
            self._startup_done.set()
        elif mtype == "lifespan.shutdown.complete":
            self._shutdown_done.set()
        elif mtype == "lifespan.shutdown.failed":
            self._failed = str(message.get("message", ""))
            self._shutdown_done.set()
        else:
            raise RuntimeError(f"unexpected ASGI lifespan message {mtype!r}")
