"""WebSocket memory and deadline cases over real sockets: covet's server in-process on 127.0.0.1.

The client shares the test's event loop with the server, reads nothing it is not asked to, and
keeps its receive buffer small so the kernel cannot hide what the server would hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any

from covet.server.config import ServerConfig
from covet.server.server import Server
from covet.server.types import ASGIApp, Receive, Scope, Send
from tests.covet.server.test_websocket import UPGRADE, client_frame, run

MIB = 1024 * 1024
BOUND = 8 * MIB  # issue 10: memory growth per attacking connection


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text")})


async def never_accepts(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await receive()  # returns websocket.disconnect once the server gives up


@contextlib.asynccontextmanager
async def served(app: ASGIApp, http: str, **options: Any) -> AsyncIterator[Server]:
    config = ServerConfig(
        port=0,
        http=http,  # type: ignore[arg-type]
        loop="asyncio",
        access_log=False,
        lifespan="off",
        **options,
    )
    server = Server(config, app)
    await server.start()
    try:
        yield server
    finally:
        server.config.timeout_graceful_shutdown = 2
        await server.shutdown()


@contextlib.asynccontextmanager
async def client(server: Server, handshake: bool = True) -> AsyncIterator[socket.socket]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        await loop.sock_sendall(sock, UPGRADE)
        if handshake:
            head = await asyncio.wait_for(read_until(sock, b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 101 "), head
        yield sock
    finally:
        sock.close()


async def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    loop = asyncio.get_running_loop()
    while marker not in data:
        chunk = await loop.sock_recv(sock, 1)  # byte by byte: leave frames after it unread
        if not chunk:
            break
        data += chunk
    return data


async def read_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    """One server frame, or None at EOF."""
    loop = asyncio.get_running_loop()

    async def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = await loop.sock_recv(sock, n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    try:
        b0, n = await exactly(2)
        if n == 126:
            (n,) = struct.unpack("!H", await exactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await exactly(8))
        return b0 & 0x0F, await exactly(n)
    except (EOFError, ConnectionError):
        return None


async def flood(sock: socket.socket, data: bytes, done: Callable[[], bool]) -> None:
    """Send `data` without reading until it is all sent, `done()`, or the server stops taking it.

    Half a second without progress means the kernel buffers are full and the server is not
    reading: what it holds then is what a real attacker would make it hold.
    """
    view = memoryview(data)
    sent = 0
    stalled = 0
    for _ in range(100_000):
        if sent == len(view) or done() or stalled >= 50:
            return
        try:
            sent += sock.send(view[sent : sent + 256 * 1024])
        except BlockingIOError:
            stalled += 1
            await asyncio.sleep(0.01)
        except ConnectionError:
            return
        else:
            stalled = 0
            await asyncio.sleep(0)


async def settle_until(done: Callable[[], bool], steps: int = 500) -> None:
    for _ in range(steps):
        if done():
            return
        await asyncio.sleep(0.01)


def only_connection(server: Server) -> Any:
    (conn,) = server.state.connections
    return conn


def test_ping_flood_never_read_stays_bounded(http_impl: str) -> None:
    async def main() -> None:
        async with served(echo_app, http_impl) as server, client(server) as sock:
            transport = only_connection(server).transport
            held: list[int] = [0]

            def over() -> bool:
                held[0] = max(held[0], transport.get_write_buffer_size())
                return held[0] > BOUND

            pings = client_frame(0x9, b"p" * 125) * (30 * MIB // 131)
            await flood(sock, pings, over)
            await settle_until(lambda: over() or not transport.is_reading())
            assert held[0] <= BOUND, f"server holds {held[0] / MIB:.1f} MiB of pongs"

    run(main())


def test_data_before_accept_stays_bounded(http_impl: str) -> None:
    async def main() -> None:
        async with served(never_accepts, http_impl) as server:
            payload = client_frame(0x2, b"d" * 65000) * 300  # 19.5 MB
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]

                def over() -> bool:
                    return tracemalloc.get_traced_memory()[0] - base > BOUND

                async with client(server, handshake=False) as sock:
                    await settle_until(lambda: bool(server.state.connections))
                    transport = only_connection(server).transport
                    await flood(sock, payload, over)
                    await settle_until(lambda: over() or not transport.is_reading())
                    growth = tracemalloc.get_traced_memory()[0] - base
            finally:
                tracemalloc.stop()
            assert growth <= BOUND, f"server holds {growth / MIB:.1f} MiB before accept"

    run(main())


def test_handshake_deadline_over_a_socket(http_impl: str) -> None:
    async def main() -> None:
        async with (
            served(never_accepts, http_impl, timeout_ws_handshake=1) as server,
            client(server, handshake=False) as sock,
        ):
            head = await asyncio.wait_for(read_until(sock, b"\r\n\r\n"), 1 + 2)
            assert head.startswith(b"HTTP/1.1 503 ")

    run(main())


def test_keepalive_ping_over_a_socket(http_impl: str) -> None:
    interval = timeout = 1

    async def answers_pongs(sock: socket.socket) -> int:
        loop = asyncio.get_running_loop()
        pings = 0
        while pings < 2:
            frame = await read_frame(sock)
            assert frame is not None, "closed although every ping was answered"
            if frame[0] == 0x9:
                pings += 1
                await loop.sock_sendall(sock, client_frame(0xA, frame[1]))
        await loop.sock_sendall(sock, client_frame(0x1, b"still here"))
        while (frame := await read_frame(sock)) is not None and frame[0] == 0x9:
            await loop.sock_sendall(sock, client_frame(0xA, frame[1]))
        assert frame == (0x1, b"still here")
        return pings

    async def ignores_pings(sock: socket.socket) -> list[tuple[int, bytes]]:
        frames = []
        for _ in range(100):
            frame = await read_frame(sock)
            if frame is None:
                break
            frames.append(frame)
        return frames

    async def main() -> None:
        options = {"ws_ping_interval": interval, "ws_ping_timeout": timeout}
        async with served(echo_app, http_impl, **options) as server:
            async with client(server) as quiet:
                frames = await asyncio.wait_for(ignores_pings(quiet), interval + timeout + 2)
            assert frames[0] == (0x9, b"covet")
            assert frames[-1] == (0x8, struct.pack("!H", 1011) + b"keepalive ping timeout")
            async with client(server) as alive:
                assert await asyncio.wait_for(answers_pongs(alive), 10 * (interval + 2)) == 2

    run(main())
