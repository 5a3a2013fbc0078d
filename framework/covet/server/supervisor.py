"""Several worker processes sharing one port (SO_REUSEPORT), restarted when they die.

    Supervisor(ServerConfig(workers=4), app).run()

The supervisor forks `workers` children, each binding its own SO_REUSEPORT socket (or, for
`--uds` and `--fd`, accepting on the one socket the supervisor opened) and running a `Server`;
the kernel spreads connections across them. It waits for signals with `sigtimedwait`: SIGCHLD
reaps and restarts dead workers (with a back-off when they die right after starting),
SIGTERM/SIGINT are forwarded so every worker shuts down gracefully.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import time

from covet.server.config import ServerConfig
from covet.server.types import ASGIApp

logger = logging.getLogger("covet.server")

_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
_FAST_DEATH_S = 1.0


class Supervisor:
    """Runs and watches `config.workers` worker processes."""

    def __init__(self, config: ServerConfig, app: ASGIApp) -> None:
        self.config = config
        self.app = app
        self.workers: dict[int, float] = {}  # pid -> start time
        self._backoff = 0.0
        self._shared: socket.socket | None = None
        self._reserved: socket.socket | None = None  # the port, bound but not listening

    def run(self) -> None:
        """Start the workers and supervise them until SIGTERM/SIGINT."""
        from covet.server.sockets import listen_socket, reserve_port, shared_socket_wanted
        from covet.server.tls import ssl_context

        ssl_context(self.config)  # a bad certificate fails once, here, not in every worker
        if shared_socket_wanted(self.config):
            # A Unix or inherited socket cannot be bound once per worker: open it here and let
            # every forked worker accept on it.
            self._shared = listen_socket(self.config)
        else:
            # Workers bind the reserved port beside it, so they too need SO_REUSEPORT.
            self._reserved = reserve_port(self.config)
            port = self._reserved.getsockname()[1]
            self.config = dataclasses.replace(self.config, port=port, reuse_port=True)
        try:
            self._supervise()
        finally:
            if self._reserved is not None:
                self._reserved.close()
            if self._shared is not None:
                self._shared.close()
                if self.config.uds is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(self.config.uds)

    def _supervise(self) -> None:
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            for _ in range(self.config.workers):
                self._spawn()
            logger.info("covet supervisor %d: %d workers", os.getpid(), self.config.workers)
            self._watch()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
                if self._reserved is not None:
                    self._reserved.close()  # the parent's: the worker binds its own
                from covet.server.server import Server

                Server(self.config, self.app, self._shared).run()
            except BaseException:
                logger.exception("worker %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        self.workers[pid] = time.monotonic()

    def _watch(self) -> None:
        while True:
            info = signal.sigtimedwait(_SIGNALS, 1.0)
            if info is None:
                continue
            if info.si_signo in (signal.SIGTERM, signal.SIGINT):
                self._stop()
                return
            self._reap_and_restart()

    def _reap_and_restart(self) -> None:
        now = time.monotonic()
        for pid, started in list(self.workers.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                # ECHILD: already reaped elsewhere, so it is gone and its status lost.
                code = -1
            else:
                if not done:
                    continue
                code = os.waitstatus_to_exitcode(status)
            del self.workers[pid]
            logger.warning("worker %d died (exit %d); restarting", pid, code)
            # A worker dying at once would otherwise be restarted in a tight loop.
            self._backoff = min(self._backoff * 2 or 0.1, 5.0) if now - started < 1 else 0.0
            time.sleep(self._backoff)
            self._spawn()

    def _stop(self) -> None:
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.timeout_graceful_shutdown + 5.0
        while self.workers and time.monotonic() < deadline:
            for pid in list(self.workers):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    del self.workers[pid]
            if self.workers:
                signal.sigtimedwait({signal.SIGCHLD}, 0.2)
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        logger.info("covet supervisor stopped")
