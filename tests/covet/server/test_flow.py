"""Bounded memory and bounded time per connection: bytes in, bytes out, once per parser.

What a client that never reads, pipelines without end, or stalls a body costs the server:
write back-pressure on every response, `max_pipeline` held within one read, body and idle
deadlines after every kind of answer, pipelined requests answered on shutdown, and the response
header checks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import pytest

from covet.server.testing import FakeTransport
from covet.server.types import Receive, Scope, Send
from tests.covet.server.conftest import ConnFactory, echo_app, plaintext_app

BIG = b"x" * 100_000
HIGH_WATER = 64 * 1024


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def get(path: str = "/") -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % path.encode()


async def big_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": BIG})


async def not_found_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers at once and never reads the body: the early answer."""
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"not found"})


class BufferedTransport(FakeTransport):
    """A transport with a write buffer and a high-water mark, as asyncio's has."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        super().write(data)
        if len(self.buffer) > HIGH_WATER and self.protocol is not None:
            self.protocol.pause_writing()

    def get_write_buffer_size(self) -> int:
        return len(self.buffer)

    def read_by_client(self) -> bytes:
        data = self.take()
        if self.protocol is not None:
            self.protocol.resume_writing()
        return data


def buffered(make_conn: ConnFactory, app: Any, **options: Any) -> Any:
    conn = make_conn(app, **options)
    transport = BufferedTransport()
    transport.protocol = conn.protocol
    conn.transport = transport
    conn.protocol.connection_made(transport)
    conn.state.connections.discard(conn.protocol)
    return conn


def test_client_that_never_reads_holds_a_bounded_write_buffer(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = buffered(make_conn, big_app)
        conn.feed(get("/big") * 100)
        await conn.settle(500)
        held = conn.transport.get_write_buffer_size()
        # One response over the high-water mark at most, never the 10 MB asked for.
        assert held <= HIGH_WATER + 2 * len(BIG)
        data = b""
        for _ in range(2000):
            if data.count(b"HTTP/1.1 200 ") == 100:
                break
            data += conn.transport.read_by_client()
            await conn.settle(5)
            assert conn.transport.get_write_buffer_size() <= HIGH_WATER + 2 * len(BIG)
        assert data.count(b"HTTP/1.1 200 ") == 100 and data.endswith(BIG)

    run(main())


def test_max_pipeline_holds_within_one_read(make_conn: ConnFactory) -> None:
    gate = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await gate.wait()
        body = scope["path"].encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def main() -> None:
        conn = make_conn(app, max_pipeline=8)
        conn.feed(b"".join(get(f"/{i}") for i in range(3000)))  # ~85 KB in one read
        await conn.settle()
        # A slice of 1 KiB holds at most 64 more requests than max_pipeline.
        assert len(conn.protocol._pipeline) <= 8 + 64
        assert conn.transport.read_paused
        gate.set()
        data = b""
        for _ in range(3000):
            data += await conn.request(b"")
            if data.count(b"HTTP/1.1 200 ") == 3000:
                break
        bodies = [part.rsplit(b"\r\n\r\n", 1)[1] for part in data.split(b"HTTP/1.1 200 OK")[1:]]
        assert bodies == [b"/%d" % i for i in range(3000)]
        assert not conn.transport.read_paused and not conn.transport.closed

    run(main())


def test_big_body_read_is_held_until_the_app_reads(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        body = b"y" * 300_000
        head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body)
        conn.feed(head + body + get("/after") * 200)
        await conn.settle(3000)
        out = conn.transport.take()
        assert out.count(b"HTTP/1.1 200 ") == 201 and out.endswith(b"GET /after ")
        assert out.split(b"\r\n\r\n", 2)[1].startswith(b"POST / " + body[:10])

    run(main())


def test_stalled_body_gets_408_after_timeout_body(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)  # timeout_body defaults to 30 s
        state = conn.state
        head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
        assert await conn.request(head + b"x" * 10) == b""
        state.now += 20
        conn.feed(b"x" * 10)  # a byte resets the idle clock
        await conn.settle()
        state.now += 25
        state.tick_connections(state.now)
        assert not conn.transport.closed
        state.now += 6
        state.tick_connections(state.now)
        await conn.settle()
        assert conn.transport.take().startswith(b"HTTP/1.1 408 ") and conn.transport.closed
        assert conn.state.in_flight == 0

    run(main())


def test_early_answer_with_body_never_sent_times_out(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(not_found_app)  # timeout_body defaults to 30 s
        state = conn.state
        out = await conn.request(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 404 ")
        state.tick_connections(state.now + 29)
        assert not conn.transport.closed
        state.tick_connections(state.now + 31)
        await conn.settle()
        assert conn.transport.take() == b"" and conn.transport.closed

    run(main())


def test_early_answer_then_body_then_idle_keep_alive(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(not_found_app, timeout_body=10, timeout_keep_alive=1)
        state = conn.state
        out = await conn.request(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 404 ")
        assert await conn.request(b"done") == b""
        out = await conn.request(get())  # the connection still serves requests
        assert out.startswith(b"HTTP/1.1 404 ")
        state.tick_connections(state.now + 2)
        await conn.settle()
        assert conn.transport.closed

    run(main())


def test_no_body_deadline_while_the_app_is_behind(make_conn: ConnFactory) -> None:
    gate = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await gate.wait()
        await echo_app(scope, receive, send)

    async def main() -> None:
        conn = make_conn(app, timeout_body=1)
        head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n"
        await conn.request(head + b"z" * 100_000)
        assert conn.transport.read_paused
        conn.state.tick_connections(conn.state.now + 60)  # the app's time, not the client's
        assert not conn.transport.closed
        gate.set()
        out = await conn.request(b"z" * 100_000)
        assert out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"z" * 100)

    run(main())


def test_shutdown_answers_queued_pipelined_requests(make_conn: ConnFactory) -> None:
    gate = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await gate.wait()
        await plaintext_app(scope, receive, send)

    async def main() -> None:
        conn = make_conn(app)
        await conn.request(get() * 3)
        conn.state.shutting_down = True
        conn.protocol.shutdown()
        conn.feed(get())  # arrives after shutdown began: never parsed
        gate.set()
        data = b""
        for _ in range(50):
            data += await conn.request(b"")
            if conn.transport.closed:
                break
        answers = data.split(b"HTTP/1.1 200 OK")[1:]
        assert len(answers) == 3 and all(a.endswith(b"Hello, World!") for a in answers)
        assert [b"connection: close" in a for a in answers] == [False, False, True]
        assert conn.transport.closed

    run(main())


def send_start(status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.mark.parametrize(
    "app",
    [
        send_start(200, [(b"bad name", b"x")]),
        send_start(200, [(b"x:y", b"x")]),
        send_start(200, [(b"", b"x")]),
        send_start(200, [(b"x", b"a\x00b")]),
        send_start(200, [(b"x", b"a\x01b")]),
        send_start(200, [(b"x", b"a\x7f")]),
        send_start(200, [(b"x", b"a\rb")]),
        send_start(200, [(b"content-length", b"2"), (b"content-length", b"3")], b"ab"),
        send_start(204, [(b"content-length", b"0")]),
        send_start(101, [(b"content-length", b"0")]),
        send_start(204, [], b"body"),
        send_start(304, [], b"body"),
    ],
    ids=[
        "space-in-name",
        "colon-in-name",
        "empty-name",
        "nul",
        "ctl",
        "del",
        "lone-cr",
        "conflicting-length",
        "length-on-204",
        "length-on-1xx",
        "body-on-204",
        "body-on-304",
    ],
)
def test_invalid_response_headers_give_500(make_conn: ConnFactory, app: Any) -> None:
    async def main() -> None:
        conn = make_conn(app)
        out = await conn.request(get())
        assert out.startswith(b"HTTP/1.1 500 ") and conn.transport.closed
        assert out.count(b"HTTP/1.1 ") == 1

    logging.getLogger("covet.server").disabled = True
    try:
        run(main())
    finally:
        logging.getLogger("covet.server").disabled = False


def test_valid_response_headers_pass(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(
            send_start(200, [(b"x", b"a\tb \x80\xff"), (b"content-length", b"2")] * 2, b"ab")
        )
        out = await conn.request(get())
        assert out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"\r\n\r\nab")
        assert out.count(b"content-length: 2\r\n") == 1 and out.count(b"x: a\tb \x80\xff") == 2
        conn = make_conn(send_start(304, [(b"content-length", b"10"), (b"etag", b'"v1"')]))
        out = await conn.request(get())
        assert out.startswith(b"HTTP/1.1 304 ") and b"content-length: 10\r\n" in out
        assert not conn.transport.closed

    run(main())


def test_head_response_body_is_still_dropped(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(big_app)
        out = await conn.request(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"content-length: 100000\r\n\r\n")

    run(main())


def test_batched_pipelined_answers_are_written_once(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        conn.feed(b"".join(get(f"/{i}") for i in range(100)))
        await conn.settle(1000)
        data = conn.transport.take()
        bodies = [part.rsplit(b"\r\n\r\n", 1)[1] for part in data.split(b"HTTP/1.1 200 OK")[1:]]
        assert bodies == [b"GET /%d " % i for i in range(100)]

    run(main())
