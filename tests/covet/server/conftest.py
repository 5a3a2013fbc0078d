"""Fixtures for covet's server tests: one connection factory per parser, on the fake transport
of `covet.server.testing`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from covet.server.config import ServerConfig
from covet.server.parsers import available_parsers
from covet.server.state import ServerState
from covet.server.testing import TestConnection
from covet.server.types import ASGIApp, Receive, Scope, Send


class Conn(TestConnection):
    """A connection for `app` with the `http` parser; `options` are ServerConfig fields."""

    def __init__(
        self, app: ASGIApp, http: str, state: ServerState | None = None, **options: Any
    ) -> None:
        options.setdefault("access_log", False)
        super().__init__(app, ServerConfig(http=http, **options), state)  # type: ignore[arg-type]


ConnFactory = Callable[..., Conn]


@pytest.fixture(params=available_parsers())
def http_impl(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_conn(http_impl: str) -> ConnFactory:
    """Factory: `make_conn(app, **config)` -> Conn, once per installed parser."""

    def factory(app: ASGIApp, **options: Any) -> Conn:
        return Conn(app, http_impl, **options)

    return factory


async def plaintext_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
        }
    )
    await send({"type": "http.response.body", "body": b"Hello, World!"})


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Echoes method, path and the full request body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    text = f"{scope['method']} {scope['path']} ".encode() + body
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": text})
