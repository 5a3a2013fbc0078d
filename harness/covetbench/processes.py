"""Process helpers shared by the server adapters and the load drivers: CPU pinning and
process-group signals, so servers and generators are pinned and reaped the same way."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Sequence


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
