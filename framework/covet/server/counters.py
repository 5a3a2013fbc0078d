"""The server's own counters: plain integers bumped on the rare paths (a new connection, a
keep-alive reuse, a parse error, a timeout, a 503 from the connection limit), read when
something asks (`covet.middleware.MetricsMiddleware` renders them at `/metrics`).

Nothing here runs per request on the common path: a keep-alive reuse is counted where an idle
connection wakes, which the protocol already tests for. Counts are per worker process, as the
Prometheus client's are without its multiprocess mode: scrape each worker, or sum them.

The server hands the object to the app in the lifespan scope, as
`scope["extensions"]["covet.server.counters"]`, so middleware that wants it asks nothing of the
request path either.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["EXTENSION", "ServerCounters", "TIMEOUT_KINDS"]

EXTENSION = "covet.server.counters"
TIMEOUT_KINDS = ("header", "body", "keep_alive", "ws_handshake", "ws_ping")


class ServerCounters:
    """Totals since the process started; `open_connections()` is read live."""

    __slots__ = (
        "connections",
        "keepalive_reuses",
        "parse_errors",
        "timeouts",
        "rejected",
        "open_connections",
    )

    def __init__(self, open_connections: Callable[[], int] = lambda: 0) -> None:
        self.connections = 0
        self.keepalive_reuses = 0
        self.parse_errors: dict[int, int] = {}  # by the status answered (400, 413, 431, ...)
        self.timeouts = dict.fromkeys(TIMEOUT_KINDS, 0)
        self.rejected = 0  # requests answered 503 by --limit-concurrency
        self.open_connections = open_connections

    def parse_error(self, status: int) -> None:
        self.parse_errors[status] = self.parse_errors.get(status, 0) + 1

    def timeout(self, kind: str) -> None:
        self.timeouts[kind] += 1
