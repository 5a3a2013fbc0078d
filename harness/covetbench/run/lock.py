"""The machine-wide benchmark lock and deferred signals: what every command that loads the
machine (run, the gate's A/B run, soak, fuzz) holds while it measures.

Two benchmarks at once would each measure the other; cleanup cut short by Ctrl-C would leave
servers behind.

    with bench_lock(LOCK_PATH, note=print):
        ...
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

#: the machine-wide benchmark lock (`COVETBENCH_LOCK` names another file, e.g. in tests)
LOCK_PATH = Path(os.environ.get("COVETBENCH_LOCK") or "/tmp/covet-bench.lock")


def _silent(message: str) -> None:
    """No one to tell."""


@contextlib.contextmanager
def bench_lock(path: Path | None, note: Callable[[str], None] = _silent) -> Iterator[None]:
    """Hold the machine-wide benchmark lock: two runs never load the machine at once."""
    if path is None:
        yield
        return
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note(f"waiting for another benchmark to finish (lock {path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT / SIGTERM until the block is done (cleanup that must not be cut short)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only ever handled on the main thread
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
