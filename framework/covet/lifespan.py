"""The ASGI lifespan protocol around the app's ``lifespan`` context manager.

Example::

    @contextlib.asynccontextmanager
    async def lifespan(app):
        pool = await create_pool()
        yield {"pool": pool}          # becomes request.state.pool
        await pool.close()

    app = Covet(lifespan=lifespan)
"""

from __future__ import annotations

import contextlib
import inspect
import traceback
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from covet.types import Receive, Scope, Send

__all__ = ["Lifespan", "LifespanFactory", "run_lifespan"]

Lifespan = AbstractAsyncContextManager[Any]
LifespanFactory = Callable[[Any], Lifespan]


def as_context_factory(lifespan: Callable[[Any], Any]) -> LifespanFactory:
    """Accept an async-context-manager factory or a bare async generator function."""
    if inspect.isasyncgenfunction(lifespan):
        return contextlib.asynccontextmanager(lifespan)
    return lifespan


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


async def run_lifespan(
    app: Any, factory: LifespanFactory | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """Serve one lifespan scope: startup, wait for shutdown, shutdown.

    A dict yielded by the context manager is merged into ``scope["state"]``, which servers
    copy into every request scope. A failure is reported as ``lifespan.startup.failed`` or
    ``lifespan.shutdown.failed`` with its message, then raised on so the server logs it.
    """
    started = False
    await receive()  # lifespan.startup
    try:
        if factory is None:
            await send({"type": "lifespan.startup.complete"})
            started = True
            await receive()  # lifespan.shutdown
        else:
            async with factory(app) as state:
                if state is not None:
                    if "state" not in scope:
                        raise RuntimeError(
                            'the server does not support "state" in the lifespan scope'
                        )
                    scope["state"].update(state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
    except Exception as exc:
        kind = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
        await send({"type": kind, "message": _describe(exc)})
        raise
    await send({"type": "lifespan.shutdown.complete"})
