"""`--inject-stall SECONDS@AT`: freeze the server for SECONDS, AT seconds into a trial.

The self-test of a latency method, as in wrk2's README: stop the server's whole process tree
with SIGSTOP, resume it with SIGCONT, and look at the tail. A method free of coordinated
omission must show the stall (at 1,000 req/s, a 1 s stall in a 10 s trial is ~10 % of the
requests delayed by up to 1 s: a p99 of several hundred ms); a closed loop stops sending while
the server is frozen and its p99 hardly moves.

AT is counted from the moment the load generator is started (the runner enters the injector
right before it calls the driver): the open-loop generator spends a few hundred ms spawning its
processes and connecting before its window opens, so keep AT well inside the trial. Whatever
happens (the trial ends early, an exception, Ctrl-C), every process stopped is sent SIGCONT on
the way out. What was done goes into the trial record (`TrialRecord.stall`).

    with StallInjector(StallSpec.parse("1@3"), server.pid) as stall:
        result = driver.run(request)
    stall.record()   # {"seconds": 1.0, "at_s": 3.0, "stopped": True, "processes": 1, ...}
"""

from __future__ import annotations

import re
import signal
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from covetbench.exceptions import UsageError
from covetbench.processes import ProcessTree

_SPEC = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*@\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class StallSpec:
    """Stop the server for `seconds`, `at_s` seconds after the generator starts."""

    seconds: float
    at_s: float

    @classmethod
    def parse(cls, text: str) -> StallSpec:
        """`"1@3"` -> stop for 1 s at 3 s; UsageError on anything else."""
        found = _SPEC.match(text)
        if not found or float(found.group(1)) <= 0:
            raise UsageError(
                f"--inject-stall {text!r}: expected SECONDS@AT with SECONDS > 0, e.g. 1@3"
            )
        return cls(seconds=float(found.group(1)), at_s=float(found.group(2)))


class StallInjector:
    """A context manager that stops and resumes a process tree on a timer thread.

    `spec` None makes it a no-op whose `record()` is None, so the runner calls it the same way
    with or without `--inject-stall`.
    """

    def __init__(self, spec: StallSpec | None, pid: int) -> None:
        self.spec = spec
        self.tree = ProcessTree(pid)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped: list[Any] = []
        self._stopped_count = 0
        self._stopped_for_s: float | None = None
        self._error: str | None = None

    def __enter__(self) -> StallInjector:
        if self.spec is not None:
            self._thread = threading.Thread(target=self._run, name="stall", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join()
        self._resume()  # the thread resumes on its own; this covers a thread that died

    def _run(self) -> None:
        assert self.spec is not None
        if self._cancel.wait(self.spec.at_s):
            return  # the trial ended before the stall was due
        import psutil

        started = time.monotonic()
        with self._lock:
            for proc in self.tree.members():
                try:
                    proc.send_signal(signal.SIGSTOP)
                except psutil.Error as exc:
                    self._error = f"SIGSTOP {proc.pid}: {exc}"
                else:
                    self._stopped.append(proc)
            self._stopped_count = len(self._stopped)
        self._cancel.wait(self.spec.seconds)
        self._resume()
        if self._stopped_count:
            self._stopped_for_s = round(time.monotonic() - started, 4)

    def _resume(self) -> None:
        import psutil

        with self._lock:
            for proc in self._stopped:
                try:
                    proc.send_signal(signal.SIGCONT)
                except psutil.Error as exc:
                    self._error = f"SIGCONT {proc.pid}: {exc}"
            self._stopped.clear()

    def record(self) -> dict[str, Any] | None:
        """What was done, for `TrialRecord.stall`; None without a stall."""
        if self.spec is None:
            return None
        return {
            "seconds": self.spec.seconds,
            "at_s": self.spec.at_s,
            "stopped": self._stopped_count > 0,
            "processes": self._stopped_count,
            "stopped_for_s": self._stopped_for_s,
            "error": self._error,
        }
