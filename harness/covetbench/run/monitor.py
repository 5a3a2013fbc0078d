"""What the machine did during a trial: server and generator CPU, server RSS, interference.

CPU % convention: 100 = one full core. Per-core busy time comes from `/proc/stat` (user, nice,
system, irq, softirq and steal; idle and iowait are idle). The server's CPU covers its whole
process tree (workers appear and exit during a trial), sampled with psutil every
`SAMPLE_INTERVAL_S` in a background thread, which also keeps the largest tree RSS seen.

Interference is what the cores were busy with beyond the server, the generator, this harness
process, the services the app uses (`service_pids`: PostgreSQL's process tree in a database
test, reported as `database_cpu_pct`) and interrupt handling (the benchmark's own loopback
traffic, charged to no process):
`busy(all cores) - irq - server - loadgen - harness - services`, as % of one core, clamped at 0.

    if not wait_for_idle([0, 1]):
        print("machine busy")
    monitor = TrialMonitor(server.pid, server_cpus=[0], loadgen_cpus=[1])
    monitor.start()
    result = driver.run(request)
    sample = monitor.stop(loadgen_cpu_s=result.cpu_s)
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from covetbench.processes import ProcessTree

try:
    import psutil
except ImportError as exc:  # pragma: no cover - psutil comes with the bench extra
    raise ImportError("covetbench.run.monitor needs psutil: pip install 'covetpy[bench]'") from exc

PROC_STAT = Path("/proc/stat")
SAMPLE_INTERVAL_S = 0.25
IDLE_POLL_S = 0.3

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# /proc/stat cpuN columns: user nice system idle iowait irq softirq steal guest guest_nice.
# guest time is already inside user, so it is not added again.
_BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)
_IDLE_COLUMNS = (3, 4)
_STEAL_COLUMN = 7
# Interrupt time is the benchmark's own loopback traffic (softirq is not charged to any
# process): counted busy, but not charged to "other processes" as interference.
_IRQ_COLUMNS = (5, 6)


@dataclass(frozen=True)
class CoreTimes:
    """Cumulative seconds one core spent busy and idle since boot (steal counted as busy)."""

    busy_s: float
    idle_s: float
    steal_s: float = 0.0
    irq_s: float = 0.0


def read_core_times(stat_path: Path = PROC_STAT) -> dict[int, CoreTimes]:
    """Per-core cumulative busy / idle seconds from /proc/stat; {} where it does not exist."""
    try:
        lines = stat_path.read_text().splitlines()
    except OSError:
        return {}
    cores: dict[int, CoreTimes] = {}
    for line in lines:
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        name, *fields = line.split()
        values = [int(v) for v in fields]
        values += [0] * (8 - len(values))
        cores[int(name[3:])] = CoreTimes(
            busy_s=sum(values[i] for i in _BUSY_COLUMNS) / _TICKS,
            idle_s=sum(values[i] for i in _IDLE_COLUMNS) / _TICKS,
            steal_s=values[_STEAL_COLUMN] / _TICKS,
            irq_s=sum(values[i] for i in _IRQ_COLUMNS) / _TICKS,
        )
    return cores


def busy_pct(
    before: dict[int, CoreTimes], after: dict[int, CoreTimes], cpus: list[int] | None = None
) -> dict[int, float]:
    """Per-core busy % (0-100) between two `read_core_times` snapshots."""
    result: dict[int, float] = {}
    for cpu in sorted(after if cpus is None else cpus):
        if cpu not in before or cpu not in after:
            continue
        busy = after[cpu].busy_s - before[cpu].busy_s
        total = busy + after[cpu].idle_s - before[cpu].idle_s
        result[cpu] = 100.0 * busy / total if total > 0 else 0.0
    return result


def wait_for_idle(
    cpus: list[int] | None,
    max_busy_pct: float = 5.0,
    timeout_s: float = 20.0,
    poll_s: float = IDLE_POLL_S,
) -> bool:
    """Poll until every core in `cpus` (None or []: all) was below `max_busy_pct` over one
    `poll_s` window. False when `timeout_s` passed first (or /proc/stat is unreadable)."""
    wanted = cpus or None
    deadline = time.monotonic() + timeout_s
    before = read_core_times()
    if not before:
        return False
    while True:
        time.sleep(max(0.05, min(poll_s, deadline - time.monotonic())))
        after = read_core_times()
        busy = busy_pct(before, after, wanted)
        if busy and all(pct < max_busy_pct for pct in busy.values()):
            return True
        if time.monotonic() >= deadline:
            return False
        before = after


def idle_within(cpus: list[int], timeout_s: float) -> bool:
    """`wait_for_idle` as the runner calls it: a timeout of 0 or less means do not wait."""
    return timeout_s <= 0 or wait_for_idle(cpus, timeout_s=timeout_s)


@dataclass
class MonitorSample:
    """What one trial cost. CPU %: 100 = one core; RSS in MiB (max over the window)."""

    server_cpu_pct: float
    loadgen_cpu_pct: float
    server_rss_mb: float
    interference_pct: float
    per_core_busy_pct: dict[int, float]
    wall_s: float
    harness_cpu_pct: float = 0.0
    #: CPU time the hypervisor gave to other guests (inside the busy figures), % of one core
    steal_pct: float = 0.0
    #: interrupt and softirq time (loopback networking), % of one core; not interference
    irq_pct: float = 0.0
    #: most processes seen at once in the server's tree (1 + workers)
    server_processes: int = 0
    #: CPU of the services the app uses (the database's process tree), % of one core; part of
    #: the system under test, so not interference
    database_cpu_pct: float = 0.0
    server_cpus: list[int] = field(default_factory=list)
    loadgen_cpus: list[int] = field(default_factory=list)


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


class _TreeWindow:
    """CPU seconds a process tree used since `start` (members born or gone in between
    included), and its largest RSS."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        #: (pid, create_time) -> [cpu seconds at first sight, cpu seconds at last sight]
        self._cpu: dict[tuple[int, float], list[float]] = {}
        self._started_at = 0.0
        self.max_rss = 0
        self.max_processes = 0

    def _members(self) -> list[psutil.Process]:
        return ProcessTree(self.root_pid).members()

    def start(self) -> None:
        self._started_at = time.time()
        self.sample(baseline=True)

    def sample(self, baseline: bool = False) -> None:
        rss = 0
        members = self._members()
        for proc in members:
            try:
                with proc.oneshot():
                    key = (proc.pid, proc.create_time())
                    cpu = _cpu_s(proc)
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue  # exited between listing and reading: its last sample stands
            if key in self._cpu:
                self._cpu[key][1] = cpu
            elif baseline or key[1] < self._started_at - 1.0:
                self._cpu[key] = [cpu, cpu]  # existed before the window: count from now
            else:
                self._cpu[key] = [0.0, cpu]  # born during the window: all of it counts
        self.max_rss = max(self.max_rss, rss)
        self.max_processes = max(self.max_processes, len(members))

    @property
    def cpu_s(self) -> float:
        return sum(last - first for first, last in self._cpu.values())


class TrialMonitor:
    """Samples one trial's window: `start()` just before the load, `stop()` right after.

    Server CPU covers the process tree of `server_pid`; the generator's CPU seconds come from
    the load driver (`LoadResult.cpu_s`), given to `stop`.
    """

    def __init__(
        self,
        server_pid: int,
        server_cpus: list[int] | None = None,
        loadgen_cpus: list[int] | None = None,
        service_pids: list[int] | None = None,
        interval_s: float = SAMPLE_INTERVAL_S,
    ) -> None:
        self.server_pid = server_pid
        self.server_cpus = list(server_cpus or [])
        self.loadgen_cpus = list(loadgen_cpus or [])
        self.interval_s = interval_s
        self._tree = _TreeWindow(server_pid)
        self._services = [_TreeWindow(pid) for pid in service_pids or []]
        self._self = psutil.Process()
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._cores0: dict[int, CoreTimes] = {}
        self._harness0 = 0.0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("TrialMonitor.start() called twice")
        self._tree.start()
        for service in self._services:
            service.start()
        self._harness0 = _cpu_s(self._self)
        self._cores0 = read_core_times()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="covetbench-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            with self._lock:
                self._sample()

    def _sample(self) -> None:
        self._tree.sample()
        for service in self._services:
            service.sample()

    def stop(self, loadgen_cpu_s: float = 0.0) -> MonitorSample:
        if self._thread is None:
            raise RuntimeError("TrialMonitor.stop() called before start()")
        self._stop_event.set()
        self._thread.join()
        with self._lock:
            self._sample()
        server_s = self._tree.cpu_s
        services_s = sum(service.cpu_s for service in self._services)
        harness_s = _cpu_s(self._self) - self._harness0
        cores1 = read_core_times()
        wall = max(time.monotonic() - self._t0, 1e-9)
        busy_s = sum(cores1[c].busy_s - self._cores0[c].busy_s for c in cores1 if c in self._cores0)
        steal_s = sum(
            cores1[c].steal_s - self._cores0[c].steal_s for c in cores1 if c in self._cores0
        )
        irq_s = sum(cores1[c].irq_s - self._cores0[c].irq_s for c in cores1 if c in self._cores0)
        other_s = max(0.0, busy_s - irq_s - server_s - loadgen_cpu_s - harness_s - services_s)
        return MonitorSample(
            server_cpu_pct=100.0 * server_s / wall,
            loadgen_cpu_pct=100.0 * loadgen_cpu_s / wall,
            server_rss_mb=self._tree.max_rss / (1024 * 1024),
            interference_pct=100.0 * other_s / wall,
            per_core_busy_pct=busy_pct(self._cores0, cores1),
            wall_s=wall,
            harness_cpu_pct=100.0 * harness_s / wall,
            steal_pct=100.0 * steal_s / wall,
            irq_pct=100.0 * irq_s / wall,
            server_processes=self._tree.max_processes,
            database_cpu_pct=100.0 * services_s / wall,
            server_cpus=self.server_cpus,
            loadgen_cpus=self.loadgen_cpus,
        )
