"""The fuzzer's inputs: valid requests (`SEEDS`) mutated by seeded mutators (`MUTATORS`), a
pure function of the seed (`generate_cases`; `inputs_digest` proves two runs sent the same).

    cases = generate_cases(seed=1, count=2000)
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

_ECHO = b'{"message":"Hello, World!"}'
SEEDS: tuple[bytes, ...] = (
    b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /json HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nUser-Agent: fuzz\r\n\r\n",
    b"GET /users/42?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"HEAD /plaintext HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(_ECHO) + _ECHO,
    b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"%x\r\n" % len(_ECHO) + _ECHO + b"\r\n0\r\n\r\n",
    b"GET /plaintext HTTP/1.0\r\n\r\n",
    b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\nGET /json HTTP/1.1\r\nHost: h\r\n\r\n",
)
_INTERESTING = (
    b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b"\x7f", b"\xff", b"%", b"%00",
    b"\r\n\r\n", b"\r\n ", b"chunked", b"HTTP/1.1", b"0\r\n\r\n",
)  # fmt: skip
_BAD_CL = (
    b"-1", b"abc", b"99999999999999999999999", b"1, 2", b" 5 ", b"0x10", b"+5", b"", b"1e3",
    b"4\r\nContent-Length: 9", b"18446744073709551616",
)  # fmt: skip
_BAD_TE = (
    b"chunked, identity", b"chunked\x00", b"xchunked", b"identity", b"chunked, chunked",
    b"CHUNKED", b" chunked", b"chunked\r\nContent-Length: 3", b"gzip", b"\x0bchunked",
)  # fmt: skip
_BAD_CHUNK = (
    b"zz", b"-1", b"ffffffffffffffffffffff", b"5;" + b"x" * 300, b"", b"0x5", b"5 5", b"\x00",
)  # fmt: skip


@dataclass(frozen=True)
class FuzzCase:
    """One input: the pieces written (more than one: split writes) and the mutators applied."""

    index: int
    pieces: tuple[bytes, ...]
    mutations: tuple[str, ...]

    @property
    def data(self) -> bytes:
        return b"".join(self.pieces)


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def _insert(rng: random.Random, data: bytes) -> bytes:
    at = _pos(rng, data)
    return data[:at] + rng.choice(_INTERESTING) * rng.randint(1, 4) + data[at:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 16) :]


def _head_lines(data: bytes) -> tuple[list[bytes], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body if sep else b""


def _join(lines: list[bytes], body: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _dup_header(rng: random.Random, data: bytes) -> bytes:
    lines, body = _head_lines(data)
    if len(lines) < 2:
        return data + b"Host: h\r\nHost: h\r\n\r\n"
    i = rng.randrange(1, len(lines))
    lines.insert(rng.randrange(1, len(lines) + 1), lines[i])
    return _join(lines, body)


def _set_header(data: bytes, name: bytes, value: bytes) -> bytes:
    lines, body = _head_lines(data)
    lines = [ln for ln in lines if not ln.lower().startswith(name.lower() + b":")] or lines
    lines.insert(1, name + b": " + value)
    return _join(lines, body)


def _bogus_cl(rng: random.Random, data: bytes) -> bytes:
    return _set_header(data, b"Content-Length", rng.choice(_BAD_CL)) + b"x" * rng.randint(0, 8)


def _bogus_te(rng: random.Random, data: bytes) -> bytes:
    return _set_header(data, b"Transfer-Encoding", rng.choice(_BAD_TE)) + b"5\r\nhello\r\n0\r\n\r\n"


def _chunk_garbage(rng: random.Random, data: bytes) -> bytes:
    lines, _ = _head_lines(data)
    lines = [ln for ln in lines if not ln.lower().startswith((b"content-length", b"transfer-"))]
    lines.append(b"Transfer-Encoding: chunked")
    size = rng.choice(_BAD_CHUNK)
    tail = rng.choice((b"\r\nhello\r\n0\r\n\r\n", b"\r\nhello", b"\nhello\n0\n\n", b"\r\n"))
    return _join(lines, size + tail)


def _long_line(rng: random.Random, data: bytes) -> bytes:
    lines, body = _head_lines(data)
    n = rng.choice((4_097, 8_193, 65_537, 200_000))
    where = rng.randrange(3)
    if where == 0:  # a long target
        lines[0] = lines[0].replace(b" /", b" /" + b"a" * n, 1)
    elif where == 1:  # a long header value
        lines.insert(1, b"X-Long: " + b"v" * n)
    else:  # many headers
        lines[1:1] = [b"X-H%d: v" % i for i in range(n // 64)]
    return _join(lines, body)


def _random_bytes(rng: random.Random, data: bytes) -> bytes:
    return rng.randbytes(rng.randint(1, 512))


def _version(rng: random.Random, data: bytes) -> bytes:
    bad = (b"HTTP/9.9", b"HTTP/1.1\x00", b"HTTP/1.10", b"HTTP/", b"HTTPS/1.1", b"http/1.1")
    return data.replace(b"HTTP/1.1", rng.choice(bad), 1)


MUTATORS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": _flip,
    "insert": _insert,
    "delete": _delete,
    "dup_header": _dup_header,
    "bogus_cl": _bogus_cl,
    "bogus_te": _bogus_te,
    "chunk_garbage": _chunk_garbage,
    "long_line": _long_line,
    "random_bytes": _random_bytes,
    "version": _version,
}


def generate_cases(seed: int, count: int) -> list[FuzzCase]:
    """`count` fuzz cases, a pure function of `seed`; about one in five is split into pieces."""
    rng = random.Random(seed)
    names = sorted(MUTATORS)
    cases = []
    for index in range(count):
        data = rng.choice(SEEDS)
        applied = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            name = rng.choice(names)
            data = MUTATORS[name](rng, data)
            applied.append(name)
        pieces: tuple[bytes, ...] = (data,)
        if len(data) > 1 and rng.random() < 0.2:
            cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 4))))
            bounds = [0, *cuts, len(data)]
            pieces = tuple(data[a:b] for a, b in zip(bounds, bounds[1:], strict=False))
            applied.append("split")
        cases.append(FuzzCase(index, pieces, tuple(applied)))
    return cases


def inputs_digest(cases: list[FuzzCase]) -> str:
    digest = hashlib.sha256()
    for case in cases:
        for piece in case.pieces:
            digest.update(len(piece).to_bytes(8, "big") + piece)
        digest.update(b"|")
    return digest.hexdigest()
