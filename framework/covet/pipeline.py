"""The middleware pipeline: declared middleware, function middleware, and the built stack.

The stack is built once, at the app's first call, never per request::

    ServerErrorMiddleware -> user middleware (last added outermost) -> router
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NamedTuple

from covet.middleware.errors import ServerErrorMiddleware
from covet.requests import Request
from covet.responses import Response
from covet.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "FunctionMiddleware",
    "Middleware",
    "build_stack",
]

CallNext = Callable[[Request], Awaitable[Response]]
HTTPMiddlewareFunction = Callable[[Request, CallNext], Awaitable[Response]]
ErrorHandler = Callable[[Scope, Receive, Send, Exception], Awaitable[None]]


class Middleware(NamedTuple):
    """A middleware class and the options it is built with."""

    cls: Callable[..., ASGIApp]
    options: dict[str, Any]

    def build(self, app: ASGIApp) -> ASGIApp:
        return self.cls(app, **self.options)

    def check(self) -> None:
        """Raise now, at declaration, what `build` would raise at the first request.

        The stack is built lazily, so a middleware class that wants its configuration refused
        where it is written (`app.add_middleware(...)`) offers a `check_options(**options)`
        classmethod; it is called here with the declared options.
        """
        check_options = getattr(self.cls, "check_options", None)
        if check_options is not None:
            check_options(**self.options)


class _CalledResponse(Response):
    """The downstream response as ``call_next`` returns it: status and headers known, body
    streamed from the downstream app as it produces it."""

    def __init__(
        self, start: Message, body: AsyncIterator[Message], task: asyncio.Task[None]
    ) -> None:
        self.status_code = start["status"]
        self.raw_headers = list(start.get("headers", []))
        self.body = b""
        self._messages = body
        self._task = task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for message in self._messages:
            await send(message)
        await self._task

    def discard(self) -> None:
        """The middleware answered with another response: stop the app producing this one."""
        self._task.cancel()
        # Its outcome matters to no one now; retrieving it keeps asyncio from logging it.
        self._task.add_done_callback(lambda task: task.cancelled() or task.exception())


class FunctionMiddleware:
    """Adapts ``async def mw(request, call_next)`` (``@app.middleware("http")``) to ASGI.

    ``call_next(request)`` runs the rest of the app and returns its response with the body
    still streaming; the middleware may change headers or return another response.
    """

    def __init__(self, app: ASGIApp, dispatch: HTTPMiddlewareFunction) -> None:
        self.app = app
        self.dispatch = dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        called: list[_CalledResponse] = []

        async def call_next(request: Request) -> Response:
            response = await self._call_next(request)
            called.append(response)
            return response

        response: Response | None = None
        try:
            response = await self.dispatch(request, call_next)
            await response(scope, receive, send)
        finally:
            for unused in called:
                if unused is not response:
                    unused.discard()

    async def _call_next(self, request: Request) -> _CalledResponse:
        queue: asyncio.Queue[Message | None] = asyncio.Queue()
        receive = request.receive
        if request._body is not None:
            receive = _replay(request._body, receive)

        async def run() -> None:
            try:
                await self.app(request.scope, receive, queue.put)
            finally:
                queue.put_nowait(None)

        task = asyncio.get_running_loop().create_task(run())
        start = await queue.get()
        if start is None:
            await task  # raises what the app raised
            raise RuntimeError("the app returned without sending a response")

        async def body() -> AsyncIterator[Message]:
            while True:
                message = await queue.get()
                if message is None:
                    return
                yield message
                if not message.get("more_body", False):
                    return

        return _CalledResponse(start, body(), task)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands a body already read by a middleware to the app once more."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def build_stack(
    inner: ASGIApp,
    middleware: list[Middleware],
    debug: bool,
    error_handler: ErrorHandler | None = None,
) -> ASGIApp:
    """Wrap ``inner`` in ``middleware`` (first in the list outermost) and the 500 layer."""
    app = inner
    for spec in reversed(middleware):
        app = spec.build(app)
    return ServerErrorMiddleware(app, debug=debug, handler=error_handler)
