"""The supervisor's reaping: a worker that is no longer its child (ECHILD) is restarted."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from covet.server.config import ServerConfig
from covet.server.supervisor import Supervisor
from tests.covet.server.conftest import plaintext_app


def test_worker_already_reaped_is_replaced_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real ECHILD: the pid of a child that has been waited for already.
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    supervisor = Supervisor(ServerConfig(workers=1), plaintext_app)
    supervisor.workers[proc.pid] = time.monotonic() - 10  # not a fast death: no back-off
    spawned: list[bool] = []
    monkeypatch.setattr(supervisor, "_spawn", lambda: spawned.append(True))
    supervisor._reap_and_restart()
    assert proc.pid not in supervisor.workers and spawned == [True]
