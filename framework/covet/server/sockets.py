"""The listening socket: a TCP port, a Unix domain socket, or one inherited from a supervisor.

    sock = listen_socket(config)      # --host/--port, --uds PATH or --fd N

An inherited socket comes from whoever started covet: `--fd N`, or systemd socket activation,
which passes its sockets from fd 3 on and sets `LISTEN_PID` to our pid and `LISTEN_FDS` to
their count (sd_listen_fds(3)); covet takes fd 3 then, unless `--uds` or `--fd` says otherwise.
With `--workers`, a TCP port is bound by every worker (SO_REUSEPORT); a Unix or inherited socket
is opened once by the supervisor and shared by the workers it forks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import stat

from covet.server.config import ServerConfig
from covet.server.exceptions import StartupError

__all__ = [
    "bind_socket",
    "describe",
    "listen_socket",
    "reserve_port",
    "shared_socket_wanted",
    "systemd_fd",
]

SD_LISTEN_FDS_START = 3


def systemd_fd() -> int | None:
    """fd 3 when systemd passed this very process its sockets (LISTEN_PID is our pid)."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    count = os.environ.get("LISTEN_FDS", "")
    return SD_LISTEN_FDS_START if count.isdigit() and int(count) >= 1 else None


def shared_socket_wanted(config: ServerConfig) -> bool:
    """Whether the workers share one socket opened by the supervisor (not a TCP port)."""
    return config.uds is not None or config.fd is not None or systemd_fd() is not None


def listen_socket(config: ServerConfig) -> socket.socket:
    """The socket `config` asks for, listening and non-blocking; `StartupError` names what
    could not be opened."""
    if config.uds is not None:
        return bind_unix(config.uds, config.backlog)
    fd = config.fd if config.fd is not None else systemd_fd()
    if fd is not None:
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)  # for us only: not for any process we start
        return inherited_socket(fd)
    return bind_socket(config)


def bind_socket(config: ServerConfig, *, listen: bool = True) -> socket.socket:
    """A non-blocking TCP socket for `config.host:config.port`, listening unless `listen` is
    False (`reserve_port`)."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if config.reuse_port or config.workers > 1:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((config.host, config.port))
        if listen:
            sock.listen(config.backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {config.host}:{config.port}: {exc}") from exc
    return sock


def reserve_port(config: ServerConfig) -> socket.socket:
    """A TCP socket bound to `config.host:config.port` (SO_REUSEPORT) but never listening.

    The supervisor holds it while its workers bind the same port: binding fails at once,
    in the parent, when the port is taken; port 0 is resolved to the one port every worker
    binds; and the port stays reserved while workers restart. Because it never listens, the
    kernel routes no connection to it: a listening parent socket, even for the moment
    before it is closed, would accept a client's connection that nobody ever answers.
    """
    return bind_socket(dataclasses.replace(config, reuse_port=True), listen=False)


def bind_unix(path: str, backlog: int) -> socket.socket:
    """A listening Unix socket at `path`, replacing a stale socket file (never another file).

    The socket is made read-write for everyone (0o666, as uvicorn and gunicorn do): who may
    connect is decided by the permissions of the directory holding it.
    """
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise StartupError(f"--uds {path}: exists and is not a socket")
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, 0o666)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise StartupError(f"--uds {path}: cannot listen: {exc}") from exc
    return sock


def inherited_socket(fd: int) -> socket.socket:
    """The listening stream socket at file descriptor `fd`, which we now own."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise StartupError(f"--fd {fd}: not an open socket: {exc}") from exc
    try:
        listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    except OSError:
        listening = 0
    if sock.type != socket.SOCK_STREAM or not listening:
        sock.detach()  # not ours to close: the caller may still need it
        raise StartupError(f"--fd {fd}: not a listening stream socket")
    sock.setblocking(False)
    return sock


def describe(sock: socket.socket, scheme: str) -> str:
    """Where `sock` listens, for the start-up log line: `https://127.0.0.1:8443`, `unix:/run/x`."""
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        return f"unix:{name or '(unnamed)'}"
    host = f"[{name[0]}]" if sock.family == socket.AF_INET6 else name[0]
    return f"{scheme}://{host}:{name[1]}"
