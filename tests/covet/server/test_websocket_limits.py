"""What a hostile WebSocket client can make covet hold, bytes in and out over both parsers.

Pongs and data sent before `accept()` are bounded by back-pressure, the handshake has a
deadline, the chosen subprotocol is checked before it reaches the 101, and fragmented messages
are charged per frame. The real-socket versions of the memory cases are in
`test_websocket_socket.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import tracemalloc
from collections.abc import Callable

import pytest

from covet.server.config import ServerConfig
from covet.server.exceptions import ServerConfigError
from covet.server.types import Receive, Scope, Send
from covet.server.websocket import WebSocketProtocol
from covet.server.wsframes import FrameReader
from tests.covet.server.conftest import Conn, ConnFactory
from tests.covet.server.test_websocket import UPGRADE, Recorder, client_frame, run, server_frames


def _ws(conn: Conn) -> WebSocketProtocol:
    protocol = conn.current
    assert isinstance(protocol, WebSocketProtocol)
    return protocol


def _accepting_with(subprotocol: object) -> Callable[[Scope, Receive, Send], object]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": subprotocol})

    return app


@pytest.mark.parametrize(
    "subprotocol",
    ["chat\r\nx-injected: 1", "chat\n", "other", "", 7],
    ids=["crlf", "lf", "not-offered", "empty", "not-a-string"],
)
def test_bad_subprotocol_is_a_500_and_never_written(
    make_conn: ConnFactory, subprotocol: object
) -> None:
    async def main() -> None:
        conn = make_conn(_accepting_with(subprotocol))
        out = await conn.request(UPGRADE)  # offers "chat, superchat"
        assert out.startswith(b"HTTP/1.1 500 ") and conn.transport.closed
        assert b"injected" not in out and b"sec-websocket-protocol" not in out

    run(main())


def test_offered_subprotocol_is_accepted(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(_accepting_with("superchat"))
        out = await conn.request(UPGRADE)
        assert out.startswith(b"HTTP/1.1 101 ") and b"sec-websocket-protocol: superchat\r\n" in out

    run(main())


def test_pings_while_writing_is_paused_get_one_pong_and_pause_reading(
    make_conn: ConnFactory,
) -> None:
    async def main() -> None:
        conn = make_conn(Recorder())
        await conn.request(UPGRADE)
        _ws(conn).pause_writing()  # what the transport does above its write high-water mark
        assert conn.transport.read_paused
        pings = b"".join(client_frame(0x9, b"%d" % i) for i in range(1000))
        assert await conn.request(pings) == b""
        _ws(conn).resume_writing()
        assert server_frames(conn.transport.take()) == [(0xA, b"999")]  # only the latest
        assert not conn.transport.read_paused
        out = await conn.request(client_frame(0x9, b"now") + client_frame(0x1, b"hi"))
        assert server_frames(out) == [(0xA, b"now"), (0x1, b"hi")]

    run(main())


async def _waits_then_accepts(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts only when told through scope state: the slow authenticating app."""
    await receive()
    accept: asyncio.Event = scope["state"]["accept"]
    await accept.wait()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "bytes": message.get("bytes")})


def test_data_before_accept_pauses_reading_and_is_delivered_after(
    make_conn: ConnFactory,
) -> None:
    async def main() -> None:
        conn = make_conn(_waits_then_accepts)
        accept = asyncio.Event()
        conn.state.lifespan_state["accept"] = accept
        assert await conn.request(UPGRADE) == b""
        early = b"".join(client_frame(0x2, bytes([i]) * 1000) for i in range(100))
        conn.feed(early)
        assert conn.transport.read_paused  # 100 kB is over the pre-accept buffer
        accept.set()
        await conn.settle()
        out = conn.transport.take()
        assert out.startswith(b"HTTP/1.1 101 ")
        frames = server_frames(out.partition(b"\r\n\r\n")[2])
        assert frames == [(0x2, bytes([i]) * 1000) for i in range(100)]
        assert not conn.transport.read_paused

    run(main())


def test_handshake_deadline_answers_503(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(_waits_then_accepts, timeout_ws_handshake=3)
        conn.state.lifespan_state["accept"] = asyncio.Event()
        assert await conn.request(UPGRADE + client_frame(0x1, b"early")) == b""
        state = conn.state
        state.tick_connections(state.now + 2)
        assert not conn.transport.closed
        state.tick_connections(state.now + 4)
        await conn.settle()
        assert conn.transport.take().startswith(b"HTTP/1.1 503 ") and conn.transport.closed

    run(main())


def test_keepalive_pings_an_idle_connection_then_closes_1011(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(Recorder(), ws_ping_interval=5, ws_ping_timeout=3)
        await conn.request(UPGRADE)
        state = conn.state
        start = state.now
        state.tick_connections(start + 4)
        assert conn.transport.take() == b""  # not idle long enough
        state.tick_connections(start + 6)
        assert server_frames(conn.transport.take()) == [(0x9, b"covet")]
        state.now = start + 6
        conn.feed(client_frame(0xA, b"covet"))  # the pong: alive, next ping in 5 s
        state.tick_connections(start + 10)
        assert conn.transport.take() == b""
        state.tick_connections(start + 12)
        assert server_frames(conn.transport.take()) == [(0x9, b"covet")]
        state.tick_connections(start + 16)  # no pong within 3 s
        await conn.settle()
        frames = server_frames(conn.transport.take())
        assert frames == [(0x8, struct.pack("!H", 1011) + b"keepalive ping timeout")]
        assert conn.transport.closed

    run(main())


def test_keepalive_disabled(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(Recorder(), ws_ping_interval=0)
        await conn.request(UPGRADE)
        conn.state.tick_connections(conn.state.now + 3600)
        assert conn.transport.take() == b"" and not conn.transport.closed

    run(main())


def test_empty_continuation_frames_are_charged(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(Recorder(), ws_max_size=1000)
        await conn.request(UPGRADE)
        flood = client_frame(0x2, b"x", fin=False) + client_frame(0x0, b"", fin=False) * 100
        frames = server_frames(await conn.request(flood))
        assert frames == [(0x8, struct.pack("!H", 1009) + b"message too big")]
        assert conn.transport.closed

    run(main())


def test_each_message_gets_the_whole_size_limit(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(Recorder(), ws_max_size=1000)
        await conn.request(UPGRADE)
        out = await conn.request(client_frame(0x2, b"a" * 600) + client_frame(0x2, b"b" * 600))
        assert server_frames(out) == [(0x2, b"a" * 600), (0x2, b"b" * 600)]

    run(main())


def test_frame_spanning_reads_is_buffered_once() -> None:
    """A frame arriving in many reads is held in one growing buffer, never copied per read.

    Copying the buffered prefix on every read is quadratic work, and its footprint is the
    witness: the old copy and the new one are alive together, twice the frame's size.
    """
    size = 4 * 1024 * 1024
    frame = client_frame(0x2, b"z" * size)
    chunks = [frame[i : i + 65536] for i in range(0, len(frame) - 1, 65536)]
    last = chunks.pop()
    reader = FrameReader(2 * size)
    tracemalloc.start()
    try:
        for chunk in chunks:
            assert list(reader.feed(chunk)) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * size
    assert list(reader.feed(last)) == [(0x2, b"z" * size)]


def test_keepalive_waits_while_the_app_lags(make_conn: ConnFactory) -> None:
    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await asyncio.Event().wait()  # never reads: the inbox fills and reading pauses

    async def main() -> None:
        conn = make_conn(slow_app, ws_ping_interval=1, ws_ping_timeout=1)
        await conn.request(UPGRADE)
        await conn.request(client_frame(0x2, b"m" * 60000) * 20)
        assert conn.transport.read_paused  # over the 1 MiB inbox
        for second in range(2, 10):
            conn.state.tick_connections(conn.state.now + second)
        assert conn.transport.take() == b"" and not conn.transport.closed
        conn.lose()

    run(main())


def test_websocket_deadlines_are_cli_options() -> None:
    parser = argparse.ArgumentParser()
    ServerConfig.add_arguments(parser)
    args = ["--ws-ping-interval", "0", "--ws-ping-timeout", "2.5", "--timeout-ws-handshake", "3"]
    config = ServerConfig.from_namespace(parser.parse_args(args))
    assert (config.ws_ping_interval, config.ws_ping_timeout) == (0, 2.5)
    assert config.timeout_ws_handshake == 3
    assert ServerConfig(ws_ping_interval=None, ws_ping_timeout=None).ws_ping_interval is None
    for name in ("ws_ping_interval", "ws_ping_timeout", "timeout_ws_handshake"):
        with pytest.raises(ServerConfigError, match=name):
            ServerConfig(**{name: -1})  # type: ignore[arg-type]
