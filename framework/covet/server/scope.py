"""The parts of an HTTP scope that come from the connection and the request line: the ASGI
version, method names, socket addresses and the split of a request target.

Kept apart from the protocol so the rules for targets can be read and tested on their own.
"""

from __future__ import annotations

from typing import Any

from covet.server.exceptions import HTTPParseError

__all__ = ["ASGI_HTTP", "METHOD_NAMES", "address", "split_target"]

ASGI_HTTP = {"version": "3.0", "spec_version": "2.4"}
METHOD_NAMES = {m.encode(): m for m in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")}


def address(info: Any) -> tuple[str, int] | None:
    """A transport's peername/sockname as the ASGI (host, port) pair; None for other kinds
    (a Unix socket's path)."""
    if isinstance(info, tuple) and len(info) >= 2:
        return (str(info[0]), int(info[1]))
    return None


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """Split a request target into (raw_path, query_string); reject unusable forms."""
    if target[:1] != b"/":
        if target == b"*":
            return b"*", b""
        scheme, sep, rest = target.partition(b"://")
        if not sep or scheme.lower() not in (b"http", b"https"):
            raise HTTPParseError(400, "invalid request target")
        slash = rest.find(b"/")
        target = rest[slash:] if slash >= 0 else b"/"
        if target[:1] != b"/":
            target = b"/"
    raw_path, _, query = target.partition(b"?")
    return raw_path, query
