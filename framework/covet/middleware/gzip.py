"""GZip: compress responses for clients that accept gzip.

    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)

A response sent in one body message is compressed whole, and only when it is at least
`minimum_size` bytes (smaller ones gain nothing), with an exact Content-Length. A streamed
response (`more_body=True`) is compressed chunk by chunk with a sync flush after each, so every
chunk still reaches the client when the app sends it; its Content-Length is dropped. Left alone:
responses that already have a Content-Encoding, partial content (206 / Content-Range, whose
byte ranges refer to the unencoded body), `text/event-stream`, and extension messages such as
`http.response.pathsend`. Compressed responses get `Vary: Accept-Encoding`, and a strong ETag is
made weak, since the bytes are no longer those it named.
"""

from __future__ import annotations

import zlib

from covet._asgi import (
    ASGIApp,
    Message,
    RawHeaders,
    Receive,
    Scope,
    Send,
    add_vary,
    get_header,
    without,
)
from covet.exceptions import ConfigurationError

DEFAULT_EXCLUDED_TYPES = ("text/event-stream",)
# Clients send a handful of distinct Accept-Encoding values: parse each once.
_ACCEPTS: dict[bytes, bool] = {}
_ACCEPTS_MAX = 256


def accepts_gzip(accept_encoding: bytes | None) -> bool:
    """Whether an Accept-Encoding value allows gzip (`gzip;q=0` refuses it)."""
    if not accept_encoding:
        return False
    wildcard = False
    for item in accept_encoding.decode("latin-1").lower().split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if coding == "*":
            wildcard = quality > 0
        else:
            return quality > 0
    return wildcard


class GZipMiddleware:
    """Gzip response bodies when the request's Accept-Encoding allows it."""

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 6,
        excluded_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_TYPES,
    ) -> None:
        if not 0 <= compresslevel <= 9:
            raise ConfigurationError(f"compresslevel must be 0-9, got {compresslevel}")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.excluded_content_types = tuple(t.lower().encode() for t in excluded_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # HEAD responses carry the GET body's Content-Length but no body: nothing to compress.
        if scope["type"] == "http" and scope["method"] != "HEAD":
            accept = get_header(scope["headers"], b"accept-encoding")
            if accept is not None:
                accepted = _ACCEPTS.get(accept)
                if accepted is None:
                    accepted = accepts_gzip(accept)
                    if len(_ACCEPTS) >= _ACCEPTS_MAX:
                        _ACCEPTS.clear()
                    _ACCEPTS[accept] = accepted
                if accepted:
                    await self.app(scope, receive, _GZipResponder(self, send))
                    return
        await self.app(scope, receive, send)


class _GZipResponder:
    """The `send` of one response: holds the start message until the first body decides."""

    __slots__ = ("_config", "_send", "_start", "_compressor", "_passthrough")

    def __init__(self, config: GZipMiddleware, send: Send) -> None:
        self._config = config
        self._send = send
        self._start: Message | None = None
        self._compressor: zlib._Compress | None = None
        self._passthrough = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if self._passthrough:
            await self._send(message)
        elif kind == "http.response.start":
            if self._eligible(message.get("status", 200), message.get("headers", [])):
                self._start = message
            else:
                self._passthrough = True
                await self._send(message)
        elif kind == "http.response.body" and self._start is not None:
            await self._first_body(self._start, message)
        elif kind == "http.response.body" and self._compressor is not None:
            await self._next_body(self._compressor, message)
        else:
            # An extension message (pathsend, zerocopysend, trailers...): hand over untouched.
            self._passthrough = True
            if self._start is not None:
                start, self._start = self._start, None
                await self._send(start)
            await self._send(message)

    def _eligible(self, status: int, headers: RawHeaders) -> bool:
        if status < 200 or status in (204, 206, 304):
            return False
        for key, value in headers:
            name = key.lower()
            if name == b"content-encoding" or name == b"content-range":
                return False
            if name == b"content-type" and value.lower().startswith(
                self._config.excluded_content_types
            ):
                return False
        return True

    async def _first_body(self, start: Message, message: Message) -> None:
        self._start = None
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if not more_body and len(body) < self._config.minimum_size:
            self._passthrough = True
            await self._send(start)
            await self._send(message)
            return
        compressor = zlib.compressobj(self._config.compresslevel, zlib.DEFLATED, 31)
        headers = _compressed_headers(start.get("headers", []))
        if more_body:
            self._compressor = compressor
            data = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
        else:
            data = compressor.compress(body) + compressor.flush(zlib.Z_FINISH)
            headers.append((b"content-length", str(len(data)).encode("latin-1")))
        start["headers"] = headers
        await self._send(start)
        await self._send({"type": "http.response.body", "body": data, "more_body": more_body})

    async def _next_body(self, compressor: zlib._Compress, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if more_body:
            if not body:
                return  # an empty flush would still cost a chunk of framing
            data = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
        else:
            data = compressor.compress(body) + compressor.flush(zlib.Z_FINISH)
            self._compressor = None
            self._passthrough = True  # whatever follows (trailers) goes out as is
        await self._send({"type": "http.response.body", "body": data, "more_body": more_body})


def _compressed_headers(headers: RawHeaders) -> RawHeaders:
    out = without(headers, b"content-length", b"etag")
    etag = get_header(headers, b"etag")
    if etag is not None:
        out.append((b"etag", etag if etag.startswith(b"W/") else b"W/" + etag))
    out.append((b"content-encoding", b"gzip"))
    return add_vary(out, "Accept-Encoding")
