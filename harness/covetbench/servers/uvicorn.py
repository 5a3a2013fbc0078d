"""uvicorn: `uvicorn` runs httptools + uvloop (its `[standard]` production setup);
`uvicorn-h11` swaps only the parser for the pure-Python h11, keeping uvloop, so the pair
isolates the parser's cost.
"""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter
from covetbench.servers.base import AppTarget, ServerOptions


class UvicornServer(CLIServerAdapter):
    """uvicorn with uvloop and httptools, no access log, log level warning."""

    name = "uvicorn"
    distribution = "uvicorn"
    module = "uvicorn"
    defaults: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "auto",
        "lifespan": "auto",
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
            app.import_string,
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--loop",
            str(settings["loop"]),
            "--http",
            str(settings["http"]),
            "--ws",
            str(settings["ws"]),
            "--lifespan",
            str(settings["lifespan"]),
            "--log-level",
            str(settings["log_level"]),
            "--access-log" if options.access_log else "--no-access-log",
        ]


class UvicornH11Server(UvicornServer):
    """uvicorn with the pure-Python h11 parser (still on uvloop)."""

    name = "uvicorn-h11"
    defaults: ClassVar[dict[str, Any]] = {**UvicornServer.defaults, "http": "h11"}
