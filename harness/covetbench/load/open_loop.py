"""The open-loop generator (`--loadgen open --rate R`): requests on a fixed schedule, latency
from each request's intended start, so a stalled server shows in the tail (no coordinated
omission).

A closed loop (wrk) sends the next request only when the last one is answered: when the server
stalls, it stops sending and the stall vanishes from its figures. Here requests are due at a
fixed rate whatever the server does; a request that could not leave on time (all connections
busy) still counts its latency from when it was due. The generator runs in one or more
processes (`open_loop_worker`, fresh interpreters), pinned to the load cores, each with its share of
the connections and an interleaved share of the schedule; each records HdrHistograms that are
merged here (added, never averaged).

What the result holds beyond wrk's:
- `latency_ms`: corrected percentiles (from the intended start), `latency_uncorrected_ms`: the
  service-time ones (from the actual send), both from merged histograms; `histogram`: the
  corrected histogram, encoded (it is also in the raw output, with the uncorrected one);
- `offered_rps` (the rate asked for), `intended_requests` (the schedule's requests inside the
  window), `late_sends` (sent more than `LATE_TOLERANCE_MS` after their due time, or never sent),
  `late_wakeups` (the generator's own timers firing late: its clock, not the server, fell
  behind). `covetbench.run.validity` reads them to flag a generator that could not hold its rate.

    result = OpenLoopDriver().run(LoadRequest(url="http://127.0.0.1:8000/json", scenario=spec,
                                              concurrency=64, duration_s=5, rate=2000))
    result.latency_ms.p99, result.latency_uncorrected_ms.p99, result.late_sends
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import select
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import covetbench
from covetbench.exceptions import LoadGeneratorError
from covetbench.load import hdr
from covetbench.load.base import LoadDriver, LoadRequest, RequestShape
from covetbench.load.open_loop_worker import MISSING_HINT, WORKER_SOURCE, WorkerPlan
from covetbench.processes import die_with_parent, signal_group
from covetbench.records import LATENCY_OPEN_LOOP, ErrorCounts, LoadResult

#: a send more than this late after its due time is a late send (stated in every raw output)
LATE_TOLERANCE_MS = 10.0
#: requests/s one process is asked to hold at most; above it the schedule is split over more
#: processes, one per load core (here one process held 15k req/s against covet's server at
#: 32 % of a core, ~21 us of CPU per request: see README)
RATE_PER_PROCESS = 15_000.0
#: seconds to spawn the processes and open their connections before the window
_READY_TIMEOUT_S = 30.0
#: lead time between the start decision and the first due request, for every process to see it
_START_LEAD_S = 0.05
_JOIN_TIMEOUT_S = 5.0
_REQUIRED_MODULES = ("uvloop", "httptools", "hdrh")


def request_bytes(scenario: RequestShape, host: str, port: int) -> bytes:
    """The exact HTTP/1.1 request sent for `scenario` (keep-alive, Content-Length when a body)."""
    body = scenario.body or b""
    lines = [f"{scenario.method.upper()} {scenario.path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in (scenario.headers or {}).items()]
    if body or scenario.method.upper() in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def process_count(rate: float, concurrency: int, threads: int, cores: int) -> int:
    """Processes for `rate`: enough that none holds more than `RATE_PER_PROCESS` but no more
    than the `cores` they are pinned to (two on one core only share it), at least `threads`
    (asked for explicitly), at most one per connection."""
    wanted = min(math.ceil(rate / RATE_PER_PROCESS), cores)
    return max(1, min(concurrency, max(threads, wanted)))


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


class OpenLoopDriver(LoadDriver):
    """Drive HTTP load at a fixed rate from one or more processes (see the module docstring).

    `LoadRequest.rate` is required; pipelining is not supported (one request in flight per
    connection, as in wrk2).
    """

    name = "open"
    install_hint = MISSING_HINT
    needs_rate = True

    def is_installed(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in _REQUIRED_MODULES)

    def version(self) -> str | None:
        if not self.is_installed():
            return None
        parts = []
        for dist in ("uvloop", "httptools", "hdrhistogram"):
            with contextlib.suppress(metadata.PackageNotFoundError):
                parts.append(f"{dist} {metadata.version(dist)}")
        return "covet-bench open loop (" + ", ".join(parts) + ")"

    def _plans(self, request: LoadRequest) -> list[WorkerPlan]:
        rate = request.rate
        if rate is None or not rate > 0:
            raise LoadGeneratorError("the open-loop generator needs a rate: --rate R (req/s)")
        if request.concurrency < 1:
            raise LoadGeneratorError(f"concurrency must be >= 1, got {request.concurrency}")
        if request.pipeline != 1:
            raise LoadGeneratorError("the open-loop generator does not pipeline (--pipeline 1)")
        if not self.supports(request.scenario):
            raise LoadGeneratorError(f"open loop cannot drive scenario {request.scenario.name!r}")
        url = urlsplit(request.url)
        if url.scheme != "http" or not url.hostname:
            raise LoadGeneratorError(f"open loop drives http:// URLs only, got {request.url!r}")
        port = url.port or 80
        data = request_bytes(request.scenario, url.hostname, port)
        cores = len(request.cpus) if request.cpus else (os.cpu_count() or 1)
        processes = process_count(rate, request.concurrency, request.threads, cores)
        return [
            WorkerPlan(
                host=url.hostname,
                port=port,
                request=data,
                connections=connections,
                rate=float(rate),
                processes=processes,
                index=k,
                duration_s=float(request.duration_s),
                timeout_s=float(request.timeout_s),
                late_tolerance_s=LATE_TOLERANCE_MS / 1000.0,
                cpus=tuple(request.cpus) if request.cpus else None,
            )
            for k, connections in enumerate(_split(request.concurrency, processes))
        ]

    def command(self, request: LoadRequest, processes: int) -> list[str]:
        """What ran, as an argv-like line for the raw output and the report's setup section."""
        cpus = ",".join(str(c) for c in request.cpus) if request.cpus else "any"
        return [
            "covet-bench-open-loop",
            f"--rate={request.rate:g}",
            f"--connections={request.concurrency}",
            f"--duration={request.duration_s:g}s",
            f"--processes={processes}",
            f"--cpus={cpus}",
            f"--timeout={request.timeout_s:g}s",
            f"--late-tolerance={LATE_TOLERANCE_MS:g}ms",
            request.url,
        ]

    def run(self, request: LoadRequest) -> LoadResult:
        if not self.is_installed():
            raise LoadGeneratorError(self.install_hint)
        plans = self._plans(request)
        outcomes, cpu_s = _run_processes(plans, request)
        return _result(request, plans, outcomes, self.command(request, len(plans)), cpu_s)


def _environment() -> dict[str, str]:
    """The caller's environment with this covetbench first on the path, however it was found."""
    env = dict(os.environ)
    root = str(Path(covetbench.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _run_processes(
    plans: list[WorkerPlan], request: LoadRequest
) -> tuple[list[dict[str, Any]], float]:
    """Start one process per plan, start their schedules together, collect their results and
    their CPU seconds (from `os.wait4`: start-up included, so the monitor never counts it as
    another process's interference). Every process is killed and reaped whatever happens (own
    process group, and the kernel kills it should the harness die)."""
    procs: list[subprocess.Popen[str]] = []
    cpu_s = 0.0
    argv = [sys.executable, "-c", WORKER_SOURCE]
    try:
        for plan in plans:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=_environment(),
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
            procs.append(proc)
            _send(proc, plan.to_json())
        for proc in procs:
            _expect(proc, "ready", time.monotonic() + _READY_TIMEOUT_S)
        start = time.monotonic() + _START_LEAD_S
        for proc in procs:
            _send(proc, repr(start))
        deadline = start + request.duration_s + request.timeout_s + _READY_TIMEOUT_S
        outcomes = [_expect(proc, "result", deadline) for proc in procs]
    finally:
        for proc in procs:
            cpu_s += _reap(proc)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()

    return outcomes, cpu_s


def _reap(proc: subprocess.Popen[str]) -> float:
    """Wait for `proc` (killing its group after `_JOIN_TIMEOUT_S`); its CPU seconds."""
    deadline = time.monotonic() + _JOIN_TIMEOUT_S
    while True:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:  # already reaped
            return 0.0
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return float(usage.ru_utime + usage.ru_stime)
        if time.monotonic() >= deadline:
            signal_group(proc.pid)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return float(usage.ru_utime + usage.ru_stime)
        time.sleep(0.01)


def _send(proc: subprocess.Popen[str], line: str) -> None:
    stdin: IO[str] | None = proc.stdin
    assert stdin is not None
    try:
        stdin.write(line + "\n")
        stdin.flush()
    except OSError as exc:
        raise LoadGeneratorError(f"open-loop process {proc.pid} is gone: {exc}") from exc


def _expect(proc: subprocess.Popen[str], kind: str, deadline: float) -> Any:
    """The next message of `proc`, which must be `kind`; LoadGeneratorError otherwise."""
    stdout = proc.stdout
    assert stdout is not None
    ready, _, _ = select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))
    if not ready:
        raise LoadGeneratorError(f"open-loop process {proc.pid} sent no {kind!r} in time")
    line = stdout.readline()
    try:
        message = json.loads(line) if line else {}
    except json.JSONDecodeError:
        message = {"error": f"unreadable message {line[:200]!r}"}
    if "error" in message:
        raise LoadGeneratorError(f"open-loop process failed: {message['error']}")
    if kind not in message:
        raise LoadGeneratorError(
            f"open-loop process {proc.pid} ended (code {proc.poll()}) before {kind!r}"
        )
    return message[kind]


def _total(outcomes: list[dict[str, Any]], key: str) -> int:
    return sum(int(o[key]) for o in outcomes)


def _result(
    request: LoadRequest,
    plans: list[WorkerPlan],
    outcomes: list[dict[str, Any]],
    command: list[str],
    cpu_s: float,
) -> LoadResult:
    corrected = hdr.merge(o["corrected"] for o in outcomes)
    uncorrected = hdr.merge(o["uncorrected"] for o in outcomes)
    completed = _total(outcomes, "completed")
    duration = float(request.duration_s)
    errors = ErrorCounts(
        non2xx=_total(outcomes, "non2xx"),
        connect=_total(outcomes, "connect"),
        read=_total(outcomes, "read"),
        write=_total(outcomes, "write"),
        timeout=_total(outcomes, "timeout"),
    )
    encoded = hdr.encode(corrected)
    lines = [
        f"open loop: {request.rate:g} req/s offered over {len(plans)} process(es), "
        f"{request.concurrency} connections, {duration:g}s, late tolerance "
        f"{LATE_TOLERANCE_MS:g} ms",
        f"intended {_total(outcomes, 'intended')}  sent {_total(outcomes, 'sent')}  "
        f"completed {completed}  late_sends {_total(outcomes, 'late_sends')}  "
        f"(never sent {_total(outcomes, 'unsent')})  late_wakeups "
        f"{_total(outcomes, 'late_wakeups')}  cpu {cpu_s:.3f}s (start-up included)",
    ]
    for k, o in enumerate(outcomes):
        lines.append(
            f"process {k}: connections {plans[k].connections} established {o['established']} "
            f"intended {o['intended']} sent {o['sent']} completed {o['completed']} "
            f"late_sends {o['late_sends']} late_wakeups {o['late_wakeups']} "
            f"cpu in the window {o['cpu_s']:.3f}s"
        )
    lines += [
        f"corrected (from intended start): {hdr.latency_of(corrected)}",
        f"uncorrected (from send): {hdr.latency_of(uncorrected)}",
        f"corrected-histogram-us: {encoded}",
        f"uncorrected-histogram-us: {hdr.encode(uncorrected)}",
    ]
    return LoadResult(
        loadgen=OpenLoopDriver.name,
        requests=completed,
        duration_s=duration,
        rps=completed / duration if duration > 0 else 0.0,
        latency_ms=hdr.latency_of(corrected),
        errors=errors,
        connections=request.concurrency,
        established=_total(outcomes, "established"),
        corrected=True,
        histogram=encoded,
        raw_output="\n".join(lines) + "\n",
        command=command,
        cpu_s=cpu_s,
        latency_method=LATENCY_OPEN_LOOP,
        latency_uncorrected_ms=hdr.latency_of(uncorrected),
        offered_rps=float(request.rate or 0.0),
        intended_requests=_total(outcomes, "intended"),
        late_sends=_total(outcomes, "late_sends"),
        late_wakeups=_total(outcomes, "late_wakeups"),
    )
