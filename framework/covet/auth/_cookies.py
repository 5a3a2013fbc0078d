"""Reading and writing the cookies covet.auth keeps (sessions, CSRF), on raw ASGI messages."""

from __future__ import annotations

from typing import Literal

from covet._asgi import Message, Scope, get_all
from covet.auth.exceptions import AuthConfigurationError
from covet.requests import cookie_parser
from covet.responses import Response

__all__ = ["SameSite", "add_header", "cookie_attributes", "read_cookie"]

SameSite = Literal["lax", "strict", "none"]


def read_cookie(scope: Scope, name: str) -> str | None:
    """The value of cookie ``name`` in the request, across every Cookie header."""
    headers = get_all(scope["headers"], b"cookie")
    if not headers:
        return None
    joined = "; ".join(value.decode("latin-1") for value in headers)
    return cookie_parser(joined).get(name)


def cookie_attributes(
    name: str,
    *,
    max_age: int | None,
    path: str,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: SameSite | None,
) -> bytes:
    """The ``; Path=...; HttpOnly...`` part of a Set-Cookie for ``name``, built (and checked)
    once by covet's own cookie writer rather than formatted a second way here."""
    if samesite is not None and samesite.lower() == "none" and not secure:
        raise AuthConfigurationError(
            f'cookie {name!r}: same_site="none" needs https_only=True (browsers want Secure)'
        )
    probe = Response()
    try:
        probe.set_cookie(
            name,
            "x",
            max_age=max_age,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
    except ValueError as exc:
        raise AuthConfigurationError(f"cookie {name!r}: {exc}") from None
    header = probe.raw_headers[-1][1]
    return header[header.index(b";") :]


def add_header(message: Message, name: bytes, value: bytes) -> Message:
    """A copy of an ``http.response.start`` message with one more header."""
    return {**message, "headers": [*message.get("headers", ()), (name, value)]}
