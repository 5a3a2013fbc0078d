"""The runner's replaceable parts, as protocols: the trial monitor and the idle wait.

`Runner` takes a `MonitorFactory` and an `IdleWaiter` (`run.monitor`'s by default), so a test
can hand it fakes that need no /proc sampling and no quiet machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from covetbench.run.validity import MonitorSampleLike


class MonitorSample(MonitorSampleLike, Protocol):
    """What the runner records from `covetbench.run.monitor.MonitorSample`."""

    @property
    def server_rss_mb(self) -> float: ...

    @property
    def database_cpu_pct(self) -> float: ...


class TrialMonitorLike(Protocol):
    def start(self) -> None: ...

    def stop(self, loadgen_cpu_s: float) -> MonitorSample: ...


#: monitor_factory(server_pid, server_cpus, loadgen_cpus, service_pids): service_pids are the
#: processes (the database's) whose CPU belongs to the system under test
MonitorFactory = Callable[[int, list[int], list[int], list[int]], TrialMonitorLike]
#: wait_for_idle(cpus, timeout_s) -> whether the cores went idle in time
IdleWaiter = Callable[[list[int], float], bool]
