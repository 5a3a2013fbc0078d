"""uvicorn: `uvicorn` runs httptools + uvloop (its `[standard]` production setup);
`uvicorn-h11` swaps only the parser for the pure-Python h11, keeping uvloop, so the pair
isolates the parser's cost.
"""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter, Invocation
from covetbench.servers.base import ServerOptions


class UvicornServer(CLIServerAdapter):
    """uvicorn with uvloop and httptools, no access log, log level warning."""

    name = "uvicorn"
    distribution = "uvicorn"
    module = "uvicorn"
    tls_options = ("--ssl-certfile", "--ssl-keyfile")
    defaults: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "auto",
        "lifespan": "auto",
        "log_level": "warning",
    }

    def parser(self, options: ServerOptions, log_text: str = "") -> str | None:
        return str(self.settings(options)["http"])

    def arguments(self, run: Invocation) -> list[str]:
        return [
            run.app.import_string,
            *run.bind_options(),
            *run.long_options("loop", "http", "ws", "lifespan", "log_level"),
            run.access_log_switch(),
        ]


class UvicornH11Server(UvicornServer):
    """uvicorn with the pure-Python h11 parser (still on uvloop)."""

    name = "uvicorn-h11"
    defaults: ClassVar[dict[str, Any]] = {**UvicornServer.defaults, "http": "h11"}
