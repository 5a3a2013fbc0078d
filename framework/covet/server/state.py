"""State shared by every connection of one server process: clocks, limits, live connections."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from covet.server.config import ServerConfig
from covet.server.counters import ServerCounters
from covet.server.parsers import get_parser_class
from covet.server.parsers.base import ParserLimits
from covet.server.proxy_headers import ProxyHeadersMiddleware, parse_networks
from covet.server.types import ASGIApp

if TYPE_CHECKING:
    import asyncio

    from covet.server.parsers import RequestParser


class Connection:
    """What the server's ticker and shutdown need from a live connection."""

    deadline: float

    def on_timeout(self) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


class ServerState:
    """Per-process server state; `tick()` runs once a second (Date header, deadlines)."""

    def __init__(
        self,
        config: ServerConfig,
        app: ASGIApp,
        parser_class: type[RequestParser],
        limits: ParserLimits,
    ) -> None:
        self.config = config
        self.app = app
        self.parser_class = parser_class
        self.limits = limits
        self.connections: set[Connection] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.lifespan_state: dict[str, Any] = {}
        self.in_flight = 0
        self.total_requests = 0
        self.shutting_down = False
        self.scheme = "https" if config.ssl_certfile else "http"
        self.counters = ServerCounters(lambda: len(self.connections))
        self.now = time.monotonic()
        self.default_headers = b""
        self.tick()

    @classmethod
    def from_config(cls, config: ServerConfig, app: ASGIApp) -> ServerState:
        """The state of a server process serving `app` as `config` says (parser and limits)."""
        limits = ParserLimits(config.max_request_line, config.max_header_size, config.max_body)
        if config.proxy_headers:
            app = ProxyHeadersMiddleware(app, parse_networks(config.forwarded_allow_ips))
        return cls(config, app, get_parser_class(config.http_impl()), limits)

    def tick(self) -> None:
        """Refresh the cached clock and `Date`/`Server` header bytes; expire idle connections."""
        self.now = now = time.monotonic()
        date = formatdate(usegmt=True).encode("ascii")
        server = b"server: covet\r\n" if self.config.server_header else b""
        self.default_headers = b"date: " + date + b"\r\n" + server
        self.tick_connections(now)

    def tick_connections(self, now: float) -> None:
        """Call `on_timeout` on every connection whose deadline is before `now`."""
        expired = [c for c in self.connections if 0 < c.deadline < now]
        for conn in expired:
            conn.on_timeout()
