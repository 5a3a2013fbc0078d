"""Lifespan: startup/shutdown ordering, state handed to requests, failures, unsupported apps."""

from __future__ import annotations

import asyncio
import logging

import pytest

from covet.server.config import ServerConfig
from covet.server.exceptions import StartupError
from covet.server.server import Server
from covet.server.types import Receive, Scope, Send


async def stateful(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        assert scope["asgi"]["version"] == "3.0"
        await receive()
        scope["state"]["db"] = "pool"
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["state"]["db"].encode()})


async def get(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    data = await reader.read()
    writer.close()
    return data


def test_state_reaches_requests_over_a_real_socket() -> None:
    async def main() -> None:
        server = Server(ServerConfig(port=0, access_log=False, loop="asyncio"), stateful)
        await server.start()
        try:
            assert (await get(server.port)).endswith(b"\r\n\r\npool")
        finally:
            await server.shutdown()

    asyncio.run(main())


def test_startup_failed_raises() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    async def main() -> None:
        server = Server(ServerConfig(port=0), failing)
        with pytest.raises(StartupError, match="no database"):
            await server.start()

    asyncio.run(main())


@pytest.mark.parametrize("mode", ["auto", "off"])
def test_app_without_lifespan_still_serves(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError("http only")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        config = ServerConfig(port=0, lifespan=mode, access_log=False)  # type: ignore[arg-type]
        server = Server(config, http_only)
        await server.start()
        try:
            assert (await get(server.port)).startswith(b"HTTP/1.1 204 ")
        finally:
            await server.shutdown()

    with caplog.at_level(logging.INFO, logger="covet.server"):
        asyncio.run(main())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_lifespan_on_requires_support() -> None:
    async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("http only")

    async def main() -> None:
        server = Server(ServerConfig(port=0, lifespan="on"), http_only)
        with pytest.raises(StartupError):
            await server.start()

    logging.getLogger("covet.server").disabled = True
    try:
        asyncio.run(main())
    finally:
        logging.getLogger("covet.server").disabled = False
