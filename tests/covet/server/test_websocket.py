"""WebSocket protocol tests: handshake, frames and close handling, bytes in and out."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Coroutine
from typing import Any

import pytest

from covet.server.exceptions import ConnectionClosedError
from covet.server.types import Message, Receive, Scope, Send
from covet.server.websocket import WebSocketProtocol, accept_key
from covet.server.wsframes import FrameReader, ProtocolError, build_frame, unmask
from tests.covet.server.conftest import Conn, ConnFactory

KEY = base64.b64encode(b"0123456789abcdef")
UPGRADE = (
    b"GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"
)


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def client_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    b0 = (0x80 if fin else 0) | rsv | opcode
    if n < 126:
        head = bytes((b0, 0x80 | n))
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    return head + mask + unmask(payload, mask)


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    frames = []
    pos = 0
    while pos < len(data):
        opcode, n = data[pos] & 0x0F, data[pos + 1] & 0x7F
        pos += 2
        if n == 126:
            n, pos = int.from_bytes(data[pos : pos + 2], "big"), pos + 2
        elif n == 127:
            n, pos = int.from_bytes(data[pos : pos + 8], "big"), pos + 8
        frames.append((opcode, data[pos : pos + n]))
        pos += n
    return frames


class Recorder:
    """Echo app that records what it receives and accepts with a subprotocol and a header."""

    def __init__(self) -> None:
        self.scope: Scope = {}
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.messages.append(await receive())
        await send(
            {"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-extra", b"1")]}
        )
        while True:
            message = await receive()
            self.messages.append(message)
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "close-me":
                await send({"type": "websocket.close", "code": 4001, "reason": "bye"})
                continue
            await send(
                {"type": "websocket.send", **{k: v for k, v in message.items() if k != "type"}}
            )


async def open_ws(make_conn: ConnFactory, app: Any) -> tuple[Conn, bytes]:
    conn = make_conn(app)
    out = await conn.request(UPGRADE)
    return conn, out


def test_handshake_and_echo(make_conn: ConnFactory) -> None:
    async def main() -> None:
        app = Recorder()
        conn, out = await open_ws(make_conn, app)
        assert out.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert b"sec-websocket-accept: " + accept_key(KEY) + b"\r\n" in out
        assert b"sec-websocket-protocol: chat\r\n" in out and b"x-extra: 1\r\n" in out
        assert isinstance(conn.current, WebSocketProtocol)
        scope = app.scope
        assert scope["type"] == "websocket" and scope["path"] == "/chat"
        assert scope["subprotocols"] == ["chat", "superchat"] and scope["query_string"] == b"x=1"
        assert scope["asgi"]["spec_version"] == "2.4"
        assert app.messages == [{"type": "websocket.connect"}]
        out = await conn.request(client_frame(0x1, "héllo".encode()) + client_frame(0x2, b"\x00"))
        assert server_frames(out) == [(0x1, "héllo".encode()), (0x2, b"\x00")]
        big = os.urandom(70000)
        out = await conn.request(client_frame(0x2, big))
        assert server_frames(out) == [(0x2, big)]

    run(main())


def test_fragments_ping_and_client_close(make_conn: ConnFactory) -> None:
    async def main() -> None:
        app = Recorder()
        conn, _ = await open_ws(make_conn, app)
        euro = "€".encode()
        data = (
            client_frame(0x1, b"a" + euro[:1], fin=False)
            + client_frame(0x9, b"ping!")  # control frames may interleave with fragments
            + client_frame(0x0, euro[1:], fin=False)
            + client_frame(0x0, b"z")
        )
        out = await conn.request(data)
        assert server_frames(out) == [(0xA, b"ping!"), (0x1, "a€z".encode())]
        out = await conn.request(client_frame(0x8, struct.pack("!H", 4000) + b"done"))
        assert server_frames(out) == [(0x8, struct.pack("!H", 4000))]
        assert conn.transport.closed
        assert app.messages[-1] == {"type": "websocket.disconnect", "code": 4000, "reason": "done"}

    run(main())


def test_close_without_code_reports_1005(make_conn: ConnFactory) -> None:
    async def main() -> None:
        app = Recorder()
        conn, _ = await open_ws(make_conn, app)
        await conn.request(client_frame(0x8, b""))
        assert app.messages[-1]["code"] == 1005

    run(main())


def test_server_close_with_code_and_reason(make_conn: ConnFactory) -> None:
    async def main() -> None:
        app = Recorder()
        conn, _ = await open_ws(make_conn, app)
        out = await conn.request(client_frame(0x1, b"close-me"))
        assert server_frames(out) == [(0x8, struct.pack("!H", 4001) + b"bye")]
        assert not conn.transport.closed  # waits for the client's close frame
        await conn.request(client_frame(0x8, struct.pack("!H", 4001)))
        assert conn.transport.closed
        assert app.messages[-1]["code"] == 4001

    run(main())


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(0x1, b"x", rsv=0x40), 1002),
        (bytes((0x81, 0x01)) + b"x", 1002),  # unmasked
        (client_frame(0x3, b""), 1002),  # reserved opcode
        (client_frame(0x9, b"x" * 126), 1002),  # control frame too long
        (client_frame(0x9, b"x", fin=False), 1002),  # fragmented control frame
        (client_frame(0x0, b"x"), 1002),  # continuation without a message
        (client_frame(0x1, b"\xff"), 1007),  # invalid UTF-8
        (client_frame(0x1, b"\xe2\x82", fin=True), 1007),  # truncated UTF-8
        (client_frame(0x8, b"\x03"), 1002),  # 1-byte close payload
        (client_frame(0x8, struct.pack("!H", 1005)), 1002),  # reserved close code
        (client_frame(0x8, struct.pack("!H", 1000) + b"\xff"), 1007),  # bad reason
        (client_frame(0x2, b"x" * 2000), 1009),  # over ws_max_size
    ],
    ids=[
        "rsv",
        "unmasked",
        "opcode",
        "long-control",
        "fragmented-control",
        "orphan-continuation",
        "bad-utf8",
        "truncated-utf8",
        "close-1-byte",
        "close-1005",
        "close-bad-reason",
        "too-big",
    ],
)
def test_protocol_errors_close_with_code(make_conn: ConnFactory, frame: bytes, code: int) -> None:
    async def main() -> None:
        app = Recorder()
        conn = make_conn(app, ws_max_size=1000)
        await conn.request(UPGRADE)
        out = await conn.request(frame)
        assert server_frames(out)[-1][0] == 0x8
        assert server_frames(out)[-1][1][:2] == struct.pack("!H", code)
        assert conn.transport.closed
        assert app.messages[-1]["type"] == "websocket.disconnect"

    run(main())


def test_close_before_accept_is_403_and_app_sees_1006(make_conn: ConnFactory) -> None:
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close"})
        seen.append(await receive())
        with pytest.raises(ConnectionClosedError):
            await send({"type": "websocket.send", "text": "late"})

    async def main() -> None:
        conn, out = await open_ws(make_conn, app)
        assert out.startswith(b"HTTP/1.1 403 ") and conn.transport.closed
        assert seen == [{"type": "websocket.disconnect", "code": 1006, "reason": ""}]

    run(main())


def test_denial_response(make_conn: ConnFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "websocket.http.response" in scope["extensions"]
        await receive()
        await send(
            {"type": "websocket.http.response.start", "status": 401, "headers": [(b"x", b"y")]}
        )
        await send({"type": "websocket.http.response.body", "body": b"no", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"pe"})

    async def main() -> None:
        conn, out = await open_ws(make_conn, app)
        assert out.startswith(b"HTTP/1.1 401 Unauthorized\r\n") and out.endswith(b"\r\n\r\nnope")
        assert b"x: y\r\n" in out and conn.transport.closed

    run(main())


def test_bad_handshake_is_400(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(Recorder())
        out = await conn.request(UPGRADE.replace(b"Version: 13", b"Version: 8"))
        assert out.startswith(b"HTTP/1.1 400 ") and b"sec-websocket-version: 13" in out

    run(main())


def test_connection_loss_gives_1006(make_conn: ConnFactory) -> None:
    async def main() -> None:
        app = Recorder()
        conn, _ = await open_ws(make_conn, app)
        conn.lose()
        await conn.settle()
        assert app.messages[-1] == {"type": "websocket.disconnect", "code": 1006, "reason": ""}

    run(main())


def test_frame_reader_limits() -> None:
    reader = FrameReader(10)
    frame = client_frame(0x2, b"12345", fin=False) + client_frame(0x0, b"678901")
    with pytest.raises(ProtocolError) as info:
        list(reader.feed(frame))
    assert info.value.code == 1009
    assert build_frame(0x1, b"x" * 70000)[1] == 127


def test_websocket_upgrade_pipelined_behind_a_request(make_conn: ConnFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first"})
            return
        await Recorder()(scope, receive, send)

    async def main() -> None:
        conn = make_conn(app)
        out = await conn.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" + UPGRADE)
        first, _, rest = out.partition(b"first")
        assert first.startswith(b"HTTP/1.1 200 ") and rest.startswith(b"HTTP/1.1 101 ")
        out = await conn.request(client_frame(0x1, b"hi"))
        assert server_frames(out) == [(0x1, b"hi")]

    run(main())


def test_other_upgrades_are_plain_http(make_conn: ConnFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    async def main() -> None:
        conn = make_conn(app)
        h2c = b"GET /a HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
        out = await conn.request(h2c + b"GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        assert out.count(b"HTTP/1.1 200 ") == 2 and out.endswith(b"/b")

    run(main())
