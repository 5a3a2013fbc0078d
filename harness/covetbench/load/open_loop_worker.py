"""One process of the open-loop generator: keep-alive connections sending on a fixed schedule.

The schedule is fixed before the first send: request `i` of this process is due at
`start + (i * processes + index) / rate` (the processes' schedules interleave into one at the
total rate). Each connection takes the next due request when it is free, sleeps until its due
time if that is still ahead, sends it and waits for the answer. Latency is recorded twice:

- from the request's INTENDED start (its due time): what a user arriving on schedule waits,
  queueing behind a stalled server included. This is the corrected figure (wrk2's method);
- from the actual send (service time): what a closed-loop generator reports.

A request that could only be sent more than `late_tolerance_s` after its due time is a late
send (k6's dropped_iterations counts the same thing); a due request never sent before the
window closed counts as late too. A late WAKE-UP (a connection that slept until its due time and
woke late) is the generator's own clock falling behind, counted apart: the validity judge reads
it as the generator, not the server, failing to hold the rate. Nothing here slows the schedule
down to suit the server.

Runs on uvloop with httptools' response parser (both imported behind a guard naming the
extra). The parent (`covetbench.load.open_loop`) starts it as a fresh interpreter running
`worker_main` (multiprocessing's spawn would re-run the caller's main script, its fork would
copy a threaded harness) and talks to it in JSON lines:
the plan on stdin; `{"ready": n}` (connections established) on stdout; the common start time on
stdin (CLOCK_MONOTONIC is system-wide); `{"result": {...}}` or `{"error": "..."}` on stdout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import time
import traceback
from dataclasses import dataclass
from typing import Any, TextIO, cast

from covetbench.load import hdr

MISSING_HINT = "the open-loop generator needs uvloop and httptools: pip install 'covetpy[bench]'"
#: how often in-flight requests are checked against the timeout (one timer, not one per request)
_TIMEOUT_SWEEP_S = 0.05
#: the event loop's timers have millisecond granularity and fire up to a tick late: a
#: connection wakes this much before its due time and sends at once, so the timer's tick never
#: counts as latency (the send may leave up to a tick early; latency then counts from the send)
_TIMER_TICK_S = 0.001


@dataclass(frozen=True)
class WorkerPlan:
    """What one process drives: its connections, its share of the rate, its slot in the
    interleaved schedule."""

    host: str
    port: int
    request: bytes
    connections: int
    #: the TOTAL rate of all processes (req/s); this process sends every `processes`-th request
    rate: float
    processes: int
    index: int
    duration_s: float
    timeout_s: float
    late_tolerance_s: float
    cpus: tuple[int, ...] | None = None

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["request"] = base64.b64encode(self.request).decode("ascii")
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> WorkerPlan:
        data = json.loads(text)
        data["request"] = base64.b64decode(data["request"])
        data["cpus"] = tuple(data["cpus"]) if data.get("cpus") else None
        return cls(**data)


class _Exchange(asyncio.Protocol):
    """One keep-alive connection: one request in flight at a time, answered through a future."""

    def __init__(self, loop: asyncio.AbstractEventLoop, parser_class: Any) -> None:
        self.loop = loop
        self.parser = parser_class(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[int] | None = None
        self.sent_at = 0.0
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except Exception as exc:  # httptools.HttpParserError and friends: a read error
            self._fail(ConnectionError(f"bad response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("connection closed by the server"))

    # httptools callback
    def on_message_complete(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(int(self.parser.get_status_code()))
        if not self.parser.should_keep_alive():
            self.close()

    def send(self, data: bytes, now: float) -> asyncio.Future[int]:
        self.waiter = self.loop.create_future()
        self.sent_at = now
        assert self.transport is not None
        self.transport.write(data)
        return self.waiter

    def expire(self, now: float, timeout_s: float) -> None:
        """Fail the request in flight if it has waited longer than `timeout_s`."""
        waiter = self.waiter
        if waiter is not None and not waiter.done() and now - self.sent_at > timeout_s:
            waiter.set_exception(TimeoutError())
            self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class _Run:
    """The state of one process's window: schedule, counters, histograms."""

    def __init__(self, plan: WorkerPlan, parser_class: Any) -> None:
        self.plan = plan
        self.parser_class = parser_class
        self.interval = plan.processes / plan.rate
        self.phase = plan.index / plan.rate
        self.next_index = 0
        self.start = 0.0
        self.end = 0.0
        self.corrected = hdr.new_histogram()
        self.uncorrected = hdr.new_histogram()
        self.counts = {
            "sent": 0,
            "completed": 0,
            "late_sends": 0,
            "late_wakeups": 0,
            "non2xx": 0,
            "connect": 0,
            "read": 0,
            "write": 0,
            "timeout": 0,
        }
        self.exchanges: list[_Exchange] = []

    def due(self, i: int) -> float:
        return self.start + self.phase + i * self.interval

    def intended(self) -> int:
        """Requests this process's schedule holds inside the window."""
        span = self.plan.duration_s - self.phase
        return max(0, int(span / self.interval - 1e-9) + 1) if span > 0 else 0

    async def connect(self, loop: asyncio.AbstractEventLoop) -> _Exchange | None:
        try:
            _, exchange = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Exchange(loop, self.parser_class), self.plan.host, self.plan.port
                ),
                self.plan.timeout_s,
            )
        except (OSError, TimeoutError):
            self.counts["connect"] += 1
            return None
        self.exchanges.append(exchange)
        return exchange

    async def drive(self, loop: asyncio.AbstractEventLoop, exchange: _Exchange | None) -> None:
        """One connection's loop: take the next due request, send it on time, time it."""
        plan = self.plan
        counts = self.counts
        clock = time.monotonic
        while True:
            i = self.next_index
            due = self.due(i)
            now = clock()
            if due >= self.end or now >= self.end:  # the window is closed: the rest is unsent
                return
            self.next_index = i + 1
            if due - _TIMER_TICK_S > now:
                await asyncio.sleep(due - _TIMER_TICK_S - now)
                now = clock()
                if now - due > plan.late_tolerance_s:
                    counts["late_wakeups"] += 1
            if now - due > plan.late_tolerance_s:
                counts["late_sends"] += 1
            if exchange is None or exchange.closed:
                exchange = await self.connect(loop)
                if exchange is None:
                    continue  # counted as a connect error; the request is lost
                now = clock()
            try:
                waiter = exchange.send(plan.request, now)
                counts["sent"] += 1
                status = await waiter
            except TimeoutError:
                counts["timeout"] += 1
                continue
            except (ConnectionError, OSError):
                counts["read"] += 1
                exchange.close()
                continue
            done = clock()
            counts["completed"] += 1
            if status >= 400:  # wrk's rule: 2xx and 3xx are answers, the rest errors
                counts["non2xx"] += 1
            # a wake-up a hair early (timer granularity) must not make the request look faster
            hdr.record_us(self.corrected, (done - min(due, now)) * 1e6)
            hdr.record_us(self.uncorrected, (done - now) * 1e6)

    async def sweep_timeouts(self) -> None:
        while True:
            await asyncio.sleep(_TIMEOUT_SWEEP_S)
            now = time.monotonic()
            for exchange in self.exchanges:
                exchange.expire(now, self.plan.timeout_s)


def _say(out: TextIO, **message: Any) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


async def _main(plan: WorkerPlan, inp: TextIO, out: TextIO, parser_class: Any) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = _Run(plan, parser_class)
    first = await asyncio.gather(*(run.connect(loop) for _ in range(plan.connections)))
    established = sum(1 for e in first if e is not None)
    _say(out, ready=established)
    # the parent answers with the common start time once every process is ready
    line = await loop.run_in_executor(None, inp.readline)
    if not line:
        raise EOFError("the parent closed stdin before the start")
    run.start = float(line)
    run.end = run.start + plan.duration_s
    await asyncio.sleep(max(0.0, run.start - time.monotonic()))
    cpu0 = time.process_time()
    sweeper = asyncio.ensure_future(run.sweep_timeouts())
    drivers = [asyncio.ensure_future(run.drive(loop, e)) for e in first]
    # every driver stops taking requests at the end; answers in flight get `timeout_s` more
    await asyncio.wait(drivers, timeout=plan.duration_s + plan.timeout_s + 1.0)
    for task in drivers:
        task.cancel()
    sweeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*drivers, sweeper, return_exceptions=True)
    cpu_s = time.process_time() - cpu0
    for exchange in run.exchanges:
        exchange.close()
    intended = run.intended()
    unsent = max(0, min(intended, intended - run.next_index))
    counts = dict(run.counts)
    counts["late_sends"] += unsent  # due inside the window and never sent: late beyond doubt
    return {
        **counts,
        "intended": intended,
        "unsent": unsent,
        "established": established,
        "cpu_s": cpu_s,
        "corrected": hdr.encode(run.corrected),
        "uncorrected": hdr.encode(run.uncorrected),
    }


def worker_main(inp: TextIO, out: TextIO) -> int:
    """One generator process: the plan from `inp`, messages to `out` (see the module
    docstring); the exit code is 0 when a result was sent."""
    try:
        plan = WorkerPlan.from_json(inp.readline())
        if plan.cpus:
            os.sched_setaffinity(0, plan.cpus)
        try:
            import httptools
            import uvloop
        except ImportError as exc:
            raise RuntimeError(f"{MISSING_HINT} ({exc})") from exc
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(_main(plan, inp, out, httptools.HttpResponseParser))
        _say(out, result=result)
        return 0
    except BaseException as exc:  # the parent must hear why, not wait for a timeout
        with contextlib.suppress(OSError, ValueError):
            _say(out, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        return 1


#: what the parent runs: `python -c WORKER_SOURCE`
WORKER_SOURCE = (
    "import sys\n"
    "from covetbench.load.open_loop_worker import worker_main\n"
    "sys.exit(worker_main(sys.stdin, sys.stdout))\n"
)
