"""The 500 page: what a client is told when the app fails before its response started.

Without ``debug`` the client gets ``500 Internal Server Error`` and nothing else: no exception
type, message or traceback. With ``debug=True`` it gets the traceback, as an HTML page when the
request accepts text/html and as plain text otherwise. Both the router (for errors in endpoints
and exception handlers) and :class:`~covet.middleware.errors.ServerErrorMiddleware` (for errors
in middleware) answer through :func:`send_server_error`, so the page is made in one place.
"""

from __future__ import annotations

import html
import linecache
import traceback

from covet._asgi import Scope, Send, get_header, send_plain

__all__ = ["debug_html", "debug_text", "send_server_error"]

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


async def send_server_error(scope: Scope, send: Send, exc: BaseException, debug: bool) -> None:
    """Send the complete 500 response for ``exc`` (a traceback only if ``debug``)."""
    if not debug:
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
