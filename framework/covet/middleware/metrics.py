"""Prometheus metrics for an app and for covet's server, at `/metrics`, stdlib only.

    app.add_middleware(MetricsMiddleware)                  # GET /metrics
    app.add_middleware(MetricsMiddleware, path="/-/metrics", buckets=(0.01, 0.1, 1.0))

Requests are labelled by method, status and ROUTE TEMPLATE (`/users/{id:int}`, never the raw
path: one series per route, not one per user id; a request no route matched is labelled
`unmatched_label`). Exposed, in the text format Prometheus scrapes:

- `covet_http_requests_total{method,route,status}`, `covet_http_request_duration_seconds`
  (histogram by method and route), `covet_http_requests_in_flight`;
- `covet_websocket_connections` (open now) and `covet_websocket_connections_total`;
- under covet's server, its own counters (read at scrape time, so free per request):
  `covet_server_connections_total`, `covet_server_open_connections`,
  `covet_server_keepalive_reuses_total`, `covet_server_parse_errors_total{status}`,
  `covet_server_timeouts_total{kind}`, `covet_server_limit_rejections_total` (503s from
  `--limit-concurrency`). The server hands them over in the lifespan scope, so they appear when
  lifespan runs (`--lifespan auto`, the default, or `on`).

Each worker process keeps its own numbers (as prometheus_client does outside its multiprocess
mode): scrape each worker (e.g. one port each) or accept per-scrape sampling of one worker.
Requests for the metrics path itself are not counted. Put the middleware outermost to time
everything; keep `/metrics` off the public internet (the deployment guide's nginx config
serves it only to the local network).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from covet._asgi import ASGIApp, Message, Receive, Scope, Send
from covet._prometheus import CONTENT_TYPE, DEFAULT_BUCKETS, Registry, Sample

if TYPE_CHECKING:
    from covet.server.counters import ServerCounters

__all__ = ["MetricsMiddleware"]


class MetricsMiddleware:
    """Count and time every request and WebSocket; serve the registry at `path`."""

    def __init__(
        self,
        app: ASGIApp,
        path: str = "/metrics",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        unmatched_label: str = "unmatched",
        registry: Registry | None = None,
    ) -> None:
        self.app = app
        self.path = path
        self.unmatched = unmatched_label
        self.registry = registry = registry or Registry()
        self.requests = registry.counter(
            "covet_http_requests_total", "HTTP requests answered.", ("method", "route", "status")
        )
        self.latency = registry.histogram(
            "covet_http_request_duration_seconds",
            "Time from the request to the end of the response.",
            ("method", "route"),
            buckets,
        )
        self.in_flight = registry.gauge(
            "covet_http_requests_in_flight", "HTTP requests being handled now."
        )
        self.websockets = registry.gauge(
            "covet_websocket_connections", "WebSocket connections open now."
        )
        self.websockets_total = registry.counter(
            "covet_websocket_connections_total", "WebSocket connections accepted."
        )
        self.server: ServerCounters | None = None
        registry.collectors.append(self._server_samples)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"] == self.path:
                await self._serve_metrics(scope, send)
            else:
                await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            if kind == "lifespan":
                self._find_server_counters(scope)
            await self.app(scope, receive, send)

    def _find_server_counters(self, scope: Scope) -> None:
        extensions = scope.get("extensions") or {}
        if not extensions:
            return
        # Imported here, once, so that `import covet` does not import the server.
        from covet.server.counters import EXTENSION, ServerCounters

        counters = extensions.get(EXTENSION)
        if isinstance(counters, ServerCounters):
            self.server = counters

    def _route(self, scope: Scope) -> str:
        path = getattr(scope.get("route"), "path", None)
        return path if isinstance(path, str) else self.unmatched

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500  # what the client gets when the app fails before answering
        started = time.perf_counter()
        in_flight = self.in_flight
        in_flight.inc()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            in_flight.inc(amount=-1)
            method = scope["method"]
            route = self._route(scope)
            self.requests.inc((method, route, str(status)))
            self.latency.observe(time.perf_counter() - started, (method, route))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        async def send_accept(message: Message) -> None:
            nonlocal accepted
            await send(message)
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.websockets.inc()
                self.websockets_total.inc()

        try:
            await self.app(scope, receive, send_accept)
        finally:
            if accepted:
                self.websockets.inc(amount=-1)

    async def _serve_metrics(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            headers = [(b"allow", b"GET, HEAD"), (b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": 405, "headers": headers})
            await send({"type": "http.response.body", "body": b"Method Not Allowed"})
            return
        body = self.registry.render().encode()
        headers = [(b"content-type", CONTENT_TYPE.encode()), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    def _server_samples(self) -> Iterable[Sample]:
        server = self.server
        if server is None:
            return []
        none: tuple[tuple[str, str], ...] = ()

        def single(name: str, kind: str, help: str, value: float) -> Sample:
            return (name, kind, help, [("", none, value)])

        by_status: list[tuple[str, Any, float]] = [
            ("", (("status", str(code)),), count)
            for code, count in sorted(server.parse_errors.items())
        ]
        by_kind: list[tuple[str, Any, float]] = [
            ("", (("kind", kind),), count) for kind, count in server.timeouts.items()
        ]
        return [
            single(
                "covet_server_connections_total",
                "counter",
                "Connections accepted.",
                server.connections,
            ),
            single(
                "covet_server_open_connections",
                "gauge",
                "Connections open now.",
                server.open_connections(),
            ),
            single(
                "covet_server_keepalive_reuses_total",
                "counter",
                "Idle keep-alive connections that carried another request.",
                server.keepalive_reuses,
            ),
            (
                "covet_server_parse_errors_total",
                "counter",
                "Requests refused as unparseable, by the status answered.",
                by_status,
            ),
            ("covet_server_timeouts_total", "counter", "Connections timed out, by kind.", by_kind),
            single(
                "covet_server_limit_rejections_total",
                "counter",
                "Requests answered 503 by --limit-concurrency.",
                server.rejected,
            ),
        ]
