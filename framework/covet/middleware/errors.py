"""ServerError: the outermost middleware, turning an unhandled exception into a 500.

    app = ServerErrorMiddleware(inner_app, debug=False)

The 500 itself is :func:`covet.errorpage.send_server_error` (a traceback page only with
``debug``). Either way the exception is raised on to the server, which logs it. If the response
had already started, nothing more can be sent: the exception goes on to the server, which drops
the connection.

`handler`, when given, replaces the built-in 500 response: `await handler(scope, receive, send,
exc)` must send a complete response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from covet._asgi import ASGIApp, Message, Receive, Scope, Send
from covet.errorpage import send_server_error

ErrorHandler = Callable[[Scope, Receive, Send, Exception], Awaitable[None]]


class ServerErrorMiddleware:
    """Answer 500 when the app raises before starting its response; re-raise to the server."""

    def __init__(
        self, app: ASGIApp, debug: bool = False, handler: ErrorHandler | None = None
    ) -> None:
        self.app = app
        self.debug = debug
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch_start)
        except Exception as exc:
            if not started:
                await self._respond(scope, receive, send, exc)
            raise

    async def _respond(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        if self.handler is not None:
            await self.handler(scope, receive, send, exc)
        else:
            await send_server_error(scope, send, exc, self.debug)
