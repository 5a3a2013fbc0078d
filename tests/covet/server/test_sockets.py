"""`--uds PATH`, `--fd N` and systemd socket activation (LISTEN_FDS), each alone and with
`--workers 2`: real Unix-socket clients, sockets inherited from this test process."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.covet.server.deploy_support import (
    covet_command,
    http_ready,
    launch,
    start_error,
)


def _uds_ready(path: Path) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(str(path))
            return True
        except OSError:
            return False

    return ready


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@pytest.mark.parametrize("workers", ["1", "2"])
def test_unix_socket(tmp_path: Path, workers: str) -> None:
    path = tmp_path / "covet.sock"
    path.touch()  # a stale file that is not a socket is refused, never deleted
    code, err = start_error("scope_app", "--uds", str(path))
    assert code == 1 and f"--uds {path}: exists and is not a socket" in err, err
    path.unlink()
    with launch(
        "scope_app", "--uds", str(path), "--workers", workers, ready=_uds_ready(path)
    ) as served:
        assert path.stat().st_mode & 0o777 == 0o666
        transport = httpx.HTTPTransport(uds=str(path))
        pids = set()
        for _ in range(6):
            with httpx.Client(transport=transport) as client:
                seen = client.get("http://covet/a").json()
            assert seen["client"] is None and seen["scheme"] == "http"
            pids.add(seen["pid"])
        assert served.proc.pid not in pids or workers == "1"
        os.killpg(served.proc.pid, signal.SIGTERM)
        assert served.proc.wait(timeout=20) == 0
    assert not path.exists()  # removed by whoever created it


@pytest.mark.parametrize("workers", ["1", "2"])
def test_inherited_fd(workers: str) -> None:
    with _listening_socket() as sock:
        fd = sock.fileno()
        port = sock.getsockname()[1]
        with launch(
            "scope_app",
            "--fd",
            str(fd),
            "--workers",
            workers,
            pass_fds=(fd,),
            ready=http_ready(f"http://127.0.0.1:{port}/"),
        ):
            sock.close()  # the server's copy alone keeps it open now
            for _ in range(3):
                answer = httpx.get(f"http://127.0.0.1:{port}/b")
                assert answer.json()["path"] == "/b"


def test_systemd_socket_activation() -> None:
    """As systemd does it: the socket at fd 3, LISTEN_PID the server's own pid, LISTEN_FDS=1."""
    with _listening_socket() as sock:
        fd = sock.fileno()
        port = sock.getsockname()[1]
        inner = covet_command("scope_app", "--no-access-log", "--workers", "2")
        # What systemd does between fork and exec (exec keeps the pid LISTEN_PID names).
        script = (
            f"import os; os.dup2({fd}, 3); os.environ['LISTEN_PID'] = str(os.getpid()); "
            f"os.environ['LISTEN_FDS'] = '1'; os.execv({inner[0]!r}, {inner!r})"
        )
        with launch(
            "scope_app",
            command=[sys.executable, "-c", script],
            pass_fds=(fd,),
            ready=http_ready(f"http://127.0.0.1:{port}/"),
        ):
            sock.close()
            assert httpx.get(f"http://127.0.0.1:{port}/c").json()["path"] == "/c"


def test_fd_that_is_not_a_listening_socket_is_refused(tmp_path: Path) -> None:
    code, err = start_error("scope_app", "--fd", "987")
    assert code == 1 and "--fd 987: not an open socket" in err, err
    code, err = start_error("scope_app", "--fd", "1", "--workers", "2")  # stdout: a pipe
    assert code == 1 and "--fd 1: not" in err, err
    code, err = start_error("scope_app", "--fd", "3", "--uds", str(tmp_path / "s"))
    assert code == 1 and "exclusive" in err, err
