"""Client address, scheme and host from a reverse proxy's headers, trusted only from the proxy.

    app = ProxyHeadersMiddleware(app, parse_networks("127.0.0.1, 10.0.0.0/8"))

`covet serve --proxy-headers` wraps the app in this (off, nothing runs per request). A request
whose peer is in `--forwarded-allow-ips` (or arrives on a Unix socket, which only local
processes allowed by the file's permissions can open) has its scope rewritten:

- `client`: walking `X-Forwarded-For` (or `Forwarded: for=`) from the right, every trusted
  address is a proxy of ours; the first untrusted one is the client. Anything to its left was
  written by the client itself and is never believed. When every hop is trusted, the left-most.
- `scheme`: `X-Forwarded-Proto` (`http`/`https`; `ws`/`wss` for WebSockets), else the
  `proto=` of the chosen `Forwarded` element.
- the `host` header: `X-Forwarded-Host`, else the chosen element's `host=`, when it is a
  syntactically valid host (reg-name, IPv4 or [IPv6], optional port).

`X-Forwarded-*` wins when any of them is present, else RFC 7239 `Forwarded` is read. The proxy
must overwrite the headers covet reads (the deployment guide's nginx config sets the three
`X-Forwarded-*` and clears `Forwarded`), or a client could send the one the proxy leaves alone.
A malformed value is ignored (the connection's own address and scheme stay); never an error.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from covet.server.exceptions import ServerConfigError
from covet.server.types import ASGIApp, Receive, Scope, Send

__all__ = ["ProxyHeadersMiddleware", "TrustedNetworks", "parse_networks"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST = re.compile(
    r"(?:[A-Za-z0-9\-._~!$&'()*+,;=%]+|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)
# One forwarded-pair: token "=" (token / quoted-string), RFC 7239 section 4.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PAIR = re.compile(rf'\s*({_TOKEN})=({_TOKEN}|"[^"\\]*")\s*')
_SCHEMES = {"http": ("http", "ws"), "https": ("https", "wss")}


@dataclass(frozen=True)
class TrustedNetworks:
    """The peers whose proxy headers are believed: `everything`, or a list of networks."""

    everything: bool
    networks: tuple[_Network, ...]

    def __contains__(self, host: str) -> bool:
        if self.everything:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def parse_networks(text: str) -> TrustedNetworks:
    """`"127.0.0.1, 10.0.0.0/8, ::1"` or `"*"`; a bad entry raises `ServerConfigError`."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if "*" in items:
        return TrustedNetworks(True, ())
    networks: list[_Network] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ServerConfigError(
                f"forwarded_allow_ips: {item!r} is not an IP address or CIDR network"
            ) from None
    return TrustedNetworks(False, tuple(networks))


def _node(text: str) -> tuple[str, int] | None:
    """An X-Forwarded-For entry or a `for=` node as (ip, port); None when not an IP address
    (`unknown`, an obfuscated `_name`, garbage)."""
    text = text.strip().strip('"')
    port = 0
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not (rest[:1] == ":" and rest[1:].isdigit())):
            return None
        port = int(rest[1:]) if rest else 0
    elif text.count(":") == 1:
        host, _, digits = text.partition(":")
        if not digits.isdigit():
            return None
        port = int(digits)
    else:
        host = text
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return (str(address), port) if port <= 65535 else None


def _forwarded_elements(values: list[str]) -> list[dict[str, str]] | None:
    """The elements of `Forwarded` header values, each a dict of lowercased parameter names;
    None when any element is malformed (the whole header is then ignored)."""
    elements: list[dict[str, str]] = []
    for value in values:
        for element in value.split(","):
            pairs: dict[str, str] = {}
            for pair in element.split(";"):
                match = _PAIR.fullmatch(pair)
                if match is None:
                    return None
                name = match[1].lower()
                if name in pairs:
                    return None  # RFC 7239: a parameter appears at most once per element
                pairs[name] = match[2].strip('"')
            elements.append(pairs)
    return elements


class ProxyHeadersMiddleware:
    """Rewrites `client`, `scheme` and the host header of scopes from trusted proxies."""

    def __init__(self, app: ASGIApp, trusted: TrustedNetworks) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if client is None or client[0] in self.trusted:
                self.apply(scope)
        await self.app(scope, receive, send)

    def apply(self, scope: Scope) -> None:
        """Rewrite `scope` in place from its proxy headers (the server's access log reads the
        same scope, so it shows the real client too)."""
        found: dict[bytes, list[str]] = {}
        for name, value in scope["headers"]:
            if name in (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host") or (
                name == b"forwarded"
            ):
                found.setdefault(name, []).append(value.decode("latin-1"))
        if not found:
            return
        proto: str | None
        host: str | None
        if any(name.startswith(b"x-") for name in found):
            hops = ",".join(found.get(b"x-forwarded-for", [])).split(",")
            chosen = self._client([_node(hop) for hop in hops if hop.strip()])
            proto = _last(found.get(b"x-forwarded-proto"))
            host = _last(found.get(b"x-forwarded-host"))
        else:
            elements = _forwarded_elements(found[b"forwarded"])
            if not elements:
                return
            nodes = [_node(e["for"]) if "for" in e else None for e in elements]
            index = self._client_index(nodes)
            chosen = nodes[index] if index is not None else None
            element = elements[index if index is not None else -1]
            proto, host = element.get("proto"), element.get("host")
        if chosen is not None:
            scope["client"] = chosen
        if proto is not None and proto.lower() in _SCHEMES:
            scope["scheme"] = _SCHEMES[proto.lower()][scope["type"] == "websocket"]
        if host is not None and _HOST.fullmatch(host):
            headers = [(n, v) for n, v in scope["headers"] if n != b"host"]
            headers.append((b"host", host.encode("latin-1")))
            scope["headers"] = headers

    def _client(self, nodes: list[tuple[str, int] | None]) -> tuple[str, int] | None:
        index = self._client_index(nodes)
        return nodes[index] if index is not None else None

    def _client_index(self, nodes: list[tuple[str, int] | None]) -> int | None:
        """The index of the right-most untrusted node; the left-most when all are trusted;
        None when the node there is not an address (then nothing about the client is known)."""
        for index in range(len(nodes) - 1, -1, -1):
            node = nodes[index]
            if node is None:
                return None  # an unreadable hop: who is beyond it cannot be told
            if node[0] not in self.trusted:
                return index
        return 0 if nodes else None


def _last(values: list[str] | None) -> str | None:
    """The right-most entry of a comma-separated header: the one our nearest proxy wrote."""
    if not values:
        return None
    return ",".join(values).split(",")[-1].strip() or None
