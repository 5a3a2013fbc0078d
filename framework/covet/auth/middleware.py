"""AuthenticationMiddleware: ask the backends who is calling; set ``request.user`` and
``request.auth`` for HTTP requests and WebSockets alike.

Example::

    app.add_middleware(AuthenticationMiddleware, backends=[SessionAuth(), BearerAuth(tokens)])
    app.add_middleware(SessionMiddleware, secret_keys=[KEY])   # added last: runs first

    @app.get("/me")
    @requires("authenticated")
    async def me(request: Request):
        return {"user": request.user.display_name, "scopes": list(request.auth)}

Backends are asked in order; the first that recognises the request wins. A request with none
of their credentials goes on as ``UnauthenticatedUser`` with no scopes (routes decide, with
:func:`~covet.auth.requires`). A request whose credentials a backend refuses is answered here:
HTTP gets ``401 {"detail": "Unauthorized"}`` with that backend's ``WWW-Authenticate`` challenge,
a WebSocket is closed with 1008 before it is accepted (servers send 403). The refusal never
says why (wrong password, bad signature, expired token all look alike).
"""

from __future__ import annotations

from collections.abc import Sequence

from covet._asgi import ASGIApp, Receive, Scope, Send
from covet.auth.backends import AuthenticationBackend, AuthResult
from covet.auth.exceptions import AuthConfigurationError, AuthenticationError
from covet.auth.users import AuthCredentials, UnauthenticatedUser
from covet.requests import HTTPConnection
from covet.responses import JSONResponse

__all__ = ["CHALLENGES_KEY", "AuthenticationMiddleware", "unauthorized"]

# Scope key: the challenges of every backend, for the 401 that `requires` sends later.
CHALLENGES_KEY = "covet.auth.challenges"
_NOBODY = UnauthenticatedUser()


def unauthorized(challenges: Sequence[str]) -> JSONResponse:
    """The one 401 covet.auth sends: the same body whatever went wrong."""
    headers = {"WWW-Authenticate": ", ".join(challenges)} if challenges else None
    return JSONResponse({"detail": "Unauthorized"}, 401, headers=headers)


class AuthenticationMiddleware:
    """Set ``scope["user"]`` and ``scope["auth"]`` from the first backend that knows the
    request; refuse wrong credentials with 401 (HTTP) or close 1008 (WebSocket)."""

    def __init__(self, app: ASGIApp, backends: Sequence[AuthenticationBackend]) -> None:
        self.check_options(backends)
        self.app = app
        self.backends = tuple(backends)
        self.challenges = [
            challenge for b in self.backends if (challenge := b.challenge(False)) is not None
        ]

    @classmethod
    def check_options(cls, backends: Sequence[AuthenticationBackend]) -> None:
        """Refuse a bad configuration where ``app.add_middleware`` is written."""
        if not backends:
            raise AuthConfigurationError("AuthenticationMiddleware needs at least one backend")
        for backend in backends:
            if not callable(getattr(backend, "authenticate", None)):
                raise AuthConfigurationError(f"{backend!r} has no authenticate(conn) method")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        result: AuthResult | None = None
        for backend in self.backends:
            try:
                result = await backend.authenticate(conn)
            except AuthenticationError:
                await self._refuse(backend, scope, receive, send)
                return
            if result is not None:
                break
        if result is None:
            scope["auth"], scope["user"] = AuthCredentials(), _NOBODY
        else:
            scope["auth"], scope["user"] = result
        scope[CHALLENGES_KEY] = self.challenges
        await self.app(scope, receive, send)

    async def _refuse(
        self, backend: AuthenticationBackend, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        challenge = backend.challenge(True)
        await unauthorized([challenge] if challenge else [])(scope, receive, send)
