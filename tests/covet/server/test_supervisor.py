"""The supervisor's port reservation and reaping (a worker that is no longer its child)."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time

import pytest

from covet.server.config import ServerConfig
from covet.server.exceptions import StartupError
from covet.server.sockets import bind_socket, reserve_port
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


def test_the_reserved_port_refuses_connections_and_workers_can_bind_it() -> None:
    # The supervisor's socket must never accept: a connection queued on it is never answered
    # (a client saw "connection refused" from the workers after the parent had accepted it).
    config = ServerConfig(port=0, workers=2)
    reserved = reserve_port(config)
    try:
        port = reserved.getsockname()[1]
        assert port != 0
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        worker = bind_socket(ServerConfig(port=port, workers=2))  # SO_REUSEPORT beside it
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        finally:
            worker.close()
    finally:
        reserved.close()


def test_a_taken_port_fails_at_the_reservation() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError) as info:
            reserve_port(ServerConfig(port=port, workers=2))
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.EADDRINUSE
