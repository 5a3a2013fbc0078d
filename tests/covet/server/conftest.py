"""Fixtures for covet's server tests: a fake transport, and one protocol factory per parser."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from covet.server.config import ServerConfig
from covet.server.parsers import available_parsers, get_parser_class
from covet.server.parsers.base import ParserLimits
from covet.server.protocol import HTTPProtocol
from covet.server.state import ServerState
from covet.server.types import ASGIApp, Receive, Scope, Send


class FakeTransport(asyncio.Transport):
    """Collects written bytes; records close and pause state. No socket."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = bytearray()
        self.closed = False
        self.read_paused = False
        self.protocol: asyncio.BaseProtocol | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.buffer += data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            protocol = self.protocol
            if protocol is not None:
                asyncio.get_running_loop().call_soon(protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.read_paused = True

    def resume_reading(self) -> None:
        self.read_paused = False

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self.protocol is not None
        return self.protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


class Conn:
    """A protocol wired to a FakeTransport: feed bytes, settle the loop, read bytes."""

    def __init__(
        self, app: ASGIApp, http: str, state: ServerState | None = None, **options: Any
    ) -> None:
        if state is None:
            options.setdefault("access_log", False)
            config = ServerConfig(http=http, **options)  # type: ignore[arg-type]
            limits = ParserLimits(config.max_request_line, config.max_header_size, config.max_body)
            state = ServerState(config, app, get_parser_class(http), limits)
        self.state = state
        self.transport = FakeTransport()
        self.protocol = HTTPProtocol(self.state)
        self.transport.protocol = self.protocol
        self.protocol.connection_made(self.transport)

    @property
    def current(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()

    def feed(self, data: bytes) -> None:
        protocol = self.current
        assert isinstance(protocol, asyncio.Protocol)
        protocol.data_received(data)

    async def settle(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def request(self, data: bytes) -> bytes:
        self.feed(data)
        await self.settle()
        return self.transport.take()

    def lose(self) -> None:
        if not self.transport.closed:
            self.transport.closed = True
            self.current.connection_lost(None)


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
