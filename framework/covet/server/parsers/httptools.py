"""The httptools (llhttp) request parser, adapted to covet's parser interface.

llhttp does the byte work; `check_headers` then applies the same framing rules the pure-Python
parser applies, so both parsers accept and reject the same requests. Errors raised inside
llhttp callbacks come back as `HttpParserCallbackError`; the original is kept and re-raised.

httptools tells llhttp to skip the body of any request it flags as an upgrade (`Connection:
upgrade` with `Upgrade`, or CONNECT), then stops at the body's first byte. Feeding those bytes
to a fresh parser as if they began a request is how a body smuggled a second request past
covet. CONNECT is refused (501) before that point and a WebSocket upgrade with a body is 400
(`check_headers`); for any other upgrade covet does not speak, the body is handed to a fresh
parser behind a synthetic head that frames it exactly as the request did, so it reaches the
app as that request's body, as it does with the pure-Python parser.
"""

from __future__ import annotations

import re
from typing import NoReturn

from covet.server.exceptions import HTTPParseError, UpgradeRequested
from covet.server.parsers.base import (
    Headers,
    ParserLimits,
    ParserOwner,
    RequestInfo,
    check_headers,
    reject_method,
)

try:
    import httptools
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the httptools parser needs httptools: pip install 'covetpy[speed]'", name="httptools"
    ) from exc

_TARGET = re.compile(rb"[!-~]+")


class _Latched:
    """Stands in for llhttp after covet itself rejected a request (414/431 between reads)."""

    __slots__ = ("error",)

    def __init__(self, error: HTTPParseError) -> None:
        self.error = error

    def feed_data(self, data: bytes) -> NoReturn:
        raise self.error


class _SkipOne:
    """Stands in for the owner until one event that belongs to no request has passed: the
    message-complete llhttp reports at once for an upgrade request whose body it skips, or the
    head of the synthetic request that frames that body again. Then hands the owner back, so
    the common path never tests for either case."""

    __slots__ = ("parser", "owner", "skip_request")

    def __init__(self, parser: HttptoolsParser, skip_request: bool) -> None:
        self.parser = parser
        self.owner = parser._owner
        self.skip_request = skip_request

    def on_request(
        self, method: bytes, target: bytes, http_version: str, headers: Headers, info: RequestInfo
    ) -> None:
        if self.skip_request:
            self.parser._owner = self.owner
        else:
            self.owner.on_request(method, target, http_version, headers, info)

    def on_body(self, data: bytes) -> None:
        self.owner.on_body(data)

    def on_message_complete(self) -> None:
        self.parser._owner = self.owner
        if self.skip_request:
            self.owner.on_message_complete()


class _Trailers(list[tuple[bytes, bytes]]):
    """Where llhttp's trailer fields go once the head is handed over: counted, never kept.

    llhttp reports trailer fields through `on_header` like header fields; appended to the list
    the app already holds as `scope["headers"]`, they would show up there after the fact. The
    pure-Python parser drops them too, and both refuse a trailer section past the header limit.
    """

    __slots__ = ("size", "parser")

    def __init__(self, parser: HttptoolsParser) -> None:
        super().__init__()
        self.size = 0
        self.parser = parser

    def append(self, field: tuple[bytes, bytes]) -> None:
        self.size += len(field[0]) + len(field[1]) + 4
        if self.size > self.parser._limits.max_header_size:
            self.parser._fail(431, "trailer section too large")


class HttptoolsParser:
    """Incremental request parser backed by httptools (see `parsers.base` for the contract)."""

    __slots__ = (
        "_owner",
        "_limits",
        "_parser",
        "_url",
        "_headers",
        "_head_size",
        "_in_head",
        "_body_total",
        "_error",
        "_chunked",
        "_websocket",
        "_big",
        "_body_head",
        "_trailers",
    )

    def __init__(self, owner: ParserOwner, limits: ParserLimits) -> None:
        self._owner = owner
        self._limits = limits
        self._parser: httptools.HttpRequestParser | _Latched = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: Headers = []
        self._head_size = 0
        self._in_head = True
        self._body_total = 0
        self._error: HTTPParseError | None = None
        self._chunked = False
        self._websocket = False
        self._big = False
        self._body_head = b""  # synthetic head framing the body of an upgrade not performed
        self._trailers = _Trailers(self)

    def feed(self, data: bytes) -> None:
        """Parse `data`, calling the owner back for every request event it completes."""
        # Once a request is rejected, nothing after it is parsed: llhttp keeps its error state,
        # and covet's own rejections put `_Latched` in its place.
        while True:  # more than once only after an upgrade covet does not perform
            if self._in_head:
                self._head_size += len(data)
            self._big = self._head_size > self._limits.max_header_size or (
                len(data) > self._limits.max_header_size
            )
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserUpgrade as exc:
                data = self._after_upgrade(data[exc.args[0] :])
                if data:
                    continue
                return
            except httptools.HttpParserCallbackError as exc:
                if self._error is None:
                    self._error = HTTPParseError(400, "invalid request")
                raise self._error from exc
            except httptools.HttpParserError as exc:
                if self._error is None:
                    self._error = HTTPParseError(400, f"invalid request: {exc}")
                raise self._error from None
            if self._in_head and self._head_size > self._limits.max_header_size:
                if not self._headers and len(self._url) > self._limits.max_request_line:
                    self._fail(414, "request line too long")
                self._fail(431, "request header section too large")
            return

    def _after_upgrade(self, tail: bytes) -> bytes:
        """The bytes to parse next, after llhttp stopped at an upgrade request's body."""
        if self._websocket:
            raise UpgradeRequested(tail)
        # An upgrade covet does not speak (h2c, ...): carry on with plain HTTP/1.1, the
        # request's body (if any) first, framed by the synthetic head.
        self._parser = httptools.HttpRequestParser(self)
        self._in_head = True
        self._head_size = 0
        if self._body_head:
            tail = self._body_head + tail
            self._body_head = b""
            self._owner = _SkipOne(self, skip_request=True)
        return tail

    def _fail(self, status: int, detail: str) -> NoReturn:
        self._error = HTTPParseError(status, detail)
        self._parser = _Latched(self._error)
        raise self._error

    # llhttp callbacks

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._limits.max_request_line:
            self._fail(414, "request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        # llhttp (strict mode) already rejects non-token names and control characters, but
        # keeps trailing whitespace, which is not part of the value (RFC 9110 5.5).
        if value and value[-1] in (32, 9):
            value = value.rstrip(b" \t")
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        parser: httptools.HttpRequestParser = self._parser  # type: ignore[assignment]  # llhttp calls back
        version = parser.get_http_version()
        if version not in ("1.1", "1.0"):
            self._fail(400, "unsupported HTTP version")
        if not _TARGET.fullmatch(self._url):
            self._fail(400, "invalid request target")
        if (
            self._big
            and sum(len(n) + len(v) + 4 for n, v in self._headers) > self._limits.max_header_size
        ):
            self._fail(431, "request header section too large")
        method = parser.get_method()
        try:
            if method == b"CONNECT":
                # Before the framing headers are judged, as in the pure-Python parser.
                reject_method(method)
            info = check_headers(self._headers, version, self._limits)
        except HTTPParseError as exc:
            self._error = exc
            raise
        self._in_head = False
        self._websocket = info.websocket
        self._chunked = info.chunked
        self._body_total = 0
        self._owner.on_request(method, self._url, version, self._headers, info)
        if not info.chunked:
            if info.content_length and parser.should_upgrade():
                self._hold_body(info)
            return
        if parser.should_upgrade():
            self._hold_body(info)
        self._trailers.size = 0
        self._headers = self._trailers

    def _hold_body(self, info: RequestInfo) -> None:
        # llhttp will skip this body; it is framed again behind a synthetic head instead.
        framing = (
            b"Transfer-Encoding: chunked"
            if info.chunked
            else b"Content-Length: %d" % (info.content_length)
        )
        close = b"" if info.keep_alive else b"Connection: close\r\n"
        self._body_head = b"PUT / HTTP/1.1\r\nHost: a\r\n" + close + framing + b"\r\n\r\n"
        self._owner = _SkipOne(self, skip_request=False)

    def on_body(self, body: bytes) -> None:
        if self._chunked:
            self._body_total += len(body)
            if self._body_total > self._limits.max_body:
                self._fail(413, "request body too large")
        self._owner.on_body(body)

    def on_message_complete(self) -> None:
        self._in_head = True
        self._head_size = 0
        self._owner.on_message_complete()
