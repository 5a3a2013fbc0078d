"""The pure-Python HTTP/1.1 request parser: covet's zero-dependency default.

Strict by design (RFC 9112): CRLF line endings only, no obs-fold, no whitespace before the
colon, tokens for methods and header names, no control characters in values, strict chunk sizes
and chunk extensions. The head is matched with a few compiled regexes over the whole block, so
a typical request costs a handful of C-level scans rather than a Python loop per byte. Every
regex runs in time linear in its input: possessive quantifiers, no lazy repeat that rescans a
whitespace run at each step (a 16 KB header of spaces once cost 0.7 s of CPU).
"""

from __future__ import annotations

import re

from covet.server.exceptions import HTTPParseError, UpgradeRequested
from covet.server.parsers.base import (
    METHODS,
    Headers,
    ParserLimits,
    ParserOwner,
    check_headers,
    reject_method,
)

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# Several spaces between the parts are tolerated, as llhttp does (RFC 9112 3 allows it).
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") +([!-~]+) +HTTP/1\.([01])")
# A byte no request line may hold (CTLs, DEL, non-ASCII): lets an incomplete head be
# rejected at once instead of waiting for a CRLF that garbage never sends.
_NOT_REQUEST_LINE = re.compile(rb"[^!-~ \r]")
# Likewise a byte no header section may hold anywhere (CR and LF are checked per line).
_NOT_IN_HEAD = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A value is runs of visible bytes (or obs-text) joined by whitespace runs; a whitespace run is
# part of it only when more value follows, so trailing OWS is left to `[ \t]*+` without the
# lazy-then-optional shape that made a run of n spaces cost O(n^2). Possessive: no backtracking.
#: a trailer line naming a framing field (searched with an LF put before the section's first line)
_FRAMING_TRAILER = re.compile(rb"\n(?:content-length|transfer-encoding):", re.IGNORECASE)
_HEADER_LINE = re.compile(
    rb"^(" + _TOKEN + rb"):[ \t]*+((?:[^\x00-\x20\x7f]++|[ \t]++(?![ \t\r]))*+)[ \t]*+\r\n",
    re.MULTILINE,
)
_QUOTED = rb'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t !-~\x80-\xff])*"'
# Leading zeros are part of 1*HEXDIG (RFC 9112 7.1) and llhttp takes any number of them; what
# counts is the value, at most 16 significant hex digits (17 overflow llhttp's 64 bits too).
_CHUNK_SIZE = re.compile(
    rb"0*([0-9A-Fa-f]{1,16})(?:;" + _TOKEN + rb"(?:=(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?)*\r\n"
)
_MAX_CHUNK_LINE = 4096
_PLAIN_METHODS = METHODS - {b"CONNECT"}
_METHOD_PREFIXES = frozenset(m[:i] for m in METHODS for i in range(1, len(m) + 1))

_HEAD, _BODY, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _CLOSED, _DONE, _FAILED = range(
    9
)


class PythonParser:
    """Incremental request parser for one connection (see `parsers.base` for the contract)."""

    __slots__ = (
        "_owner",
        "_limits",
        "_buf",
        "_state",
        "_remaining",
        "_body_total",
        "_upgrade",
        "_closing",
        "_seen",
        "_error",
    )

    def __init__(self, owner: ParserOwner, limits: ParserLimits) -> None:
        self._owner = owner
        self._limits = limits
        self._buf = b""
        self._state = _HEAD
        self._remaining = 0
        self._body_total = 0
        self._upgrade = False
        self._closing = False  # the request whose body is being read is the connection's last
        self._seen = 0  # bytes of a partial head (or trailer section) already checked
        self._error: HTTPParseError | None = None

    def feed(self, data: bytes) -> None:
        """Parse `data`, calling the owner back for every request event it completes."""
        try:
            self._feed(data)
        except HTTPParseError as exc:
            # Latched: bytes after a rejected request are never framed, let alone run.
            self._state = _FAILED
            self._buf = b""
            self._error = exc
            raise

    def _feed(self, data: bytes) -> None:
        if self._buf:
            data = self._buf + data
            self._buf = b""
        pos = 0
        end = len(data)
        while pos < end:
            state = self._state
            if state == _HEAD:
                pos = self._parse_head(data, pos)
            elif state == _BODY:
                take = min(self._remaining, end - pos)
                self._remaining -= take
                self._owner.on_body(data[pos : pos + take] if pos or take < end else data)
                pos += take
                if not self._remaining:
                    self._complete()
            elif state == _CHUNK_DATA:
                take = min(self._remaining, end - pos)
                self._remaining -= take
                # Bytes received count against max_body, not the sizes declared: httptools
                # cannot see a chunk size, and both parsers must answer every input alike.
                self._body_total += take
                if self._body_total > self._limits.max_body:
                    raise HTTPParseError(413, "request body too large")
                self._owner.on_body(data[pos : pos + take])
                pos += take
                if not self._remaining:
                    self._state = _CHUNK_END
            elif state == _CHUNK_SIZE_LINE:
                pos = self._parse_chunk_size(data, pos)
            elif state == _CHUNK_END:
                if end - pos < 2:
                    if data[pos : pos + 1] != b"\r":
                        raise HTTPParseError(400, "missing CRLF after chunk data")
                    self._buf = data[pos:]
                    return
                if data[pos : pos + 2] != b"\r\n":
                    raise HTTPParseError(400, "missing CRLF after chunk data")
                pos += 2
                self._state = _CHUNK_SIZE_LINE
            elif state == _TRAILERS:
                pos = self._parse_trailers(data, pos)
            elif state == _CLOSED:
                # As llhttp: CR and LF after the last request are skipped, anything else is 400.
                if data[pos:].strip(b"\r\n"):
                    raise HTTPParseError(400, "data after the connection's last request")
                return
            elif state == _FAILED and self._error is not None:
                raise self._error
            else:
                raise HTTPParseError(400, "data after the connection's last request")
            if pos < 0:
                return
            if self._upgrade and self._state == _HEAD:
                self._state = _DONE
                raise UpgradeRequested(data[pos:])

    def _need_more(self, data: bytes, pos: int) -> int:
        self._buf = data[pos:]
        return -1

    def _parse_head(self, data: bytes, pos: int) -> int:
        if data[pos] in b"\r\n":
            # RFC 9112 2.2: empty lines before a request are ignored; llhttp skips any CR or LF
            # there, even alone, and so does this parser.
            end = len(data)
            while pos < end and data[pos] in b"\r\n":
                pos += 1
            if pos == end:
                return self._need_more(data, pos)
        idx = data.find(b"\r\n\r\n", pos)
        limits = self._limits
        if idx < 0:
            size = len(data) - pos
            if size > limits.max_header_size or size > limits.max_request_line:
                line_end = data.find(b"\r\n", pos)
                if line_end < 0 and size > limits.max_request_line:
                    raise HTTPParseError(414, "request line too long")
                if size > limits.max_header_size:
                    raise HTTPParseError(431, "request header section too large")
            if pos < len(data) and data[pos] in b" \t":
                raise HTTPParseError(400, "whitespace before the request line")
            line_end = data.find(b"\r\n", pos)
            line_stop = len(data) if line_end < 0 else line_end
            if _NOT_REQUEST_LINE.search(data, pos, line_stop):
                raise HTTPParseError(400, "invalid request line")
            space = data.find(b" ", pos, line_stop)
            if space < 0:
                begun = data[pos:line_stop].rstrip(b"\r")  # a CR may begin an empty line
                if begun and begun not in _METHOD_PREFIXES:
                    # llhttp rejects a method at its first wrong byte; so does this parser.
                    reject_method(begun)
            if space > pos and data[pos:space] not in METHODS:
                reject_method(data[pos:space])
            if line_end >= 0:
                if _REQUEST_LINE.fullmatch(data, pos, line_end) is None:
                    raise HTTPParseError(400, "invalid request line")
                self._check_partial_headers(data, line_end + 2, pos)
            return self._need_more(data, pos)
        line_end = data.find(b"\r\n", pos)
        if line_end - pos > limits.max_request_line:
            raise HTTPParseError(414, "request line too long")
        if idx - pos > limits.max_header_size:
            raise HTTPParseError(431, "request header section too large")
        match = _REQUEST_LINE.fullmatch(data, pos, line_end)
        if match is None:
            raise HTTPParseError(400, "invalid request line")
        method, target, minor = match.groups()
        connect = False
        if method not in _PLAIN_METHODS:
            if method != b"CONNECT":
                reject_method(method)
            connect = True  # refused once its header lines are known to be well formed
        version = "1.1" if minor == b"1" else "1.0"
        headers: Headers
        if line_end == idx:
            headers = []
        else:
            start = line_end + 2
            stop = idx + 2
            found = _HEADER_LINE.findall(data, start, stop)
            count = len(found)
            if data.count(b"\n", start, stop) != count or data.count(b"\r", start, stop) != count:
                raise HTTPParseError(400, "invalid header line")
            headers = [(name.lower(), value) for name, value in found]
        if connect:
            # llhttp refuses a malformed or repeated Content-Length while it reads the lines,
            # before covet sees the method: the same order here.
            lengths = [v for n, v in headers if n == b"content-length"]
            if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
                raise HTTPParseError(400, "invalid content-length")
            reject_method(method)
        info = check_headers(headers, version, limits)
        self._owner.on_request(method, target, version, headers, info)
        pos = idx + 4
        self._seen = 0
        if info.chunked:
            self._state = _CHUNK_SIZE_LINE
            self._body_total = 0
            self._closing = not info.keep_alive
        elif info.content_length:
            self._state = _BODY
            self._remaining = info.content_length
            self._closing = not info.keep_alive
        else:
            self._upgrade = info.websocket
            self._owner.on_message_complete()
            if not info.keep_alive and not info.websocket:
                self._state = _CLOSED
        return pos

    def _check_partial_headers(self, data: bytes, start: int, base: int) -> None:
        """Reject the header lines received so far if broken, as llhttp does byte by byte,
        rather than wait for the end of a head that can only be refused. `base` is where the
        buffered section starts; lines already checked in an earlier read are not rescanned,
        so a head trickling in a byte at a time costs linear time, not quadratic."""
        start = max(start, base + self._seen)
        if _NOT_IN_HEAD.search(data, start):
            raise HTTPParseError(400, "invalid header line")
        last = data.rfind(b"\r\n", start)
        if last >= start:
            stop = last + 2
            count = len(_HEADER_LINE.findall(data, start, stop))
            if data.count(b"\n", start, stop) != count or data.count(b"\r", start, stop) != count:
                raise HTTPParseError(400, "invalid header line")
            self._seen = stop - base

    def _parse_chunk_size(self, data: bytes, pos: int) -> int:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            if len(data) - pos > _MAX_CHUNK_LINE or b"\n" in data[pos:]:
                raise HTTPParseError(400, "invalid chunk size line")
            return self._need_more(data, pos)
        match = _CHUNK_SIZE.fullmatch(data, pos, line_end + 2)
        if match is None:
            raise HTTPParseError(400, "invalid chunk size line")
        size = int(match.group(1), 16)
        if size:
            self._remaining = size
            self._state = _CHUNK_DATA
        else:
            self._state = _TRAILERS
        return line_end + 2

    def _parse_trailers(self, data: bytes, pos: int) -> int:
        if data.startswith(b"\r\n", pos):
            self._complete()
            return pos + 2
        idx = data.find(b"\r\n\r\n", pos)
        if idx < 0:
            if len(data) - pos > self._limits.max_header_size:
                raise HTTPParseError(431, "trailer section too large")
            self._check_partial_headers(data, pos, pos)
            return self._need_more(data, pos)
        if idx - pos > self._limits.max_header_size:
            raise HTTPParseError(431, "trailer section too large")
        stop = idx + 2
        count = len(_HEADER_LINE.findall(data, pos, stop))
        if data.count(b"\n", pos, stop) != count or data.count(b"\r", pos, stop) != count:
            raise HTTPParseError(400, "invalid trailer line")
        if _FRAMING_TRAILER.search(b"\n" + data[pos:stop]):  # rare: trailers at all
            # A framing field after the body cannot be honoured; llhttp refuses it too.
            raise HTTPParseError(400, "framing field in trailers")
        # Trailer fields are read and dropped: they never change framing or routing.
        self._seen = 0
        self._complete()
        return idx + 4

    def _complete(self) -> None:
        self._state = _CLOSED if self._closing else _HEAD
        self._owner.on_message_complete()
