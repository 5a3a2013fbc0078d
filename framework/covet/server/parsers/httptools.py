"""The httptools (llhttp) request parser, adapted to covet's parser interface.

llhttp does the byte work; `check_headers` then applies the same framing rules the pure-Python
parser applies, so both parsers accept and reject the same requests. Errors raised inside
llhttp callbacks come back as `HttpParserCallbackError`; the original is kept and re-raised.
"""

from __future__ import annotations

import re

from covet.server.exceptions import HTTPParseError, UpgradeRequested
from covet.server.parsers.base import Headers, ParserLimits, ParserOwner, check_headers

try:
    import httptools
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the httptools parser needs httptools: pip install 'covetpy[speed]'", name="httptools"
    ) from exc

_TARGET = re.compile(rb"[!-~]+")


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
    )

    def __init__(self, owner: ParserOwner, limits: ParserLimits) -> None:
        self._owner = owner
        self._limits = limits
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: Headers = []
        self._head_size = 0
        self._in_head = True
        self._body_total = 0
        self._error: HTTPParseError | None = None
        self._chunked = False
        self._websocket = False
        self._big = False

    def feed(self, data: bytes) -> None:
        """Parse `data`, calling the owner back for every request event it completes."""
        if self._in_head:
            self._head_size += len(data)
        self._big = self._head_size > self._limits.max_header_size or (
            len(data) > self._limits.max_header_size
        )
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            tail = data[exc.args[0] :]
            if self._websocket:
                raise UpgradeRequested(tail) from None
            # An upgrade we do not speak (h2c, CONNECT...): carry on with plain HTTP/1.1.
            self._parser = httptools.HttpRequestParser(self)
            self._in_head = True
            self._head_size = 0
            if tail:
                self.feed(tail)
            return
        except httptools.HttpParserCallbackError as exc:
            if self._error is not None:
                raise self._error from None
            raise HTTPParseError(400, "invalid request") from exc
        except httptools.HttpParserError as exc:
            if self._error is not None:
                raise self._error from None
            raise HTTPParseError(400, f"invalid request: {exc}") from None
        if self._in_head and self._head_size > self._limits.max_header_size:
            if not self._headers and len(self._url) > self._limits.max_request_line:
                raise HTTPParseError(414, "request line too long")
            raise HTTPParseError(431, "request header section too large")

    def _fail(self, status: int, detail: str) -> None:
        self._error = HTTPParseError(status, detail)
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
        parser = self._parser
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
        try:
            info = check_headers(self._headers, version, self._limits)
        except HTTPParseError as exc:
            self._error = exc
            raise
        self._in_head = False
        self._websocket = info.websocket
        self._chunked = info.chunked
        self._body_total = 0
        self._owner.on_request(parser.get_method(), self._url, version, self._headers, info)

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
