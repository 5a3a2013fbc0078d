from __future__ import annotations

import gzip
import zlib

import pytest

from covet.middleware import GZipMiddleware
from covet.middleware.gzip import accepts_gzip
from tests.covet.middleware.helpers import Message, headers_of, http_scope, run_asgi, text_app

BIG = b"covet " * 200
GZIP = [(b"accept-encoding", b"gzip, deflate, br")]


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_large_response_is_compressed_with_exact_length_and_vary() -> None:
    app = GZipMiddleware(text_app(BIG, headers=[(b"etag", b'"v1"')]))
    sent = run_asgi(app, http_scope(headers=GZIP))
    headers = headers_of(sent[0])
    body = body_of(sent)
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"vary"] == b"Accept-Encoding"
    assert headers[b"etag"] == b'W/"v1"'
    assert gzip.decompress(body) == BIG
    assert len(body) < len(BIG)


def test_small_response_is_left_alone() -> None:
    sent = run_asgi(GZipMiddleware(text_app(b"tiny")), http_scope(headers=GZIP))
    assert b"content-encoding" not in headers_of(sent[0])
    assert body_of(sent) == b"tiny"


def test_minimum_size_is_configurable() -> None:
    sent = run_asgi(GZipMiddleware(text_app(b"tiny"), minimum_size=0), http_scope(headers=GZIP))
    assert gzip.decompress(body_of(sent)) == b"tiny"


def test_client_without_gzip_gets_identity() -> None:
    scope = http_scope(headers=[(b"accept-encoding", b"br")])
    sent = run_asgi(GZipMiddleware(text_app(BIG)), scope)
    assert b"content-encoding" not in headers_of(sent[0])
    assert body_of(sent) == BIG


def test_already_encoded_response_is_not_compressed_twice() -> None:
    encoded = gzip.compress(BIG)
    app = text_app(encoded, headers=[(b"content-encoding", b"gzip")])
    sent = run_asgi(GZipMiddleware(app, minimum_size=0), http_scope(headers=GZIP))
    assert body_of(sent) == encoded
    assert headers_of(sent[0])[b"content-length"] == str(len(encoded)).encode()


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (206, [(b"content-range", b"bytes 0-1199/5000")]),
        (200, [(b"content-range", b"bytes 0-1199/5000")]),
        (204, []),
    ],
)
def test_partial_and_bodiless_statuses_are_left_alone(
    status: int, headers: list[tuple[bytes, bytes]]
) -> None:
    sent = run_asgi(
        GZipMiddleware(text_app(BIG, status=status, headers=headers)), http_scope(headers=GZIP)
    )
    assert b"content-encoding" not in headers_of(sent[0])


def test_event_stream_is_excluded() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send({"type": "http.response.body", "body": BIG})

    sent = run_asgi(GZipMiddleware(app), http_scope(headers=GZIP))
    assert body_of(sent) == BIG


def test_head_is_not_compressed() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"9")]}
        )
        await send({"type": "http.response.body", "body": b""})

    sent = run_asgi(GZipMiddleware(app, minimum_size=0), http_scope("HEAD", headers=GZIP))
    assert headers_of(sent[0]) == {b"content-length": b"9"}


def test_streaming_is_compressed_chunk_by_chunk_and_each_chunk_is_decodable() -> None:
    chunks = [b"first chunk " * 10, b"second " * 10, b"third"]
    sent = run_asgi(GZipMiddleware(text_app(chunks=chunks)), http_scope(headers=GZIP))
    headers = headers_of(sent[0])
    assert headers[b"content-encoding"] == b"gzip"
    assert b"content-length" not in headers
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert [m["more_body"] for m in bodies] == [True, True, True, False]
    # A sync flush after each chunk: the client can decode each as it arrives.
    decoder = zlib.decompressobj(31)
    for chunk, message in zip(chunks, bodies, strict=False):
        assert decoder.decompress(message["body"]) == chunk
    assert decoder.decompress(bodies[-1]["body"]) == b""
    assert decoder.eof


def test_streaming_skips_empty_intermediate_chunks() -> None:
    sent = run_asgi(
        GZipMiddleware(text_app(chunks=[b"a" * 600, b"", b"b"])), http_scope(headers=GZIP)
    )
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert len(bodies) == 3
    assert gzip.decompress(b"".join(bodies)) == b"a" * 600 + b"b"


def test_extension_messages_pass_through_untouched() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": "/tmp/x"})

    sent = run_asgi(GZipMiddleware(app), http_scope(headers=GZIP))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    assert headers_of(sent[0]) == {}


def test_trailers_after_streamed_body_pass_through() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": BIG, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        await send({"type": "http.response.trailers", "headers": [(b"x-sum", b"1")]})

    sent = run_asgi(GZipMiddleware(app), http_scope(headers=GZIP))
    assert sent[-1] == {"type": "http.response.trailers", "headers": [(b"x-sum", b"1")]}
    assert gzip.decompress(body_of(sent)) == BIG


def test_existing_vary_is_merged() -> None:
    app = text_app(BIG, headers=[(b"vary", b"Origin")])
    sent = run_asgi(GZipMiddleware(app), http_scope(headers=GZIP))
    assert headers_of(sent[0])[b"vary"] == b"Origin, Accept-Encoding"


def test_non_http_passes_through() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "lifespan.startup.complete"})

    sent = run_asgi(GZipMiddleware(app), {"type": "lifespan"})
    assert sent == [{"type": "lifespan.startup.complete"}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (b"", False),
        (b"gzip", True),
        (b"GZIP", True),
        (b"deflate, gzip;q=0.5", True),
        (b"gzip;q=0", False),
        (b"gzip; q=0.0, *", False),
        (b"*", True),
        (b"*;q=0", False),
        (b"br, x-gzip", True),
        (b"gzip;q=oops", False),
        (b"identity", False),
    ],
)
def test_accept_encoding_parsing(value: bytes | None, expected: bool) -> None:
    assert accepts_gzip(value) is expected


def test_bad_compresslevel_is_refused() -> None:
    with pytest.raises(ValueError, match="compresslevel"):
        GZipMiddleware(text_app(), compresslevel=10)
