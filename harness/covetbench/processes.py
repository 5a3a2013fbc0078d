"""Process helpers shared by the server adapters, the load drivers, the monitor and soak: CPU
pinning, process-group signals, the walk of a process tree (`ProcessTree`), and the guarantee
that nothing they start outlives the harness.

Servers and generators run in their own process groups (reaped as one, untouched by a tty's
^C). A harness that exits normally or by a signal it can catch stops them itself; one killed
with SIGKILL (a CI runner's timeout, the OOM killer) can do nothing, and its groups used to
stay listening. Two mechanisms, each covering what the other cannot:

- `die_with_parent()`: a `preexec_fn` that sets `prctl(PR_SET_PDEATHSIG, SIGKILL)` in the child,
  so the kernel kills the direct child the moment its parent dies. It survives `exec` (taskset
  execs the real command and keeps it) but NOT `fork`, so a server's own workers (uvicorn,
  hypercorn, granian, covet `--workers`) are not covered. Linux only; and the signal fires
  when the spawning THREAD exits, not the process, so the hook is only given to a child spawned
  from the main thread (from any other thread it returns None and the watchdog alone guards).
- `guard_group(pgid)`: a watchdog process that joins the server's process group and blocks
  reading a pipe whose only write end the harness holds. When the harness dies, however it
  dies, the kernel closes that end, the read returns EOF, and the watchdog SIGKILLs its own
  group: every worker, grandchild and itself. Because the watchdog is a member of the group,
  the group id cannot be reused while it waits (no risk of killing a stranger's group), and the
  harness's own SIGKILL sweep of the group (`signal_group`) ends the watchdog with the rest;
  `release_group` reaps it. Joining a group needs the same session, so guarded servers are
  started with `process_group=0` (own group, the harness's session) rather than
  `start_new_session=True`. One pipe serves every watchdog of the harness.

Limits: a process that leaves its group (calls setsid itself) escapes the watchdog; a child
that the harness forks without exec (multiprocessing's fork start method) inherits the write end
and keeps the watchdogs waiting until it exits too; a harness killed in the instant between a
server's start and its watchdog's is covered by PDEATHSIG alone (the server has no workers yet).
Generators (wrk) start no children and end on their own after the run's duration, so they get
`die_with_parent()` only: a watchdog per trial would start an interpreter inside the measured
window.

    proc = subprocess.Popen(argv, process_group=0, preexec_fn=die_with_parent())
    guard_group(proc.pid)
    ...
    signal_group(proc.pid)
    release_group(proc.pid)
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # psutil is imported where a tree is walked: pinning and signals need none
    import psutil

_PR_SET_PDEATHSIG = 1
#: a watchdog: ignore the polite signals (only the group's SIGKILL sweep or the EOF end it),
#: block until every write end of stdin is closed, then kill the whole group, itself included
_WATCHDOG_SOURCE = (
    "import os, signal\n"
    "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_IGN)\n"
    "while os.read(0, 4096):\n"
    "    pass\n"
    "os.killpg(0, signal.SIGKILL)\n"
)
_REAP_TIMEOUT_S = 5.0

_lock = threading.Lock()
_pipe: tuple[int, int] | None = None
_guards: dict[int, subprocess.Popen[bytes]] = {}


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


@functools.lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    # Resolved in the parent: the forked child must not dlopen (it may hold a loader lock).
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return prctl


def die_with_parent(sig: signal.Signals = signal.SIGKILL) -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel send `sig` to the child when this thread exits.

    None (no hook) off Linux and off the main thread, where the child would die with a worker
    thread rather than with the harness. A parent that died before the hook ran (the fork and
    the prctl race) is caught by comparing the parent pid: the child then kills itself.
    """
    prctl = _prctl()
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()
    # prctl is variadic over unsigned longs: pass them at their width, built before the fork
    args = (
        ctypes.c_int(_PR_SET_PDEATHSIG),
        ctypes.c_ulong(int(sig)),
        ctypes.c_ulong(0),
        ctypes.c_ulong(0),
        ctypes.c_ulong(0),
    )

    def hook() -> None:
        prctl(*args)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _watch_pipe() -> int:
    """The read end of the harness's watchdog pipe, created once; the write end is never
    written nor closed: only the harness's death closes it."""
    global _pipe
    if _pipe is None:
        _pipe = os.pipe()  # both ends close-on-exec: no child inherits the write end
    return _pipe[0]


def guard_group(pgid: int) -> subprocess.Popen[bytes] | None:
    """Start a watchdog in process group `pgid` that kills the group when the harness dies.

    The group must be in the harness's session (started with `process_group=0`). Returns None
    when the group is already gone (its leader exited at once: nothing left to guard).
    """
    with _lock:
        _reap_finished()
        try:
            guard = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG_SOURCE],
                stdin=_watch_pipe(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                process_group=pgid,
            )
        except OSError:
            return None
        _guards[pgid] = guard
        return guard


def release_group(pgid: int) -> None:
    """Reap the watchdog of `pgid` after the group was signalled (`signal_group`); kill it first
    if the group's SIGKILL missed it (a group signalled with SIGTERM only)."""
    with _lock:
        guard = _guards.pop(pgid, None)
    if guard is None:
        return
    if guard.poll() is None:
        guard.kill()
    try:
        guard.wait(_REAP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass


def _reap_finished() -> None:
    for pgid, guard in list(_guards.items()):
        if guard.poll() is not None:
            del _guards[pgid]


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
