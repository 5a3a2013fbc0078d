"""Small raw-ASGI helpers shared by the built-in middleware and the error page (private).

The middleware speak raw ASGI, so they work around any ASGI app, covet's or not, and cost no
Request/Response objects on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable

from covet.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]

RawHeaders = list[tuple[bytes, bytes]]


def get_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header `name` (lowercase bytes), or None."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def get_all(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every value of header `name` (lowercase bytes), in order."""
    return [value for key, value in headers if key.lower() == name]


def without(headers: Iterable[tuple[bytes, bytes]], *names: bytes) -> RawHeaders:
    """`headers` minus every header named in `names` (lowercase bytes)."""
    return [(key, value) for key, value in headers if key.lower() not in names]


def merge_vary(values: list[bytes], token: str) -> bytes:
    """One Vary value from the response's Vary `values` plus `token`, each name once.

    `Vary: *` already covers everything and stays as is.
    """
    if not values:
        return token.encode("latin-1")
    existing = [part.strip() for value in values for part in value.decode("latin-1").split(",")]
    existing = [part for part in existing if part]
    if "*" not in existing and token.lower() not in (part.lower() for part in existing):
        existing.append(token)
    return ", ".join(existing).encode("latin-1")


def add_vary(headers: RawHeaders, token: str) -> RawHeaders:
    """`headers` with `token` merged into a single Vary header (see `merge_vary`)."""
    rest: RawHeaders = []
    vary: list[bytes] = []
    for key, value in headers:
        if key.lower() == b"vary":
            vary.append(value)
        else:
            rest.append((key, value))
    rest.append((b"vary", merge_vary(vary, token)))
    return rest


async def send_plain(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete text/plain response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode("latin-1")),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
