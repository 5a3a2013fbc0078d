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
