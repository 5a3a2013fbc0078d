"""The covet exception tree.

::

    CovetError
    ├── HTTPException              an HTTP error response (status, detail, headers)
    ├── WebSocketException         close a WebSocket with a code and reason
    ├── WebSocketDisconnect        the peer closed the WebSocket (code, reason)
    ├── ClientDisconnect           the client went away while the body was being read
    ├── ConfigurationError         a mistake found at declaration time (also a ValueError)
    │   ├── DuplicateRouteError    the same path and method declared twice
    │   ├── UnknownConvertorError  ``{name:kind}`` with a kind nobody registered
    │   └── NoMatchFound           ``url_path_for`` found no route by that name and params
    ├── MissingDependencyError     an optional feature's package is not installed (also an
    │                              ImportError); the message names the extra to install
    ├── DatabaseError              ``covet.db`` (``covet.db.exceptions``): a bad URL, the
    │                              database unreachable (503), a statement it refused, a
    │                              constraint violated, a connection or transaction misused
    ├── ServerError                covet's server (``covet.server.exceptions``): bad options,
    │                              start-up failures, send() after close, unframeable requests
    └── AuthError                  covet.auth (``covet.auth.exceptions``)
        ├── BadSignature           a signed cookie or token failed its check
        │   └── SignatureExpired   ...or was good but expired
        ├── AuthenticationError    a backend refused the credentials presented (401)
        ├── InvalidPasswordHash    a stored password hash covet cannot read (also ValueError)
        └── AuthConfigurationError a weak key, a bad option, a missing middleware
                                   (also a ConfigurationError)
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any


class CovetError(Exception):
    """Root of every error covet raises."""


class HTTPException(CovetError):
    """Raise inside a handler to answer with an HTTP error.

    Example::

        raise HTTPException(404, detail="no such user")
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = HTTPStatus(status_code).phrase
            except ValueError:
                detail = ""
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None
        super().__init__(status_code, detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class WebSocketException(CovetError):
    """Raise inside a WebSocket handler to close the connection with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class WebSocketDisconnect(CovetError):
    """The peer closed the WebSocket; ``code`` and ``reason`` are the ones it sent."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class ClientDisconnect(CovetError):
    """The client disconnected before the request body was fully read."""


class ConfigurationError(CovetError, ValueError):
    """An application was declared wrongly; raised at declaration time, never per request."""


class DuplicateRouteError(ConfigurationError):
    """The same path was declared twice for the same method (or WebSocket)."""


class UnknownConvertorError(ConfigurationError):
    """A path parameter names a convertor that is not registered."""


class NoMatchFound(ConfigurationError):
    """``url_path_for`` found no route with that name accepting those parameters."""


class MissingDependencyError(CovetError, ImportError):
    """An optional feature needs a package that is not installed.

    Also an ImportError, so ``except ImportError`` around an optional import still works; the
    message names the covetpy extra that installs it (``pip install 'covetpy[db]'``).
    """

    def __init__(self, feature: str, package: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs {package}, which is not installed: pip install 'covetpy[{extra}]'",
            name=package,
        )
        self.package = package
        self.extra = extra
