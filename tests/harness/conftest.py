"""Factory fixtures for harness tests: real servers on free 127.0.0.1 ports, tiny apps written
to a temporary directory, and CPU-burning processes. Everything launched is reaped at teardown.

    def test_x(launch_server, make_app):
        target = make_app("broken", BROKEN_APP_SOURCE)
        server = launch_server("uvicorn", target)
        httpx.get(server.base_url + "/plaintext")
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from covetbench.apps import builtin_apps
from covetbench.servers import AppTarget, RunningServer, ServerAdapter, ServerOptions, get_server

LaunchServer = Callable[..., RunningServer]
MakeApp = Callable[[str, str], AppTarget]
BurnCpu = Callable[..., "subprocess.Popen[bytes]"]

_BURN_SOURCE = "while True:\n    pass\n"


class ArgvServer(ServerAdapter):
    """A stand-in server given as a plain argv, the port appended unless `append_port` is False;
    the app is ignored. `is_installed()` follows `distribution` (an unknown one: not installed).
    """

    def __init__(
        self, name: str, argv: list[str], distribution: str = "covetpy", append_port: bool = True
    ) -> None:
        self.name = name
        self.argv = argv
        self.distribution = distribution
        self.append_port = append_port

    def command(self, app: AppTarget, host: str, port: int, options: ServerOptions) -> list[str]:
        return [*self.argv, str(port)] if self.append_port else list(self.argv)


@pytest.fixture
def launch_server(tmp_path: Path) -> Iterator[LaunchServer]:
    """Factory: `launch_server(server="uvicorn", app="raw", **ServerOptions fields)`.

    `app` is a built-in app name or an AppTarget. The server log goes to `tmp_path/logs/`.
    """
    started: list[RunningServer] = []

    def launch(
        server: str = "uvicorn", app: str | AppTarget = "raw", **options: Any
    ) -> RunningServer:
        adapter = get_server(server)
        if not adapter.is_installed():
            pytest.skip(f"server {server!r} is not installed")
        target = builtin_apps()[app] if isinstance(app, str) else app
        log = tmp_path / "logs" / f"{server}-{target.name}-{len(started)}.log"
        running = adapter.launch(target, ServerOptions(**options), log)
        started.append(running)
        return running

    yield launch
    for running in started:
        running.stop()


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    """Factory: `make_app(name, source)` writes `source` (dedented) as module `name` in a
    fresh directory and returns `AppTarget(name, f"{name}:app", that_dir)`."""

    def make(name: str, source: str) -> AppTarget:
        directory = tmp_path / "apps" / name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}.py").write_text(textwrap.dedent(source))
        return AppTarget(name, f"{name}:app", str(directory))

    return make


@pytest.fixture
def burn_cpu() -> Iterator[BurnCpu]:
    """Factory: `burn_cpu(cpus=None)` starts a Python busy loop (pinned with taskset when
    `cpus` is given) and returns its Popen; killed and reaped at teardown."""
    procs: list[subprocess.Popen[bytes]] = []

    def burn(cpus: list[int] | None = None) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-c", _BURN_SOURCE]
        if cpus:
            argv = ["taskset", "-c", ",".join(str(c) for c in cpus), *argv]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        procs.append(proc)
        return proc

    yield burn
    for proc in procs:
        proc.kill()
        proc.wait()
