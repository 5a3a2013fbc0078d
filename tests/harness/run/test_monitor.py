"""Monitor: /proc/stat parsing, idle waiting, a CPU-burning process tree measured as the
server, and interference from a process that is neither server nor generator."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from covetbench.run.monitor import (
    CoreTimes,
    MonitorSample,
    TrialMonitor,
    busy_pct,
    read_core_times,
    wait_for_idle,
)
from tests.harness.conftest import BurnCpu

PROC_STAT = """\
cpu  300 0 100 1000 50 0 0 0 0 0
cpu0 100 0 50 500 25 0 0 0 0 0
cpu1 200 0 50 500 25 0 0 10 7 0
intr 12345
"""

# A supervisor whose worker appears mid-window, burns CPU, then exits before the window ends.
SPAWNING_PARENT = """
import subprocess, sys, time
time.sleep(0.3)
child = subprocess.Popen([sys.executable, "-c",
    "import time\\nend = time.process_time() + 0.6\\nwhile time.process_time() < end: pass"])
child.wait()
time.sleep(30)
"""


def _window() -> None:
    # Monitoring measures over a span of time: the span is the thing under test, not a wait
    # for readiness.
    time.sleep(1.5)


def test_read_core_times(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(PROC_STAT)
    cores = read_core_times(stat)
    assert sorted(cores) == [0, 1]
    ticks = os.sysconf("SC_CLK_TCK")
    assert cores[0] == CoreTimes(busy_s=150 / ticks, idle_s=525 / ticks, steal_s=0.0)
    # steal counts as busy; guest (already inside user) is not added twice
    assert cores[1] == CoreTimes(busy_s=260 / ticks, idle_s=525 / ticks, steal_s=10 / ticks)
    assert read_core_times(tmp_path / "missing") == {}


def test_read_core_times_real_machine() -> None:
    cores = read_core_times()
    assert len(cores) == psutil.cpu_count()


def test_busy_pct() -> None:
    before = {0: CoreTimes(10.0, 10.0), 1: CoreTimes(5.0, 5.0)}
    after = {0: CoreTimes(11.0, 11.0), 1: CoreTimes(5.0, 7.0), 2: CoreTimes(1.0, 1.0)}
    assert busy_pct(before, after) == {0: 50.0, 1: 0.0}
    assert busy_pct(before, after, [1]) == {1: 0.0}
    assert busy_pct(before, before) == {0: 0.0, 1: 0.0}


def test_wait_for_idle_times_out_on_a_busy_core(burn_cpu: BurnCpu) -> None:
    last = max(read_core_times())
    burn_cpu([last])
    assert wait_for_idle([last], max_busy_pct=50.0, timeout_s=1.5) is False


def test_wait_for_idle_returns_once_below_threshold() -> None:
    # 100 % busy is the ceiling, so a threshold above it always holds.
    assert wait_for_idle(None, max_busy_pct=100.1, timeout_s=10.0) is True


def test_monitor_measures_a_cpu_burner(burn_cpu: BurnCpu) -> None:
    burner = burn_cpu()
    monitor = TrialMonitor(burner.pid, server_cpus=[0], loadgen_cpus=[1])
    monitor.start()
    _window()
    sample = monitor.stop(loadgen_cpu_s=0.0)
    assert isinstance(sample, MonitorSample)
    assert 20.0 < sample.server_cpu_pct < 110.0
    assert sample.server_rss_mb > 1.0
    assert sample.server_processes == 1
    assert sample.loadgen_cpu_pct == 0.0
    assert sorted(sample.per_core_busy_pct) == sorted(read_core_times())
    assert sample.server_cpus == [0] and sample.loadgen_cpus == [1]
    assert sample.wall_s > 0


def test_monitor_counts_workers_that_come_and_go() -> None:
    parent = subprocess.Popen([sys.executable, "-c", SPAWNING_PARENT])
    try:
        monitor = TrialMonitor(parent.pid)
        monitor.start()
        deadline = time.monotonic() + 30
        # The window lasts until the worker has come and gone.
        seen_worker = False
        while time.monotonic() < deadline:
            children = psutil.Process(parent.pid).children()
            seen_worker = seen_worker or bool(children)
            if seen_worker and not children:
                break
            time.sleep(0.05)
        sample = monitor.stop()
    finally:
        parent.kill()
        parent.wait()
    assert seen_worker
    assert sample.server_processes == 2
    assert sample.server_cpu_pct * sample.wall_s / 100.0 > 0.3  # most of the worker's 0.6 s


def _beside_an_idle_server(service_pids: list[int] | None = None) -> MonitorSample:
    """One monitored window of a sleeping "server" process (the CPU is all someone else's)."""
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        monitor = TrialMonitor(idle.pid, service_pids=service_pids)
        monitor.start()
        _window()
        return monitor.stop(loadgen_cpu_s=0.0)
    finally:
        idle.kill()
        idle.wait()


def test_monitor_detects_interference(burn_cpu: BurnCpu) -> None:
    burn_cpu()
    sample = _beside_an_idle_server()
    assert sample.server_cpu_pct < 10.0
    assert sample.interference_pct > 30.0


def test_a_service_process_is_database_cpu_not_interference(burn_cpu: BurnCpu) -> None:
    """The same burner that is interference above, watched as a service (a database test's
    PostgreSQL): its CPU is reported as database CPU and left out of interference."""
    service = burn_cpu()
    sample = _beside_an_idle_server(service_pids=[service.pid])
    assert sample.database_cpu_pct > 30.0
    assert sample.interference_pct < 30.0


def test_interference_subtracts_the_generator_and_clamps_at_zero(burn_cpu: BurnCpu) -> None:
    burner = burn_cpu()
    monitor = TrialMonitor(burner.pid)
    monitor.start()
    _window()
    sample = monitor.stop(loadgen_cpu_s=1000.0)
    assert sample.interference_pct == 0.0
    assert sample.loadgen_cpu_pct > 1000.0


def test_monitor_misuse_raises() -> None:
    monitor = TrialMonitor(psutil.Process().pid)
    with pytest.raises(RuntimeError):
        monitor.stop()
    monitor.start()
    with pytest.raises(RuntimeError):
        monitor.start()
    monitor.stop()


def test_monitor_survives_a_dead_server() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    monitor = TrialMonitor(proc.pid)
    monitor.start()
    sample = monitor.stop()
    assert sample.server_cpu_pct == 0.0 and sample.server_rss_mb == 0.0
