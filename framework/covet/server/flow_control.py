"""Back-pressure in both directions for one connection.

Reading pauses while the app lags behind the request body (or pipelined requests pile up) and
resumes when it catches up; the app's send() waits while the transport's write buffer is above
its high-water mark (the transport calls `pause_writing`/`resume_writing`), on every body message
including the last. When reading may resume is the connection's decision
(`HTTPProtocol.resume_reading`); this object only remembers the transport's state.
"""

from __future__ import annotations

import asyncio

HIGH_WATER_BODY = 64 * 1024
# The shortest request a parser accepts ("A / HTTP/1.0\r\n\r\n"): `room * 16` bytes complete
# at most `room` requests.
MIN_REQUEST = 16
# Reads this small are fed whole (the common case). A slice this size completes at most 64
# requests past `max_pipeline`.
FEED_WHOLE = 1024
# A chunked body has no known end, so it goes in slices this size: when one ends inside a slice,
# at most ~1,000 requests (under 1 MB of queued cycles) pass `max_pipeline`.
CHUNKED_SLICE = 16 * 1024
# Small pipelined responses are batched into one write, up to this many bytes.
WBUF_LIMIT = 64 * 1024


def feed_slice(room: int, body_left: int | None) -> int:
    """Bytes the parser may take at once so that about `room` more requests get queued at most.

    `body_left` is None between requests, -1 inside a chunked body, else the body bytes still to
    come (fed in one piece: they cannot start a request).

        >>> feed_slice(64, None), feed_slice(2, None), feed_slice(64, 10_000)
        (1024, 1024, 11024)
    """
    size = max(room * MIN_REQUEST, FEED_WHOLE)
    if body_left is None:
        return size
    return CHUNKED_SLICE if body_left < 0 else size + body_left


class FlowControl:
    """Read/write pause state of one transport."""

    __slots__ = ("_transport", "read_paused", "write_paused", "_drain_waiters")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.read_paused = False
        self.write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []

    def pause_reading(self) -> None:
        if not self.read_paused:
            self.read_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self.read_paused = False
            if not self._transport.is_closing():
                self._transport.resume_reading()

    async def drain(self) -> None:
        """Wait until the transport can take more data (or closes)."""
        if not self.write_paused:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
