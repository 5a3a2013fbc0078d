"""Drive covet's server protocol in-process: a fake transport and a connection made from a
`ServerConfig`, with no socket and no event-loop server.

This is the one wiring of config -> state -> protocol outside `Server` itself, shared by the
server's bytes-in/bytes-out tests, covet-bench's instruction counter and the benchmarks, so each
measures exactly what the server runs.

Example::

    conn = TestConnection(app, ServerConfig(http="python", access_log=False))
    conn.feed(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    await conn.settle()
    assert conn.transport.take().startswith(b"HTTP/1.1 200")
"""

from __future__ import annotations

import asyncio
from typing import Any

from covet.server.config import ServerConfig
from covet.server.protocol import HTTPProtocol
from covet.server.state import ServerState
from covet.server.types import ASGIApp

__all__ = ["FakeTransport", "TestConnection"]

_PEERS = {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}


class FakeTransport(asyncio.Transport):
    """Collects written bytes and records close and read-pause state; no socket.

    Closing schedules `connection_lost` on the protocol, as a real transport does.
    """

    def __init__(self, peername: tuple[str, int] | None = None) -> None:
        super().__init__()
        self.peers = dict(_PEERS, peername=peername or _PEERS["peername"])
        self.buffer = bytearray()
        self.closed = False
        self.read_paused = False
        self.protocol: asyncio.BaseProtocol | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed:
            raise RuntimeError("write after close")
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
        if self.protocol is None:
            raise RuntimeError("no protocol attached")
        return self.protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peers.get(name, default)

    def take(self) -> bytes:
        """The bytes written so far, clearing the buffer."""
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


class TestConnection:
    """One client connection: an `HTTPProtocol` for `app` on a `FakeTransport`.

    `state` lets several connections share one server's state (its connection set, limits and
    clock), as connections of one server process do; `client` is the peer's (host, port).
    """

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(
        self,
        app: ASGIApp,
        config: ServerConfig | None = None,
        state: ServerState | None = None,
        client: tuple[str, int] | None = None,
    ) -> None:
        self.state = state or ServerState.from_config(config or ServerConfig(), app)
        self.transport = FakeTransport(client)
        self.protocol = HTTPProtocol(self.state)
        self.transport.protocol = self.protocol
        self.protocol.connection_made(self.transport)

    @property
    def current(self) -> asyncio.BaseProtocol:
        """The protocol now owning the transport (a WebSocket after an upgrade)."""
        return self.transport.get_protocol()

    def feed(self, data: bytes) -> None:
        """Hand `data` to the protocol as if it had arrived from the network."""
        protocol = self.current
        if not isinstance(protocol, asyncio.Protocol):
            raise TypeError(f"{type(protocol).__name__} is not a stream protocol")
        protocol.data_received(data)

    async def settle(self, rounds: int = 20) -> None:
        """Let the app's tasks run `rounds` loop iterations."""
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def request(self, data: bytes) -> bytes:
        """Feed `data`, settle, and return everything written meanwhile."""
        self.feed(data)
        await self.settle()
        return self.transport.take()

    def lose(self) -> None:
        """The client vanished: close the transport and tell the protocol at once."""
        if not self.transport.closed:
            self.transport.closed = True
            self.current.connection_lost(None)
