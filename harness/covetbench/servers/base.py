"""The server adapter contract: how the harness launches, watches and stops any ASGI server.

An adapter knows one server's command line and version; `launch` is shared: it starts the
command in its own process group (so a Ctrl-C or a crash never leaves a worker behind) that
dies with the harness even when it is SIGKILLed (`covetbench.processes`), pinned with `taskset`
when CPUs are given, polls a TCP connect until the port answers (never a fixed
sleep), and returns a `RunningServer` that stops gracefully (SIGTERM) then forcibly (SIGKILL).

    adapter = get_server("uvicorn")
    with adapter.launch(AppTarget("raw", "apps.raw:app", scenarios_dir), ServerOptions()) as srv:
        httpx.get(srv.base_url + "/plaintext")
"""

from __future__ import annotations

import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from covetbench.apps import AppTarget as AppTarget  # the adapters take it; re-exported
from covetbench.exceptions import ServerStartError, UsageError
from covetbench.processes import die_with_parent, guard_group, pinned, release_group, signal_group
from covetbench.servers.tls import TLSFiles

READY_TIMEOUT_S = 60.0


@dataclass
class ServerOptions:
    """Options common to every server; adapter-specific ones go in `extra`."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free port
    workers: int = 1
    cpus: list[int] | None = None  # taskset CPU list; None: no pinning
    access_log: bool = False
    #: serve https with this certificate (`servers.tls`); None: plain HTTP
    tls: TLSFiles | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def distribution_version(distribution: str) -> str | None:
    """The installed version of a PyPI distribution, None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def bind_host(host: str) -> str:
    """`host` as it appears in a `host:port` bind string or a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host


def _tcp_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.socket(family, socket.SOCK_STREAM)


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a port nobody is listening on."""
    with _tcp_socket(host) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with _tcp_socket(host) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class RunningServer:
    """A launched server process group. Use as a context manager or call `stop()`."""

    def __init__(
        self,
        adapter: ServerAdapter,
        proc: subprocess.Popen[bytes],
        command: list[str],
        host: str,
        port: int,
        options: ServerOptions,
        log_path: Path,
    ) -> None:
        self.adapter = adapter
        self.proc = proc
        self.command = command
        self.host = host
        self.port = port
        self.options = options
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base_url(self) -> str:
        scheme = "https" if self.options.tls else "http"
        return f"{scheme}://{bind_host(self.host)}:{self.port}"

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url[4:]

    def options_used(self) -> dict[str, Any]:
        """Every option this server ran with, for the results' record."""
        return {
            "server": self.adapter.name,
            "version": self.adapter.version(),
            "command": self.command,
            "workers": self.options.workers,
            "cpus": self.options.cpus,
            "access_log": self.options.access_log,
            "tls": self.options.tls is not None,
            "base_url": self.base_url,
            "settings": self.adapter.settings(self.options),
            **self.options.extra,
        }

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the main process, wait, then the group, then SIGKILL what is left; reap.

        The main process is signalled first so a supervisor can run its own graceful shutdown
        (lifespan.shutdown in its workers); signalling the whole group at once kills workers
        before their supervisor asks them to finish (hypercorn's `-w 1` worker, for one).
        """
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                signal_group(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(1.0)
                except subprocess.TimeoutExpired:
                    pass
        # Workers may outlive their parent: always sweep the group (its watchdog too).
        signal_group(self.proc.pid, signal.SIGKILL)
        release_group(self.proc.pid)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        return self.proc.returncode

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ServerAdapter(ABC):
    """One ASGI server. Subclasses give its name, distribution and command line."""

    #: registry name, e.g. "uvicorn", "uvicorn-h11"
    name: str
    #: PyPI distribution whose version is recorded
    distribution: str
    #: ASGI lifespan support (daphne has none): conformance and verify use it
    supports_lifespan: bool = True
    #: worker processes of its own (`ServerOptions.workers` > 1; daphne has none)
    supports_workers: bool = True
    #: the command-line option that sets the ASGI root path (None: the server has none)
    root_path_option: str | None = "--root-path"
    #: the options that take a certificate file and its key file (None: no TLS, unless
    #: `tls_arguments` is overridden); never assumed, so no server is measured in plain text
    #: by a TLS run because nobody said how it serves TLS
    tls_options: tuple[str, str] | None = None

    @abstractmethod
    def command(self, app: AppTarget, host: str, port: int, options: ServerOptions) -> list[str]:
        """The argv that serves `app` on host:port (without taskset)."""

    def is_installed(self) -> bool:
        return self.version() is not None

    def tls_unsupported(self) -> str | None:
        """Why this server cannot serve https here (None: it can); a `--tls` run skips it
        with this reason rather than measure it in plain text."""
        return None if self.tls_options else f"{self.name} has no TLS options"

    def tls_arguments(self, tls: TLSFiles, host: str, port: int) -> list[str]:
        """The arguments that make it serve https with `tls`."""
        if self.tls_options is None:
            raise UsageError(f"{self.name} cannot serve TLS")
        cert_option, key_option = self.tls_options
        return [cert_option, str(tls.certfile), key_option, str(tls.keyfile)]

    def settings(self, options: ServerOptions) -> dict[str, Any]:
        """Server-specific settings `command` applies (loop, parser...), for the record."""
        return {}

    def version(self) -> str | None:
        return distribution_version(self.distribution)

    def parser(self, options: ServerOptions, log_text: str = "") -> str | None:
        """The HTTP parser this server ran with (None: it has no choice of parser); `log_text`
        is its log, for servers that pick one at start and say which."""
        return None

    def python(self) -> str:
        return sys.executable

    def launch(
        self,
        app: AppTarget,
        options: ServerOptions,
        log_path: Path,
        env: dict[str, str] | None = None,
        ready_timeout: float = READY_TIMEOUT_S,
    ) -> RunningServer:
        """Start the server and return once its port accepts connections."""
        if options.tls and (why := self.tls_unsupported()) is not None:
            raise ServerStartError(f"cannot serve TLS: {why}", "")  # never plain text instead
        host = options.host
        port = options.port
        if port == 0 or port_in_use(host, port):
            port = free_port(host)  # a busy port is not an error: take another
        argv = self.command(app, host, port, options)
        argv = pinned(argv, options.cpus)
        child_env = dict(os.environ if env is None else env)
        if app.pythonpath:
            child_env["PYTHONPATH"] = os.pathsep.join(
                p for p in (app.pythonpath, child_env.get("PYTHONPATH", "")) if p
            )
        child_env.setdefault("PYTHONUNBUFFERED", "1")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env,
                cwd=app.pythonpath or None,
                # own process group (reaped as one) in our session, so a watchdog can join it
                process_group=0,
                preexec_fn=die_with_parent(),
            )
        guard_group(proc.pid)  # the group dies with the harness, even by SIGKILL
        server = RunningServer(self, proc, argv, host, port, options, log_path)
        deadline = time.monotonic() + ready_timeout
        delay = 0.02
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                server.stop()
                raise ServerStartError(
                    f"{self.name} exited with code {proc.returncode} before it was ready",
                    server.log_tail(),
                )
            if port_in_use(host, port):
                return server
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        server.stop()
        raise ServerStartError(
            f"{self.name} did not accept connections on {host}:{port} within {ready_timeout:.0f}s",
            server.log_tail(),
        )
