"""The server's own counters (`ServerState.counters`), bytes in and bytes out, once per parser:
each is bumped on its rare path and nowhere else."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from covet.server.state import ServerState
from tests.covet.server.conftest import ConnFactory, echo_app, plaintext_app

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def _expire(state: ServerState, seconds: float) -> None:
    state.now += seconds
    state.tick_connections(state.now)


def test_connections_reuse_and_parse_errors(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(plaintext_app)
        counters = conn.state.counters
        assert await conn.request(GET + GET)  # pipelined: no idle gap, no reuse counted
        assert counters.keepalive_reuses == 0
        assert (await conn.request(GET)).startswith(b"HTTP/1.1 200 ")
        assert (await conn.request(GET)).startswith(b"HTTP/1.1 200 ")
        assert counters.keepalive_reuses == 2 and counters.connections == 1
        assert counters.open_connections() == 1
        other = make_conn(plaintext_app, state=conn.state)
        assert (await other.request(b"GET / HTTP/1.1\r\nHost a\r\n\r\n")).startswith(
            b"HTTP/1.1 400 "
        )
        third = make_conn(plaintext_app, state=conn.state)
        long_line = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
        assert (await third.request(long_line)).startswith(b"HTTP/1.1 414 ")
        assert counters.parse_errors == {400: 1, 414: 1} and counters.connections == 3

    run(main())


def test_timeouts_by_kind(make_conn: ConnFactory) -> None:
    async def main() -> None:
        head = make_conn(plaintext_app, timeout_header=1)
        state = head.state
        counters = state.counters
        head.feed(b"GET / HTTP/1.1\r\n")
        body = make_conn(echo_app, state=state)
        body.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        idle = make_conn(plaintext_app, state=state)
        assert (await idle.request(GET)).startswith(b"HTTP/1.1 200 ")
        await head.settle()
        _expire(state, 60)
        await head.settle()
        assert counters.timeouts["header"] == 1 and counters.timeouts["body"] == 1
        assert counters.timeouts["keep_alive"] == 1
        assert head.transport.take().startswith(b"HTTP/1.1 408 ")

    run(main())


def test_limit_rejections(make_conn: ConnFactory) -> None:
    async def main() -> None:
        first = make_conn(plaintext_app, limit_concurrency=1)
        second = make_conn(plaintext_app, state=first.state)
        assert (await second.request(GET)).startswith(b"HTTP/1.1 503 ")
        assert first.state.counters.rejected == 1

    run(main())
