"""HTTP/1.1 protocol tests: bytes in, bytes out, no socket; run once per parser."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import pytest

from covet.server.exceptions import ConnectionClosedError
from covet.server.types import Message, Receive, Scope, Send
from tests.covet.server.conftest import ConnFactory, echo_app, plaintext_app

GET = b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def responses(data: bytes) -> int:
    return data.count(b"HTTP/1.1 ")


def test_plaintext(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(plaintext_app)
        out = await conn.request(GET)
        head, _, body = out.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\ndate: " in head and b"\r\nserver: covet" in head
        assert b"content-length: 13" in head
        assert body == b"Hello, World!"
        assert not conn.transport.closed

    run(main())


def test_keep_alive_and_pipelining_in_order(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        reqs = b"".join(b"GET /%d HTTP/1.1\r\nHost: a\r\n\r\n" % i for i in range(5))
        out = await conn.request(reqs)
        assert responses(out) == 5
        bodies = [part.split(b"\r\n\r\n", 1)[1] for part in out.split(b"HTTP/1.1 ")[1:]]
        assert bodies == [b"GET /%d " % i for i in range(5)]
        out = await conn.request(GET)
        assert out.endswith(b"GET / ")
        assert not conn.transport.closed

    run(main())


def test_pipelining_split_across_reads(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        data = b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHo"
        conn.feed(data)
        await conn.settle()
        conn.feed(b"st: a\r\n\r\n")
        await conn.settle()
        out = conn.transport.take()
        assert responses(out) == 2
        assert b"POST /a hello" in out and out.endswith(b"GET /b ")

    run(main())


def test_chunked_request_body(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(
            b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        assert out.endswith(b"POST /c hello world")
        out = await conn.request(GET)
        assert out.endswith(b"GET / ")

    run(main())


def test_body_in_pieces(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        conn.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234")
        await conn.settle()
        assert conn.transport.buffer == b""
        out = await conn.request(b"56789")
        assert out.endswith(b"POST / 0123456789")

    run(main())


async def streaming_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"abc", "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": True})
    await send({"type": "http.response.body", "body": b"defg", "more_body": False})


def test_chunked_response(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(streaming_app)
        out = await conn.request(GET)
        head, _, body = out.partition(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head
        assert body == b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
        assert not conn.transport.closed

    run(main())


def test_http10_streaming_is_close_delimited(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(streaming_app)
        out = await conn.request(b"GET / HTTP/1.0\r\n\r\n")
        head, _, body = out.partition(b"\r\n\r\n")
        assert b"transfer-encoding" not in head and b"connection: close" in head
        assert body == b"abcdefg"
        assert conn.transport.closed

    run(main())


def test_http10_keep_alive(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(plaintext_app)
        out = await conn.request(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert b"connection: keep-alive" in out and not conn.transport.closed
        out = await conn.request(b"GET / HTTP/1.0\r\n\r\n")
        assert b"connection: close" in out and conn.transport.closed

    run(main())


def test_connection_close(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(plaintext_app)
        out = await conn.request(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert b"connection: close" in out and out.endswith(b"Hello, World!")
        assert conn.transport.closed

    run(main())


def test_head_has_no_body(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(plaintext_app)
        out = await conn.request(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert out.endswith(b"content-length: 13\r\n\r\n")
        assert not conn.transport.closed

    run(main())


def test_204_and_304_have_no_body_or_framing(make_conn: ConnFactory) -> None:
    async def main() -> None:
        for status in (204, 304):

            async def app(scope: Scope, receive: Receive, send: Send, status: int = status) -> None:
                await send({"type": "http.response.start", "status": status, "headers": []})
                await send({"type": "http.response.body", "body": b"", "more_body": True})
                await send({"type": "http.response.body", "body": b""})

            conn = make_conn(app)
            out = await conn.request(GET)
            assert out.endswith(b"\r\n\r\n")
            assert b"transfer-encoding" not in out and b"content-length" not in out

    run(main())


def test_lazy_100_continue(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        req = b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
        out = await conn.request(req)
        assert out == b"HTTP/1.1 100 Continue\r\n\r\n"
        out = await conn.request(b"ok")
        assert out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"POST / ok")

        conn = make_conn(plaintext_app)  # never reads the body: no 100, and the connection closes
        out = await conn.request(req)
        assert out.startswith(b"HTTP/1.1 200 ") and b"100 Continue" not in out
        assert conn.transport.closed

    run(main())


def test_scope(make_conn: ConnFactory) -> None:
    seen: list[Scope] = []
    states: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        states.append(dict(scope["state"]))
        scope["state"]["mutated"] = True
        await plaintext_app(scope, receive, send)

    async def main() -> None:
        conn = make_conn(app, root_path="/mnt")
        conn.state.lifespan_state["db"] = "conn"
        req = b"GET /a%20b%E2%82%AC/c?x=%20&y HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
        await conn.request(req + req)
        scope = seen[0]
        assert scope["type"] == "http" and scope["http_version"] == "1.1"
        assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
        assert scope["method"] == "GET" and scope["scheme"] == "http"
        assert scope["path"] == "/mnt/a b\u20ac/c" and scope["root_path"] == "/mnt"
        assert scope["raw_path"] == b"/a%20b%E2%82%AC/c"
        assert scope["query_string"] == b"x=%20&y"
        assert scope["headers"] == [(b"host", b"h"), (b"x-a", b"1"), (b"x-a", b"2")]
        assert scope["client"] == ("127.0.0.1", 50000) and scope["server"] == ("127.0.0.1", 8000)
        assert states[1] == {"db": "conn"}  # per-request copy: mutations do not leak

    run(main())


def test_absolute_form_and_asterisk(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(b"GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n")
        assert out.endswith(b"GET /p ")
        out = await conn.request(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
        assert out.endswith(b"OPTIONS * ")

    run(main())


def test_disconnect_after_response_and_on_loss(make_conn: ConnFactory) -> None:
    messages: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        messages.append(await receive())
        await plaintext_app(scope, receive, send)
        messages.append(await receive())

    async def waiting_app(scope: Scope, receive: Receive, send: Send) -> None:
        messages.append(await receive())
        messages.append(await receive())  # blocks until the client goes away

    async def main() -> None:
        conn = make_conn(app)
        await conn.request(GET)
        assert [m["type"] for m in messages] == ["http.request", "http.disconnect"]
        messages.clear()
        conn = make_conn(waiting_app)
        await conn.request(GET)
        assert len(messages) == 1
        conn.lose()
        await conn.settle()
        assert messages[-1] == {"type": "http.disconnect"}

    run(main())


def test_send_after_close_raises_oserror_not_logged(
    make_conn: ConnFactory, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await receive()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        except OSError as exc:
            errors.append(exc)
            raise

    async def main() -> None:
        conn = make_conn(app)
        await conn.request(GET)
        conn.lose()
        await conn.settle()

    with caplog.at_level(logging.INFO, logger="covet"):
        run(main())
    assert errors and isinstance(errors[0], ConnectionClosedError)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_app_exception_gives_500_and_close(
    make_conn: ConnFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError("boom")

    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    async def main() -> None:
        conn = make_conn(broken)
        out = await conn.request(GET)
        assert out.startswith(b"HTTP/1.1 500 ") and conn.transport.closed
        conn = make_conn(half)  # the head waits for the first body: nothing sent yet, so 500
        out = await conn.request(GET)
        assert out.startswith(b"HTTP/1.1 500 ") and conn.transport.closed
        conn = make_conn(silent)
        out = await conn.request(GET)
        assert out.startswith(b"HTTP/1.1 500 ") and conn.transport.closed

    with caplog.at_level(logging.ERROR, logger="covet"):
        run(main())
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 3


@pytest.mark.parametrize(
    "message",
    [
        {"type": "http.response.start", "status": 200, "headers": [(b"x", b"a\r\nb: c")]},
        {"type": "http.response.start", "status": 200, "headers": [("x", "str")]},
        {"type": "http.response.body", "body": b""},
        {"type": "http.response.start", "status": "200", "headers": []},
    ],
    ids=["crlf-injection", "str-header", "body-before-start", "str-status"],
)
def test_invalid_messages_raise_from_send(make_conn: ConnFactory, message: Message) -> None:
    raised: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(message)
            await send({"type": "http.response.body", "body": b""})
        except (RuntimeError, TypeError) as exc:
            raised.append(exc)

    async def main() -> None:
        conn = make_conn(app)
        out = await conn.request(GET)
        assert out.startswith(b"HTTP/1.1 500 ")

    logging.getLogger("covet.server").disabled = True
    try:
        run(main())
    finally:
        logging.getLogger("covet.server").disabled = False
    assert raised


def test_response_header_order_and_set_cookie(make_conn: ConnFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"set-cookie", b"a=1"), (b"x-z", b"z"), (b"set-cookie", b"b=2")]
        headers.append((b"transfer-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x"})

    async def main() -> None:
        conn = make_conn(app)
        out = await conn.request(GET)
        assert b"set-cookie: a=1\r\nx-z: z\r\nset-cookie: b=2\r\ncontent-length: 1\r\n" in out
        assert b"gzip" not in out

    run(main())


def test_request_body_backpressure(make_conn: ConnFactory) -> None:
    gate = asyncio.Event()

    async def slow_reader(scope: Scope, receive: Receive, send: Send) -> None:
        await gate.wait()
        await echo_app(scope, receive, send)

    async def main() -> None:
        conn = make_conn(slow_reader)
        size = 300_000
        conn.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % size)
        conn.feed(b"x" * 100_000)
        await conn.settle()
        assert conn.transport.read_paused
        gate.set()
        await conn.settle()
        assert not conn.transport.read_paused
        conn.feed(b"x" * 200_000)
        await conn.settle()
        assert conn.transport.take().endswith(b"x" * 1000)

    run(main())


def test_send_waits_while_transport_paused(make_conn: ConnFactory) -> None:
    progress: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(3):
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            progress.append(i)
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        conn = make_conn(app)
        conn.protocol.pause_writing()
        await conn.request(GET)
        assert progress == []
        conn.protocol.resume_writing()
        await conn.settle()
        assert progress == [0, 1, 2]

    run(main())


def test_limit_concurrency_503(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(plaintext_app, limit_concurrency=1)
        conn.state.in_flight = 1  # another request is being served
        out = await conn.request(GET)
        assert out.startswith(b"HTTP/1.1 503 ") and conn.transport.closed

    run(main())


def test_header_and_keep_alive_timeouts(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(plaintext_app, timeout_header=5, timeout_keep_alive=2)
        conn.feed(b"GET / HTTP/1.1\r\nHo")
        conn.state.now += 6
        conn.state.tick_connections(conn.state.now)
        await conn.settle()
        assert conn.transport.take().startswith(b"HTTP/1.1 408 ") and conn.transport.closed

        conn = make_conn(plaintext_app, timeout_header=5, timeout_keep_alive=2)
        await conn.request(GET)
        conn.state.tick_connections(conn.state.now + 1)
        assert not conn.transport.closed
        conn.state.tick_connections(conn.state.now + 3)
        assert conn.transport.take() == b"" and conn.transport.closed

    run(main())


def test_shutdown_finishes_in_flight(make_conn: ConnFactory) -> None:
    gate = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await gate.wait()
        await plaintext_app(scope, receive, send)

    async def main() -> None:
        idle = make_conn(app)
        idle.protocol.shutdown()
        await idle.settle()
        assert idle.transport.closed
        busy = make_conn(app)
        busy.feed(GET)
        await busy.settle()
        busy.protocol.shutdown()
        assert not busy.transport.closed
        gate.set()
        out = await busy.request(b"")
        assert out.endswith(b"Hello, World!") and b"connection: close" in out
        assert busy.transport.closed

    run(main())
