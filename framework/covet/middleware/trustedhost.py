"""TrustedHost: refuse requests whose Host header names a host this app does not serve.

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])

Guards against Host-header attacks (poisoned password-reset links, cache poisoning). A pattern
is an exact host or `*.domain` (any subdomain, not the domain itself); `"*"` allows everything.
Ports are ignored. A bad host gets `400 Invalid host header`; on a WebSocket the handshake is
refused (a 400 through the denial-response extension when the server offers it, else a close,
which servers turn into 403). With `www_redirect` (the default), a request for `example.com`
when only `www.example.com` is allowed is redirected there instead.

The Host header is checked here, not left to the server: uvicorn, for one, passes it on as
sent. Only a DNS name or IPv4 address (letters, digits, `-`, `_`, dot-separated), or an IPv6
address in brackets, with an optional numeric port, is a host; anything else (`evil.com/.a.com`,
`a.com:443@evil.example`, spaces, `%`) gets the 400 whatever the patterns say, and the www
redirect is built from the parsed host and port alone, never from the raw header.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import quote

from covet._asgi import ASGIApp, Receive, Scope, Send, get_header, send_plain
from covet.exceptions import ConfigurationError

_DENIAL_EXTENSION = "websocket.http.response"
# RFC 3986 host and port, narrowed to what DNS and IP literals use: a reg-name may also hold
# sub-delims and percent-escapes, which no real host needs and which are how a Host header
# smuggles a second authority into a pattern match or a Location.
_HOST = re.compile(
    r"(?:(?P<name>[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63}){0,126})|\[(?P<ipv6>[0-9a-f:.]{2,45})\])"
    r"(?::(?P<port>[0-9]{0,5}))?"
)
_MAX_NAME = 253


def _parse_host(host_header: str) -> tuple[str, str] | None:
    """`(host, port)` of a Host header value, lowercase, IPv6 kept in brackets; None if malformed.

    `port` is "" when absent.
    """
    match = _HOST.fullmatch(host_header.strip(" \t").lower())
    if match is None:
        return None
    name, ipv6, port = match.group("name", "ipv6", "port")
    if port and int(port) > 65535:
        return None
    if name is not None:
        return (name, port or "") if len(name) <= _MAX_NAME else None
    try:
        ipaddress.IPv6Address(ipv6)
    except ValueError:
        return None
    return f"[{ipv6}]", port or ""


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
        parsed = _parse_host(raw.decode("latin-1")) if raw is not None else None
        if parsed is not None and self.is_allowed(parsed[0]):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await _refuse_websocket(scope, send)
        elif self.www_redirect and parsed is not None and f"www.{parsed[0]}" in self.exact:
            await _redirect_to_www(scope, send, *parsed)
        else:
            await send_plain(send, 400, b"Invalid host header")


async def _redirect_to_www(scope: Scope, send: Send, host: str, port: str) -> None:
    raw_path: bytes = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
    if not raw_path.startswith(b"/"):
        # An absolute-form target ("GET http://other/ HTTP/1.1") reaches some servers' raw_path
        # whole; appended to our authority it would make a different URL.
        raw_path = b"/"
    query: bytes = scope.get("query_string", b"")
    authority = f"www.{host}:{port}" if port else f"www.{host}"
    location = f"{scope.get('scheme', 'http')}://{authority}".encode("ascii")
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
