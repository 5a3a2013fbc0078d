"""RFC 9112 framing edge cases (conformance reference): rejected with the right status, and
the connection closed. One data-driven test over the corpus, once per parser."""

from __future__ import annotations

import asyncio

import pytest

from tests.covet.server.conftest import ConnFactory, echo_app, plaintext_app

H = b"Host: a\r\n"
LONG = b"a" * 9000

# (id, request bytes, expected status)
REJECTED: list[tuple[str, bytes, int]] = [
    (
        "cl-and-te",
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    (
        "te-and-cl",
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        400,
    ),
    (
        "cl-duplicate-different",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
    ),
    ("cl-list", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5, 6\r\n\r\nhello!", 400),
    ("cl-negative", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("cl-plus", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +1\r\n\r\nx", 400),
    ("cl-hex", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x5\r\n\r\nhello", 400),
    ("cl-underscore", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1_0\r\n\r\n", 400),
    ("cl-space", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1 0\r\n\r\n", 400),
    ("cl-empty", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: \r\n\r\n", 400),
    ("cl-huge", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999\r\n\r\n", 400),
    (
        "te-chunked-gzip",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, gzip\r\n\r\n",
        400,
    ),
    (
        "te-gzip-chunked",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
    ),
    ("te-xchunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n", 400),
    (
        "te-duplicate",
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    (
        "te-chunked-twice",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    ("te-http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (
        "chunk-0x",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-plus",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-minus",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-underscore",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1_0\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-leading-space",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-trailing-space",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-empty-size",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-overflow",
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n",
        400,
    ),
    (
        "chunk-data-too-long",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-missing-crlf",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        400,
    ),
    (
        "chunk-bare-lf",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-ext-bare-semicolon",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-ext-invalid-token",
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Transfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk-ext-nul",
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Transfer-Encoding: chunked\r\n\r\n5;a\x00\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    ("bare-cr-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\rb\r\n\r\n", 400),
    ("bare-lf-header", b"GET / HTTP/1.1\r\n" + H + b"X: a\nY: b\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n b\r\n\r\n", 400),
    ("space-before-colon", b"GET / HTTP/1.1\r\n" + H + b"X : a\r\n\r\n", 400),
    ("space-before-first-header", b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400),
    ("no-host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two-hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("host-list", b"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
    ("host-invalid", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    ("nul-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n", 400),
    ("del-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x7fb\r\n\r\n", 400),
    ("ctl-in-name", b"GET / HTTP/1.1\r\n" + H + b"X\x01: a\r\n\r\n", 400),
    ("empty-name", b"GET / HTTP/1.1\r\n" + H + b": a\r\n\r\n", 400),
    ("non-ascii-name", b"GET / HTTP/1.1\r\n" + H + b"X\xc3\xa9: a\r\n\r\n", 400),
    ("version-1.1.1", b"GET / HTTP/1.1.1\r\n" + H + b"\r\n", 400),
    ("version-2.0", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 400),
    ("version-lowercase", b"GET / http/1.1\r\n" + H + b"\r\n", 400),
    ("method-invalid", b"G(T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    # found by covet-bench fuzz: garbage with no CRLF was held until the header timeout
    ("garbage-incomplete", b"\xc0[#9\xec\x02\x1eW", 400),
    ("request-line-bad-before-headers-end", b"G(T / HTTP/1.1\r\nHost: a\r\n", 400),
    ("target-space", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("request-line-too-long", b"GET /" + LONG + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    ("request-line-too-long-partial", b"GET /" + LONG, 414),
    (
        "header-section-too-large",
        b"GET / HTTP/1.1\r\n" + H + b"X: " + b"a" * 17000 + b"\r\n\r\n",
        431,
    ),
    ("header-section-too-large-partial", b"GET / HTTP/1.1\r\n" + H + b"X: " + b"a" * 17000, 431),
    ("body-too-large-cl", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 2000\r\n\r\n", 413),
    (
        "body-too-large-chunked",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n7d1\r\n" + b"x" * 2001,
        413,
    ),
]


@pytest.mark.parametrize(
    ("request_bytes", "status"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_rejected(make_conn: ConnFactory, request_bytes: bytes, status: int) -> None:
    async def main() -> None:
        conn = make_conn(echo_app, max_body=1000)
        out = await conn.request(request_bytes)
        assert out.startswith(b"HTTP/1.1 %d " % status), out[:200]
        assert out.count(b"HTTP/1.1 ") == 1
        assert b"connection: close" in out and conn.transport.closed

    asyncio.run(main())


SMUGGLING = [
    # CL.TE: a front end honouring CL would forward "G..." as the start of a second request.
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    # TE.CL
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
    b"5c\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n0\r\n\r\n",
    # Transfer_Encoding is not Transfer-Encoding: the body is empty, the rest is a bad request.
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
]


@pytest.mark.parametrize("request_bytes", SMUGGLING, ids=["cl-te", "te-cl", "underscore-te"])
def test_smuggled_request_never_answered(make_conn: ConnFactory, request_bytes: bytes) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(request_bytes)
        assert b"smuggled" not in out
        assert conn.transport.closed

    asyncio.run(main())


def test_invalid_second_request_does_not_corrupt_first(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(
            b"POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET / HTTP/9.9\r\n\r\n"
        )
        first, _, second = out.partition(b"HTTP/1.1 400 ")
        assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"POST /first ok")
        assert second and conn.transport.closed

    asyncio.run(main())


def test_leading_crlf_and_chunk_extensions_accepted(make_conn: ConnFactory) -> None:
    async def main() -> None:
        conn = make_conn(echo_app)
        out = await conn.request(
            b"\r\nPOST / HTTP/1.1\r\nHost: a:80\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'2;a=b;c="q\\"x"\r\nok\r\n0\r\n\r\n'
        )
        assert out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"POST / ok")

    asyncio.run(main())


def test_bad_chunk_after_the_app_answered_gets_400_and_close(make_conn: ConnFactory) -> None:
    """Found by `covet-bench fuzz`: the app answers before reading its chunked body, then the
    body's framing breaks. The broken request is neither in flight nor queued any more."""

    async def main() -> None:
        conn = make_conn(plaintext_app)
        head = b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        first = await conn.request(head)
        assert first.startswith(b"HTTP/1.1 200"), first
        second = await conn.request(b"ZZ\r\n\r\n")
        assert second.startswith(b"HTTP/1.1 400"), second
        assert conn.transport.closed

    asyncio.run(main())
