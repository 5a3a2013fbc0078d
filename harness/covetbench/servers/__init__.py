"""Server adapters by name: every ASGI server the harness can launch.

    server = get_server("uvicorn")
    server.is_installed(), server.version()
    with server.launch(app, ServerOptions(workers=2), log_path) as running:
        running.base_url, running.options_used()

`SERVERS` keeps a stable order (the order of `server_names()`); add a server by writing an
adapter module and one entry here.
"""

from __future__ import annotations

from typing import Any

from covetbench.exceptions import UnknownNameError
from covetbench.servers.base import (
    AppTarget,
    RunningServer,
    ServerAdapter,
    ServerOptions,
    free_port,
)
from covetbench.servers.covet import CovetPythonServer, CovetServer
from covetbench.servers.daphne import DaphneServer
from covetbench.servers.granian import GranianServer
from covetbench.servers.hypercorn import HypercornServer
from covetbench.servers.uvicorn import UvicornH11Server, UvicornServer

__all__ = [
    "servers_meta",
    "SERVERS",
    "AppTarget",
    "RunningServer",
    "ServerAdapter",
    "ServerOptions",
    "free_port",
    "get_server",
    "server_names",
]

SERVERS: dict[str, ServerAdapter] = {
    adapter.name: adapter
    for adapter in (
        UvicornServer(),
        UvicornH11Server(),
        HypercornServer(),
        GranianServer(),
        DaphneServer(),
        CovetServer(),
        CovetPythonServer(),
    )
}


def get_server(name: str) -> ServerAdapter:
    """The adapter called `name`; UnknownNameError lists the valid names."""
    try:
        return SERVERS[name]
    except KeyError:
        raise UnknownNameError("server", name, SERVERS) from None


def servers_meta(names: list[str], options: ServerOptions) -> dict[str, dict[str, Any]]:
    """What a run records of each server it launches (`meta["server_options"]`): version,
    workers, pinning, access log, TLS and the adapter's own settings."""
    described = {}
    for name in names:
        adapter = get_server(name)
        described[name] = {
            "version": adapter.version(),
            "workers": options.workers,
            "cpus": options.cpus,
            "access_log": options.access_log,
            "tls": options.tls is not None,
            "settings": adapter.settings(options),
        }
    return described


def server_names() -> list[str]:
    return list(SERVERS)
