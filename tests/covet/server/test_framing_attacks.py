"""Regression tests for the parser and framing findings of issue 10, bytes in and bytes out,
once per parser: an upgrade or CONNECT body never runs as a second request, nothing after a
rejected request reaches the app, header lines parse in linear time, tiny body chunks do not
accumulate quadratically, and the two parsers take the same (stricter) reading."""

from __future__ import annotations

import asyncio
import re

import pytest

from covet.server.exceptions import HTTPParseError
from covet.server.parsers import available_parsers, get_parser_class
from covet.server.parsers import python as python_parser
from covet.server.parsers.base import Headers, ParserLimits, RequestInfo
from covet.server.protocol import HTTPProtocol
from covet.server.types import Receive, Scope, Send
from tests.covet.server.conftest import ConnFactory, echo_app

SMUGGLED = b"GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"  # 32 bytes
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
WS_HEAD = (
    b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n"
)


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def upgrade_request(token: bytes, framing: str) -> bytes:
    head = b"POST /public HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: " + token
    if framing == "length":
        return head + b"\r\nContent-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED
    return head + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(SMUGGLED)


def answers(out: bytes) -> list[bytes]:
    return re.findall(rb"HTTP/1\.1 (\d{3}) ", out)


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("token", [b"h2c", b"foo", b"TLS/1.2"])
@pytest.mark.parametrize("split", [False, True], ids=["one-read", "body-in-later-reads"])
def test_upgrade_not_performed_keeps_its_body(
    make_conn: ConnFactory, token: bytes, framing: str, split: bool
) -> None:
    """Issue 10 #1: llhttp skipped this body and covet parsed it as `GET /admin`."""

    async def main() -> None:
        conn = make_conn(echo_app)
        data = upgrade_request(token, framing) + b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
        if split:
            at = data.index(b"\r\n\r\n") + 4
            conn.feed(data[:at])
            await conn.settle()
            for i in range(at, len(data), 7):
                conn.feed(data[i : i + 7])
                await conn.settle(2)
            out = await conn.request(b"")
        else:
            out = await conn.request(data)
        assert answers(out) == [b"200", b"200"], out
        first, second = out.split(b"HTTP/1.1 ")[1:]
        assert first.endswith(b"\r\n\r\nPOST /public " + SMUGGLED)
        assert second.endswith(b"\r\n\r\nGET /next ")
        assert b"GET /admin \r" not in out and not out.endswith(b"GET /admin ")
        assert not conn.transport.closed

    asyncio.run(main())


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n" + SMUGGLED,
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 32\r\n\r\n" + SMUGGLED,
        b"CONNECT / HTTP/1.1\r\nHost: a\r\nContent-Length: 32\r\n\r\n" + SMUGGLED,
        b"CONNECT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(SMUGGLED),
    ],
    ids=["authority", "authority-body", "origin-body", "origin-chunked"],
)
def test_connect_is_501_and_close(make_conn: ConnFactory, request_bytes: bytes) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(request_bytes)
        assert answers(out) == [b"501"], out
        assert b"connection: close" in out and conn.transport.closed

    asyncio.run(main())


@pytest.mark.parametrize(
    "body",
    [
        b"Content-Length: 32\r\n\r\n" + SMUGGLED,
        b"Transfer-Encoding: chunked\r\n\r\n" + chunked(b"x"),
    ],
    ids=["length", "chunked"],
)
def test_websocket_upgrade_with_a_body_is_400(make_conn: ConnFactory, body: bytes) -> None:
    """Issue 10 #1: the pure-Python parser swallowed this request and never answered."""

    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(WS_HEAD + body)
        assert answers(out) == [b"400"], out
        assert conn.transport.closed

    asyncio.run(main())


def test_nothing_after_a_rejected_request_reaches_the_app(make_conn: ConnFactory) -> None:
    """Issue 10: a request fed after the one the parser rejected (while an earlier one is still
    being answered) was run by the pure-Python parser before the 400 went out."""
    seen: list[str] = []
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])
        if scope["path"] == "/slow":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    async def main() -> None:
        conn = make_conn(app)
        conn.feed(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/9.9\r\n\r\n")
        await conn.settle()
        # The protocol paused reading; a transport may still deliver what it already read.
        conn.feed(b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        await conn.settle()
        release.set()
        await conn.settle()
        out = conn.transport.take()
        assert seen == ["/slow"], seen
        assert answers(out) == [b"200", b"400"] and conn.transport.closed

    asyncio.run(main())


class _Owner:
    def __init__(self) -> None:
        self.requests: list[bytes] = []

    def on_request(
        self, method: bytes, target: bytes, http_version: str, headers: Headers, info: RequestInfo
    ) -> None:
        self.requests.append(target)

    def on_body(self, data: bytes) -> None:
        pass

    def on_message_complete(self) -> None:
        pass


@pytest.mark.parametrize("name", available_parsers())
@pytest.mark.parametrize(
    "bad",
    [b"GET / HTTP/9.9\r\n\r\n", b"G(T / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\n" + b"X: y" * 5000],
    ids=["version", "method", "too-large"],
)
def test_parser_stays_failed_after_an_error(name: str, bad: bytes) -> None:
    owner = _Owner()
    parser = get_parser_class(name)(owner, ParserLimits())
    parser.feed(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
    with pytest.raises(HTTPParseError) as first:
        parser.feed(bad)
    for _ in range(2):
        with pytest.raises(HTTPParseError) as again:
            parser.feed(b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        assert again.value.status == first.value.status
    assert owner.requests == [b"/a"]


def test_header_regex_has_no_quadratic_shape() -> None:
    """Issue 10 #4: `([...]*?)[ \\t]*\\r\\n` rescanned a whitespace run at every step (a 16 KB
    header cost ~0.7 s of CPU). Linear: no lazy repeat, possessive quantifiers only."""
    pattern = python_parser._HEADER_LINE.pattern
    assert b"*?" not in pattern and b"+?" not in pattern
    assert b"*+" in pattern and b"++" in pattern


WS = [b" ", b"\t", b" \t"]


@pytest.mark.parametrize("run", WS, ids=["spaces", "tabs", "mixed"])
def test_64k_whitespace_runs_in_a_header_value(make_conn: ConnFactory, run: bytes) -> None:
    blank = run * (65536 // len(run))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        value = dict(scope["headers"])[b"x"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"%d:%r" % (len(value), value[-3:])})

    async def main() -> None:
        head = b"GET / HTTP/1.1\r\nHost: a\r\n"
        for line, expect in [
            (b"X:" + blank + b"a" + blank + b"b" + blank, b"%d:b'" % (len(blank) + 2)),
            (b"X:" + blank, b"0:b''"),
        ]:
            conn = make_conn(app, max_header_size=300_000)
            out = await conn.request(head + line + b"\r\n\r\n")
            assert answers(out) == [b"200"], out[:100]
            assert out.split(b"\r\n\r\n", 1)[1].startswith(expect), out[-40:]
        for line in [b"X: a" + blank + b"\x01" + blank, b"X: a" + blank + b"\rb" + blank]:
            conn = make_conn(app, max_header_size=300_000)
            out = await conn.request(head + line + b"\r\n\r\n")
            assert answers(out) == [b"400"], out[:100]

    asyncio.run(main())


def test_64k_whitespace_run_in_a_trailer(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app, max_header_size=300_000)
        head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
        out = await conn.request(head + b"T: a" + b" " * 65536 + b"b \r\n\r\n")
        assert answers(out) == [b"200"] and out.endswith(b"POST / ok")
        conn = make_conn(echo_app, max_header_size=300_000)
        out = await conn.request(head + b"T: a" + b" " * 65536 + b"\x01\r\n\r\n")
        assert answers(out) == [b"400"]

    asyncio.run(main())


def test_tiny_body_chunks_grow_one_buffer(make_conn: ConnFactory) -> None:
    """Issue 10: `body += data` copied the whole buffered body for every chunk (quadratic)."""
    body = bytes(range(256)) * 40
    received: list[bytes] = []
    go = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await go.wait()  # let the whole body pile up unread
        while True:
            message = await receive()
            assert type(message["body"]) is bytes
            received.append(message["body"])
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"%d" % len(b"".join(received))})

    async def main() -> None:
        conn = make_conn(app)
        conn.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), 3):
            conn.feed(body[i : i + 3])
        protocol = conn.current
        assert isinstance(protocol, HTTPProtocol)
        cycle = protocol._cycle
        assert cycle is not None
        assert type(cycle.body) is bytearray  # grown in place, not copied per chunk
        go.set()
        out = await conn.request(b"")
        assert b"".join(received) == body and out.endswith(b"%d" % len(body))

    asyncio.run(main())


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
        (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"Get / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"FOO / HTTP/1.1\r\n", 400),
        (b"PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    ],
    ids=["cl-identical-twice", "lower", "mixed-case", "unknown", "unknown-partial", "dav", "ssdp"],
)
def test_parsers_take_the_same_reading(
    make_conn: ConnFactory, request_bytes: bytes, status: int
) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(request_bytes)
        assert answers(out) == [b"%d" % status], out
        assert conn.transport.closed == (status != 200)

    asyncio.run(main())


def test_trailer_fields_never_join_the_request_headers(make_conn: ConnFactory) -> None:
    """llhttp reports trailers through on_header: appended to the list the app holds as
    `scope["headers"]`, `X-Trailer` showed up there after the body was read (httptools)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        names = b",".join(name for name, _ in scope["headers"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": names})

    async def main() -> None:
        conn = make_conn(app)
        out = await conn.request(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nok\r\n0\r\nX-Trailer: 1\r\nHost: evil\r\n\r\n"
        )
        assert out.endswith(b"\r\n\r\nhost,transfer-encoding"), out
        conn = make_conn(app, max_header_size=1000)
        big = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 90) for i in range(20))
        out = await conn.request(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + big + b"\r\n"
        )
        assert answers(out) == [b"431"], out

    asyncio.run(main())


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nokGET /after HTTP/1.1\r\nHost: a\r\n\r\n",
    ],
    ids=["close", "http10-body"],
)
@pytest.mark.parametrize("name", available_parsers())
def test_parsers_report_nothing_after_the_last_request(name: str, request_bytes: bytes) -> None:
    owner = _Owner()
    parser = get_parser_class(name)(owner, ParserLimits())
    with pytest.raises(HTTPParseError):
        parser.feed(request_bytes)
    assert owner.requests == [b"/"]
    get_parser_class(name)(_Owner(), ParserLimits()).feed(
        request_bytes.split(b"GET /after")[0] + b"\r\n"
    )


@pytest.mark.parametrize("name", available_parsers())
def test_many_pipelined_upgrades_not_performed(name: str) -> None:
    """Each h2c request restarted llhttp by recursion: 3,000 in one read hit RecursionError."""
    owner = _Owner()
    parser = get_parser_class(name)(owner, ParserLimits())
    h2c = b"GET /u HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"
    parser.feed(h2c * 3000)
    assert owner.requests == [b"/u"] * 3000
