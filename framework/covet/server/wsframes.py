"""WebSocket framing (RFC 6455 section 5): parse client frames, build server frames.

    reader = FrameReader(max_size=2**20)
    for opcode, payload in reader.feed(data):   # whole messages and control frames
        ...                                      # text payloads arrive as str

`FrameReader` enforces what a server must: masked client frames, zero RSV bits (no extension
is negotiated), known opcodes, control frames final and at most 125 bytes, continuation only
inside a fragmented message, UTF-8 text validated incrementally (so a bad byte fails at once,
even mid-message), and a maximum message size. Violations raise `ProtocolError(code)`.

Memory and work stay linear in what arrives: a frame that spans reads grows one `bytearray`
(never re-copied per read), fragments are joined once at the end, and every continuation frame
is charged `FRAGMENT_COST` bytes against the maximum size on top of its payload, so a stream of
empty continuation frames ends in 1009 instead of growing the fragment list for ever (a 4 MiB
message in 64-byte fragments, Autobahn's worst case, is charged 8 MiB).
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA_OPS = (OP_TEXT, OP_BINARY)
_CONTROL_OPS = (OP_CLOSE, OP_PING, OP_PONG)
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")
FRAGMENT_COST = 64  # bytes charged per continuation frame: what holding one fragment costs


class ProtocolError(Exception):
    """The peer broke RFC 6455; close the connection with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def valid_close_code(code: int) -> bool:
    """Codes a peer may send in a close frame (RFC 6455 7.4, IANA registry)."""
    return code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014) or (
        3000 <= code <= 4999
    )


def unmask(data: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR `data` with the 4-byte `mask`, via one big-int XOR (fast in pure Python)."""
    n = len(data)
    if not n:
        return b""
    key = (mask * ((n + 3) // 4))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def build_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked server frame."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def build_close(code: int, reason: str) -> bytes:
    """A close frame; the reason is cut to fit the 125-byte control frame limit."""
    data = reason.encode("utf-8")[:123]
    while data:
        try:
            data.decode("utf-8")
            break
        except UnicodeDecodeError:
            data = data[:-1]
    return build_frame(OP_CLOSE, struct.pack("!H", code) + data)


class FrameReader:
    """Incremental parser of client frames into messages and control frames."""

    __slots__ = ("max_size", "_buf", "_op", "_parts", "_texts", "_size", "_decoder")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buf = bytearray()
        self._op = 0  # opcode of the fragmented message in progress, 0 when none
        self._parts: list[bytes] = []
        self._texts: list[str] = []
        self._size = 0
        self._decoder: codecs.IncrementalDecoder | None = None

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes | str]]:
        """Yield (opcode, payload) for each complete message or control frame in `data`."""
        buf: bytes | bytearray
        if self._buf:
            self._buf += data
            buf = self._buf
        else:
            buf = data
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b0 & 0x70:
                raise ProtocolError(1002, "reserved bits set")
            if not b1 & 0x80:
                raise ProtocolError(1002, "client frame not masked")
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                if length >> 63:
                    raise ProtocolError(1002, "invalid frame length")
                head = 10
            if opcode in _CONTROL_OPS:
                if not fin or length > 125:
                    raise ProtocolError(1002, "invalid control frame")
            elif opcode == OP_CONT:
                if not self._op:
                    raise ProtocolError(1002, "continuation outside a fragmented message")
            elif opcode in _DATA_OPS:
                if self._op:
                    raise ProtocolError(1002, "new message inside a fragmented message")
            else:
                raise ProtocolError(1002, f"unknown opcode {opcode}")
            if opcode not in _CONTROL_OPS:
                charged = self._size + length + FRAGMENT_COST if opcode == OP_CONT else length
                if charged > self.max_size:
                    raise ProtocolError(1009, "message too big")
            start = pos + head + 4
            if end - start < length:
                break
            payload = unmask(buf[start : start + length], buf[pos + head : start])
            pos = start + length
            if opcode in _CONTROL_OPS:
                yield opcode, payload
                continue
            message = self._add(opcode, payload, bool(fin))
            if message is not None:
                yield message
        if buf is self._buf:
            del buf[:pos]  # O(1) for a bytearray prefix
        elif pos < end:
            self._buf = bytearray(memoryview(buf)[pos:])

    def _add(self, opcode: int, payload: bytes, fin: bool) -> tuple[int, bytes | str] | None:
        if opcode != OP_CONT:
            self._op = opcode
            self._decoder = _Utf8Decoder() if opcode == OP_TEXT else None
            self._size = len(payload)
        else:
            self._size += len(payload) + FRAGMENT_COST
        decoder = self._decoder
        if decoder is not None:
            try:
                text = decoder.decode(payload, fin)
            except UnicodeDecodeError:
                raise ProtocolError(1007, "invalid UTF-8 in a text message") from None
            if fin and not self._texts:
                self._op = 0
                return OP_TEXT, text
            self._texts.append(text)
            if fin:
                joined = "".join(self._texts)
                self._texts = []
                self._op = 0
                return OP_TEXT, joined
            return None
        if fin and not self._parts:
            self._op = 0
            return OP_BINARY, payload
        self._parts.append(payload)
        if fin:
            joined_bytes = b"".join(self._parts)
            self._parts = []
            self._op = 0
            return OP_BINARY, joined_bytes
        return None

    def parse_close(self, payload: bytes) -> tuple[int, str]:
        """(code, reason) of a close frame's payload; 1005 when it has no code."""
        if not payload:
            return 1005, ""
        if len(payload) == 1:
            raise ProtocolError(1002, "close frame with a 1-byte payload")
        code = int.from_bytes(payload[:2], "big")
        if not valid_close_code(code):
            raise ProtocolError(1002, f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(1007, "invalid UTF-8 in close reason") from None
        return code, reason
