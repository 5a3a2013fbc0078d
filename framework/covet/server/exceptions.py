"""Errors raised by covet's server, a branch of the one covet tree (`covet.exceptions`).

    CovetError
     +-- ServerError
          +-- ServerConfigError      a bad option value or an app that cannot be imported
          +-- StartupError           lifespan startup failed, or the socket cannot be bound
          +-- ConnectionClosedError  (also an OSError) send() after the connection closed
          +-- HTTPParseError         a request that cannot be framed; carries the status
          +-- UpgradeRequested       control flow: the parser stopped at an upgrade

`ConnectionClosedError` subclasses `OSError` because ASGI 2.4 says send() on a closed connection
raises an OSError subclass; the server never logs it as an error.
"""

from __future__ import annotations

from covet.exceptions import CovetError


class ServerError(CovetError):
    """Root of every error covet's server raises."""


class ServerConfigError(ServerError, ValueError):
    """An option value is invalid, or the app import string cannot be resolved."""


class StartupError(ServerError):
    """The server could not start: lifespan startup failed or binding the socket failed."""


class ConnectionClosedError(ServerError, OSError):
    """send() was called after the client went away."""


class HTTPParseError(ServerError):
    """The request cannot be parsed or framed; answer `status` and close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class UpgradeRequested(ServerError):
    """The parser stopped after a request asking to upgrade; `tail` holds the bytes after it."""

    def __init__(self, tail: bytes) -> None:
        super().__init__("upgrade requested")
        self.tail = tail
