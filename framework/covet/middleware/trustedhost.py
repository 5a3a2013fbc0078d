"""TrustedHost: refuse requests whose Host header names a host this app does not serve.

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])

Guards against Host-header attacks (poisoned password-reset links, cache poisoning). A pattern
is an exact host or `*.domain` (any subdomain, not the domain itself); `"*"` allows everything.
Ports are ignored. A bad host gets `400 Invalid host header`; on a WebSocket the handshake is
refused (a 400 through the denial-response extension when the server offers it, else a close,
which servers turn into 403). With `www_redirect` (the default), a request for `example.com`
when only `www.example.com` is allowed is redirected there instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from covet._asgi import ASGIApp, Receive, Scope, Send, get_header, send_plain
from covet.exceptions import ConfigurationError

_DENIAL_EXTENSION = "websocket.http.response"


def _split_host(host_header: str) -> str:
    """The host part of a Host header value, lowercase, without port or IPv6 brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class TrustedHostMiddleware:
    """Allow only requests whose Host matches `allowed_hosts`."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] = ("*",),
        www_redirect: bool = True,
    ) -> None:
        if isinstance(allowed_hosts, str):
            raise ConfigurationError("allowed_hosts takes a list of host patterns, not a str")
        for pattern in allowed_hosts:
            if "*" in pattern and pattern != "*" and not pattern.startswith("*."):
                raise ConfigurationError(
                    f"host pattern {pattern!r}: a wildcard only works as a prefix, as in "
                    "'*.example.com'"
                )
            if pattern.startswith("*.") and "*" in pattern[2:]:
                raise ConfigurationError(f"host pattern {pattern!r}: one leading wildcard only")
        self.app = app
        self.allow_any = "*" in allowed_hosts
        self.exact = frozenset(p.lower() for p in allowed_hosts if not p.startswith("*"))
        self.suffixes = tuple(p[1:].lower() for p in allowed_hosts if p.startswith("*."))
        self.www_redirect = www_redirect

    def is_allowed(self, host: str) -> bool:
        """Whether `host` (no port) is one this app serves."""
        return self.allow_any or host in self.exact or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = get_header(scope["headers"], b"host")
        host_header = raw.decode("latin-1") if raw is not None else ""
        host = _split_host(host_header)
        if host and self.is_allowed(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await _refuse_websocket(scope, send)
        elif self.www_redirect and host and f"www.{host}" in self.exact:
            await _redirect_to_www(scope, send, host_header)
        else:
            await send_plain(send, 400, b"Invalid host header")


async def _redirect_to_www(scope: Scope, send: Send, host_header: str) -> None:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    location = f"{scope.get('scheme', 'http')}://www.{host_header.strip()}".encode("latin-1")
    location += raw_path + (b"?" + query if query else b"")
    # 308 keeps the method and body, unlike 301/302.
    await send_plain(send, 308, b"", [(b"location", location)])


async def _refuse_websocket(scope: Scope, send: Send) -> None:
    if _DENIAL_EXTENSION in scope.get("extensions", {}):
        body = b"Invalid host header"
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode("latin-1")),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": ""})
