"""granian (Rust HTTP core) serving the app through its ASGI interface, WebSockets on."""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter
from covetbench.servers.base import AppTarget, ServerOptions


class GranianServer(CLIServerAdapter):
    """granian `--interface asgi` on uvloop, one runtime thread per worker, log level warning.

    granian's access log is off by default; `--no-access-log` is passed anyway so the command
    line says it.
    """

    name = "granian"
    distribution = "granian"
    module = "granian"
    defaults: ClassVar[dict[str, Any]] = {
        "interface": "asgi",
        "http": "auto",
        "loop": "uvloop",
        "runtime_threads": 1,
        "ws": True,
        "log_level": "warning",
    }

    def arguments(
        self,
        app: AppTarget,
        host: str,
        port: int,
        options: ServerOptions,
        settings: dict[str, Any],
    ) -> list[str]:
        return [
            "--interface",
            str(settings["interface"]),
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--http",
            str(settings["http"]),
            "--loop",
            str(settings["loop"]),
            "--runtime-threads",
            str(settings["runtime_threads"]),
            "--ws" if settings["ws"] else "--no-ws",
            "--log-level",
            str(settings["log_level"]),
            "--access-log" if options.access_log else "--no-access-log",
            app.import_string,
        ]
