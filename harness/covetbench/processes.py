"""Process helpers shared by the server adapters, the load drivers, the monitor and soak: CPU
pinning, process-group signals and the walk of a process tree, so servers and generators are
pinned, reaped and measured the same way."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # psutil is imported where a tree is walked: pinning and signals need none
    import psutil


def pinned(argv: list[str], cpus: Sequence[int] | None) -> list[str]:
    """`argv` behind `taskset -c CPUS` when CPUs are given and taskset exists."""
    taskset = shutil.which("taskset") if cpus else None
    if taskset is None or not cpus:
        return argv
    return [taskset, "-c", ",".join(str(c) for c in cpus), *argv]


def signal_group(pgid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Signal a whole process group; a group already gone is not an error."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class ProcessTree:
    """A process and all its descendants, walked afresh at each call (workers come and go).

    The one walk of a server's tree: the monitor samples its CPU and RSS per trial, soak its
    RSS per segment. A process that exits between the listing and the read is skipped.

        ProcessTree(server.pid).rss_bytes()
    """

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid

    def members(self) -> list[psutil.Process]:
        """The root and its descendants; [] when the root is gone."""
        import psutil

        try:
            root = psutil.Process(self.root_pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def rss_bytes(self) -> int:
        """Resident memory of the whole tree (0 when it is gone)."""
        import psutil

        total = 0
        for proc in self.members():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the tree's living members have used."""
        import psutil

        total = 0.0
        for proc in self.members():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total
