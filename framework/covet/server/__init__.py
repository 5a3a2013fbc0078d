"""covet's own HTTP/1.1 + WebSocket ASGI server (stdlib only; httptools/uvloop when installed).

    from covet.server import run
    run("myapp:app", port=8000, workers=2)   # or run(app_object, ...)

Command line: `covet serve myapp:app --port 8000` (see `covet serve --help`).
"""

from __future__ import annotations

from typing import Any

from covet.server.config import ServerConfig, load_app
from covet.server.exceptions import (
    ConnectionClosedError,
    ServerConfigError,
    ServerError,
    StartupError,
)
from covet.server.types import ASGIApp


def run(app: ASGIApp | str, **options: Any) -> None:
    """Serve `app` (an ASGI 3 callable or a `module:attr` string) until SIGTERM/SIGINT.

    Keyword options are the fields of `ServerConfig` (host, port, workers, http, loop, ...).
    """
    config = ServerConfig(**options)
    if config.reload:
        if not isinstance(app, str):
            raise ServerConfigError("reload needs the app as a 'module:attr' string")
        from covet.server.reload import Reloader

        Reloader(app, config).run()
        return
    target = load_app(app) if isinstance(app, str) else app
    if config.workers > 1:
        from covet.server.supervisor import Supervisor

        Supervisor(config, target).run()
    else:
        from covet.server.server import Server

        Server(config, target).run()


__all__ = [
    "ConnectionClosedError",
    "ServerConfigError",
    "ServerConfig",
    "ServerError",
    "StartupError",
    "run",
]
