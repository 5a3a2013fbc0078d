"""ServerError: the outermost middleware, turning an unhandled exception into a 500.

    app = ServerErrorMiddleware(inner_app, debug=False)

Without `debug` the client gets `500 Internal Server Error` and nothing else: no exception type,
message or traceback. With `debug=True` it gets the traceback, as an HTML page when the request
accepts text/html and as plain text otherwise. Either way the exception is raised on to the
server, which logs it. If the response had already started, nothing more can be sent: the
exception goes on to the server, which drops the connection.

`handler`, when given, replaces the built-in 500 response: `await handler(scope, receive, send,
exc)` must send a complete response.
"""

from __future__ import annotations

import html
import linecache
import traceback
from collections.abc import Awaitable, Callable

from covet.middleware._asgi import ASGIApp, Message, Receive, Scope, Send, get_header, send_plain

ErrorHandler = Callable[[Scope, Receive, Send, Exception], Awaitable[None]]

_CONTEXT_LINES = 3
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>500 {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
h1 {{ color: #b00020; font-size: 1.4em; }}
.frame {{ border: 1px solid #ddd; border-radius: 4px; margin: 1em 0; }}
.where {{ background: #f4f4f4; padding: .4em .8em; font-family: monospace; }}
pre {{ margin: 0; padding: .4em .8em; overflow-x: auto; }}
.hit {{ background: #ffe3e3; display: block; }}
</style></head>
<body><h1>500 Internal Server Error</h1>
<p><strong>{title}</strong></p>
{frames}
<h2>Traceback</h2><pre>{text}</pre>
</body></html>
"""


def _frame_html(filename: str, lineno: int, name: str) -> str:
    first = max(1, lineno - _CONTEXT_LINES)
    lines = []
    for number in range(first, lineno + _CONTEXT_LINES + 1):
        source = linecache.getline(filename, number)
        if not source:
            continue
        text = html.escape(f"{number:>5} {source.rstrip()}")
        lines.append(f'<span class="hit">{text}</span>' if number == lineno else text + "\n")
    where = html.escape(f"{filename}, line {lineno}, in {name}")
    return f'<div class="frame"><div class="where">{where}</div><pre>{"".join(lines)}</pre></div>'


def debug_html(exc: BaseException) -> str:
    """An HTML page showing `exc`, its frames with source context, and the full traceback."""
    summary = traceback.TracebackException.from_exception(exc)
    frames = "\n".join(
        _frame_html(frame.filename, frame.lineno or 0, frame.name) for frame in summary.stack
    )
    title = html.escape("".join(summary.format_exception_only()).strip())
    text = html.escape("".join(summary.format()))
    return _PAGE.format(title=title, frames=frames, text=text)


def debug_text(exc: BaseException) -> str:
    """The traceback of `exc` as plain text."""
    return "".join(traceback.format_exception(exc))


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
        elif not self.debug:
            await send_plain(send, 500, b"Internal Server Error")
        elif b"text/html" in (get_header(scope["headers"], b"accept") or b""):
            body = debug_html(exc).encode("utf-8")
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode("latin-1")),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        else:
            await send_plain(send, 500, debug_text(exc).encode("utf-8"))
