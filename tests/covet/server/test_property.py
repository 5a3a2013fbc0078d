"""Property-based: random and mutated request streams never crash the protocol, never get one
request answered twice, and the server keeps serving afterwards (both parsers)."""

from __future__ import annotations

import asyncio
import logging
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covet.server.parsers import available_parsers
from covet.server.types import Receive, Scope, Send
from tests.covet.server.conftest import Conn


async def id_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers the request's path (unique per request) after reading the whole body."""
    while (await receive()).get("more_body"):
        pass
    body = b"<" + scope["raw_path"] + b">"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def request(i: int, kind: int, body: bytes) -> bytes:
    path = b"/r%d" % i
    if kind == 0:
        return b"GET " + path + b" HTTP/1.1\r\nHost: a\r\nX-N: " + str(i).encode() + b"\r\n\r\n"
    if kind == 1:
        head = b"POST " + path + b" HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body)
        return head + body
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    return b"POST " + path + b" HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked


mutation = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.floats(0, 1),
    st.binary(min_size=1, max_size=4)
    | st.sampled_from([b"\r", b"\n", b"\r\n", b" ", b":", b"\x00"]),
)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(1, 5))
    parts = [request(i, draw(st.integers(0, 2)), draw(st.binary(max_size=40))) for i in range(n)]
    data = b"".join(parts)
    for op, where, blob in draw(st.lists(mutation, max_size=3)):
        at = int(where * len(data))
        if op == "insert":
            data = data[:at] + blob + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + len(blob) :]
        else:
            data = data[:at] + blob + data[at + len(blob) :]
    if draw(st.booleans()):
        data = draw(st.binary(max_size=200))
    return data


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    http=st.sampled_from(available_parsers()),
    data=streams(),
    cuts=st.lists(st.integers(1, 60), max_size=6),
)
def test_protocol_survives_random_input(http: str, data: bytes, cuts: list[int]) -> None:
    errors = _Errors()
    logger = logging.getLogger("covet")
    logger.addHandler(errors)
    try:
        asyncio.run(_exercise(http, data, cuts))
    finally:
        logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]


async def _exercise(http: str, data: bytes, cuts: list[int]) -> None:
    conn = Conn(id_app, http)
    pos = 0
    for cut in cuts:
        if conn.transport.closed:
            break
        conn.feed(data[pos : pos + cut])
        pos += cut
        await conn.settle(5)
    if not conn.transport.closed and pos < len(data):
        conn.feed(data[pos:])
    await conn.settle()
    out = conn.transport.take()
    answered = re.findall(rb"\r\n\r\n<([^>]*)>", out)
    assert len(answered) == len(set(answered)), f"a request was answered twice: {answered}"
    ids = [int(m) for m in re.findall(rb"\r\n\r\n</r(\d+)>", out)]
    assert ids == sorted(ids), f"responses out of order: {ids}"
    statuses = [s for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", out) if s != b"100"]
    errors = [s for s in statuses if s != b"200"]
    assert statuses.count(b"200") == len(answered)
    assert len(errors) <= 1 and (not errors or statuses[-1] == errors[0]), statuses
    if not conn.transport.closed:
        conn.lose()
    await conn.settle()
    assert conn.state.in_flight == 0
    # Keeps serving: a fresh connection on the same server state gets a normal answer.
    fresh = Conn(id_app, http, state=conn.state)
    reply = await fresh.request(b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"</ok>")
