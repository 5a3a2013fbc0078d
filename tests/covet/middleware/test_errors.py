from __future__ import annotations

import asyncio

import pytest

from covet.errorpage import debug_html
from covet.middleware import ServerErrorMiddleware
from tests.covet.middleware.helpers import (
    Message,
    Receive,
    Scope,
    Send,
    headers_of,
    http_scope,
    run_asgi,
    text_app,
)

SECRET = "password=hunter2 <script>"


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise ValueError(SECRET)


def run_failing(app: ServerErrorMiddleware, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(ValueError, match="hunter2"):  # always re-raised, for the server's log
        asyncio.run(app(scope, receive, send))
    return sent


def test_production_500_leaks_nothing() -> None:
    sent = run_failing(ServerErrorMiddleware(failing_app), http_scope())
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"Internal Server Error"


def test_debug_plain_text_traceback() -> None:
    sent = run_failing(ServerErrorMiddleware(failing_app, debug=True), http_scope())
    assert headers_of(sent[0])[b"content-type"].startswith(b"text/plain")
    body = sent[1]["body"].decode()
    assert "Traceback (most recent call last)" in body
    assert f"ValueError: {SECRET}" in body
    assert "failing_app" in body


def test_debug_html_page_for_browsers_is_escaped() -> None:
    scope = http_scope(headers=[(b"accept", b"text/html,application/xhtml+xml")])
    sent = run_failing(ServerErrorMiddleware(failing_app, debug=True), scope)
    headers = headers_of(sent[0])
    body = sent[1]["body"].decode()
    assert headers[b"content-type"] == b"text/html; charset=utf-8"
    assert headers[b"content-length"] == str(len(sent[1]["body"])).encode()
    assert "<script>" not in body
    assert "hunter2 &lt;script&gt;" in body
    assert "raise ValueError(SECRET)" in body  # source context of the failing frame


def test_debug_html_includes_chained_exceptions() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as exc:
        page = debug_html(exc)
    assert "KeyError" in page and "RuntimeError: outer" in page


def test_custom_handler_sends_the_response() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": type(exc).__name__.encode()})

    sent = run_failing(ServerErrorMiddleware(failing_app, handler=handler), http_scope())
    assert sent[0]["status"] == 503
    assert sent[1]["body"] == b"ValueError"


def test_error_after_response_started_sends_nothing_more() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError(SECRET)

    sent = run_failing(ServerErrorMiddleware(app, debug=True), http_scope())
    assert [m["type"] for m in sent] == ["http.response.start"]


def test_success_passes_through() -> None:
    sent = run_asgi(ServerErrorMiddleware(text_app(b"fine")), http_scope())
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"fine"


def test_websocket_errors_go_to_the_server() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("ws")

    with pytest.raises(ValueError, match="ws"):
        run_asgi(ServerErrorMiddleware(app), {"type": "websocket", "path": "/", "headers": []})
