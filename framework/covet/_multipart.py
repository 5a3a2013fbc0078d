"""A push parser for multipart/form-data bodies (RFC 7578 / RFC 2046): bytes in, events out.

    parser = MultipartParser(b"boundary")
    for event in parser.feed(chunk): ...      # as chunks arrive
    parser.close()                            # raises if the body ended early

Events are `(PART_BEGIN, [(name, value), ...])` with lowercase header names as bytes,
`(PART_DATA, bytes)` (any number, any sizes) and `(PART_END, b"")`. The parser keeps at most one
part-header block or a delimiter's length of bytes, never a part's body. Errors raise
`MultipartError`, which the caller turns into an HTTP 400 or 413.
"""

from __future__ import annotations

from typing import Any

PART_BEGIN = 0
PART_DATA = 1
PART_END = 2

Event = tuple[int, Any]

_PREAMBLE = 0
_AFTER_BOUNDARY = 1
_HEADERS = 2
_BODY = 3
_EPILOGUE = 4


class MultipartError(ValueError):
    """The body is not valid multipart; `too_large` marks a size limit rather than bad syntax."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class MultipartParser:
    """Incremental multipart parser; see the module docstring."""

    def __init__(
        self, boundary: bytes, max_header_size: int = 16 * 1024, max_padding: int = 256
    ) -> None:
        self._dash_boundary = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._max_header_size = max_header_size
        self._max_padding = max_padding
        self._buf = bytearray()
        self._state = _PREAMBLE

    def feed(self, data: bytes) -> list[Event]:
        """Parse `data`, the next bytes of the body; return the events it completed."""
        if self._state == _EPILOGUE:
            return []  # anything after the close delimiter is ignored (RFC 2046)
        self._buf += data
        events: list[Event] = []
        while True:
            state = self._state
            if state == _BODY:
                if not self._body(events):
                    break
            elif state == _HEADERS:
                if not self._headers(events):
                    break
            elif state == _AFTER_BOUNDARY:
                if not self._after_boundary():
                    break
            elif state == _PREAMBLE:
                if not self._preamble():
                    break
            else:
                self._buf.clear()
                break
        return events

    def close(self) -> None:
        """The body has ended: it must have ended with the close delimiter."""
        if self._state != _EPILOGUE:
            raise MultipartError("Multipart body ended before its closing boundary")

    def _preamble(self) -> bool:
        buf = self._buf
        index = buf.find(self._dash_boundary)
        if index == -1:
            # Keep only what could be the start of the boundary.
            keep = len(self._dash_boundary) - 1
            if len(buf) > keep:
                del buf[: len(buf) - keep]
            return False
        del buf[: index + len(self._dash_boundary)]
        self._state = _AFTER_BOUNDARY
        return True

    def _after_boundary(self) -> bool:
        buf = self._buf
        if len(buf) < 2:
            return False
        if buf[:2] == b"--":
            self._state = _EPILOGUE
            buf.clear()
            return False
        end = buf.find(b"\r\n")
        if end == -1:
            if len(buf) > self._max_padding or buf.strip(b" \t"):
                raise MultipartError("Malformed multipart boundary line")
            return False
        if buf[:end].strip(b" \t"):
            raise MultipartError("Malformed multipart boundary line")
        del buf[: end + 2]
        self._state = _HEADERS
        return True

    def _headers(self, events: list[Event]) -> bool:
        buf = self._buf
        if buf[:2] == b"\r\n":
            block = b""
            del buf[:2]
        else:
            end = buf.find(b"\r\n\r\n")
            if end == -1:
                if len(buf) > self._max_header_size:
                    raise MultipartError("Multipart part headers too large", too_large=True)
                return False
            if end > self._max_header_size:
                raise MultipartError("Multipart part headers too large", too_large=True)
            block = bytes(buf[:end])
            del buf[: end + 4]
        headers: list[tuple[bytes, bytes]] = []
        for line in block.split(b"\r\n") if block else ():
            name, colon, value = line.partition(b":")
            name = name.strip().lower()
            if not colon or not name or b" " in name:
                raise MultipartError("Malformed multipart part header")
            headers.append((name, value.strip()))
        events.append((PART_BEGIN, headers))
        self._state = _BODY
        return True

    def _body(self, events: list[Event]) -> bool:
        buf = self._buf
        index = buf.find(self._delimiter)
        if index == -1:
            # Everything but a possible partial delimiter at the end is part data.
            safe = len(buf) - (len(self._delimiter) - 1)
            if safe > 0:
                events.append((PART_DATA, bytes(buf[:safe])))
                del buf[:safe]
            return False
        if index:
            events.append((PART_DATA, bytes(buf[:index])))
        events.append((PART_END, b""))
        del buf[: index + len(self._delimiter)]
        self._state = _AFTER_BOUNDARY
        return True
