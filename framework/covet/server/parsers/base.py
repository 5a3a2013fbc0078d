"""The interface every HTTP/1.1 request parser implements, and the framing rules they share.

A parser is fed raw bytes and calls back into its owner (the connection protocol):

    parser = PythonParser(owner, limits)
    parser.feed(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
    # -> owner.on_request(b"GET", b"/", "1.1", [(b"host", b"a")], RequestInfo(...))
    # -> owner.on_message_complete()

`feed` raises `HTTPParseError(status, detail)` for a request that must be rejected (the owner
answers that status and closes); once it has, every later `feed` raises the same error, so
nothing after a rejected request is ever reported. It raises `UpgradeRequested(tail)` after a
complete WebSocket upgrade request; any other `Upgrade` (h2c, ...) is an ordinary request whose
body, if any, is its body, never the start of a next request.

Both parsers accept and reject the same requests: tests/covet/server/test_parsers.py feeds
the shared corpus (scenarios/conformance/corpus/parser_corpus.toml) and generated streams through
both. `check_headers` holds the RFC 9112 framing rules (Content-Length, Transfer-Encoding,
Host, Connection); where the parsers' readings differed, both now take these:

- method: case-sensitive, one of `METHODS` (the methods llhttp knows), else 400 as soon as
  the first wrong byte arrives (`get`, `FOO`); CONNECT is 501: covet is no proxy.
- Content-Length: 1 to 18 digits, given once (two identical lines are 400 too).
- chunk size: hex, any leading zeros (RFC 9112 7.1, as llhttp), at most 16 significant digits.
  A chunked body is 413 when the bytes received pass `max_body`, not when a chunk size
  declares more (httptools exposes no chunk size); until then the body timeout bounds it.
- trailers: read and dropped (never in the scope); a framing field among them
  (Content-Length, Transfer-Encoding) is 400, as llhttp refuses it.
- a WebSocket upgrade request carrying a body (Content-Length > 0 or chunked) is 400.
- trailer fields are dropped (never added to the request's headers); a trailer section past
  `max_header_size` is 431.
- bytes after the connection's last request (`Connection: close`, HTTP/1.0) are 400, except
  CR and LF, which are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn, Protocol

from covet.server.exceptions import HTTPParseError

Headers = list[tuple[bytes, bytes]]

_CONTENT_LENGTH = re.compile(rb"[0-9]{1,18}")
_HOST = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+;=%]*)(?::[0-9]*)?")
# Request methods both parsers accept: llhttp's list for HTTP/1.x (it rejects any other token).
METHODS = frozenset(
    b"DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH "
    b"SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY "
    b"SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE QUERY".split()
)
_INTERESTING = frozenset(
    (b"content-length", b"transfer-encoding", b"host", b"connection", b"upgrade", b"expect")
)


@dataclass(frozen=True)
class ParserLimits:
    """Size limits a parser enforces: 414, 431 and 413 past them."""

    max_request_line: int = 8 * 1024
    max_header_size: int = 16 * 1024
    max_body: int = 16 * 1024 * 1024


class RequestInfo:
    """What the framing headers say about one request."""

    __slots__ = ("content_length", "chunked", "keep_alive", "websocket", "expect_continue")

    def __init__(
        self,
        content_length: int,
        chunked: bool,
        keep_alive: bool,
        websocket: bool,
        expect_continue: bool,
    ) -> None:
        self.content_length = content_length
        self.chunked = chunked
        self.keep_alive = keep_alive
        self.websocket = websocket
        self.expect_continue = expect_continue


class ParserOwner(Protocol):
    """What a parser calls back: one request head, its body chunks, then its end."""

    def on_request(
        self, method: bytes, target: bytes, http_version: str, headers: Headers, info: RequestInfo
    ) -> None: ...

    def on_body(self, data: bytes) -> None: ...

    def on_message_complete(self) -> None: ...


class RequestParser(Protocol):
    """A parser for the requests of one connection."""

    def __init__(self, owner: ParserOwner, limits: ParserLimits) -> None: ...

    def feed(self, data: bytes) -> None: ...


def reject_method(method: bytes) -> NoReturn:
    """Raise the answer to a request method outside `METHODS`, or to CONNECT (501)."""
    if method == b"CONNECT":
        raise HTTPParseError(501, "CONNECT is not supported")
    raise HTTPParseError(400, "unknown request method")


_SIMPLE_11 = RequestInfo(0, False, True, False, False)
_SIMPLE_10 = RequestInfo(0, False, False, False, False)
_KEEP_10 = RequestInfo(0, False, True, False, False)


def check_headers(headers: Headers, http_version: str, limits: ParserLimits) -> RequestInfo:
    """Apply RFC 9112 framing rules to lowercase-named headers; raise HTTPParseError if broken."""
    http11 = http_version == "1.1"
    content_length: bytes | None = None
    transfer_encoding: bytes | None = None
    hosts = 0
    connection = b""
    upgrade = b""
    expect = False
    for name, value in headers:
        if name not in _INTERESTING:
            continue
        if name == b"content-length":
            if not _CONTENT_LENGTH.fullmatch(value):
                raise HTTPParseError(400, "invalid Content-Length")
            if content_length is not None:
                # RFC 9112 6.3 lets a recipient accept identical duplicates; llhttp refuses
                # any duplicate, and both parsers take that stricter reading.
                raise HTTPParseError(400, "duplicate Content-Length")
            content_length = value
        elif name == b"transfer-encoding":
            if transfer_encoding is not None:
                raise HTTPParseError(400, "duplicate Transfer-Encoding")
            transfer_encoding = value
        elif name == b"host":
            hosts += 1
            if not _HOST.fullmatch(value):
                raise HTTPParseError(400, "invalid Host")
        elif name == b"connection":
            connection = connection + b"," + value.lower() if connection else value.lower()
        elif name == b"upgrade":
            upgrade = value.lower()
        elif http11 and value.lower() == b"100-continue":
            expect = True
    if http11 and hosts != 1:
        raise HTTPParseError(400, "HTTP/1.1 needs exactly one Host header")
    if hosts > 1:
        raise HTTPParseError(400, "more than one Host header")
    if connection == b"keep-alive" and transfer_encoding is content_length is None and not expect:
        return _SIMPLE_11 if http11 else _KEEP_10
    if connection:
        tokens = {t.strip() for t in connection.split(b",")}
        keep_alive = b"close" not in tokens if http11 else b"keep-alive" in tokens
        websocket = b"upgrade" in tokens and b"websocket" in upgrade
    else:
        if content_length is None and transfer_encoding is None and not expect:
            return _SIMPLE_11 if http11 else _SIMPLE_10
        keep_alive = http11
        websocket = False
    chunked = False
    length = 0
    if transfer_encoding is not None:
        if not http11:
            raise HTTPParseError(400, "Transfer-Encoding in an HTTP/1.0 request")
        if content_length is not None:
            raise HTTPParseError(400, "both Content-Length and Transfer-Encoding")
        codings = [c.strip().lower() for c in transfer_encoding.split(b",")]
        if codings[-1] != b"chunked":
            raise HTTPParseError(400, "Transfer-Encoding must end with chunked")
        if codings.count(b"chunked") > 1:
            # RFC 9112 6.1: chunked is never applied twice, so this framing is invalid, not
            # an unsupported coding (llhttp answers 400 too: both parsers agree)
            raise HTTPParseError(400, "chunked applied more than once")
        if len(codings) > 1:
            raise HTTPParseError(501, "unsupported transfer coding")
        chunked = True
    elif content_length is not None:
        length = int(content_length)
        if length > limits.max_body:
            raise HTTPParseError(413, "request body too large")
    if websocket and (chunked or length):
        # Its body would be read as WebSocket frames by one parser and skipped by the other.
        raise HTTPParseError(400, "WebSocket upgrade request with a body")
    return RequestInfo(length, chunked, keep_alive, websocket, expect and (chunked or length > 0))
