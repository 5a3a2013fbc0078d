"""covet.auth: sessions, logins, tokens, passwords and CSRF, with the standard library only.

Example::

    from covet import Covet, Request
    from covet.auth import (
        AuthenticationMiddleware, CSRFMiddleware, SessionAuth, SessionMiddleware,
        login, requires, verify_password,
    )

    app = Covet()
    app.add_middleware(AuthenticationMiddleware, backends=[SessionAuth()])
    app.add_middleware(CSRFMiddleware, use_session=True)
    app.add_middleware(SessionMiddleware, secret_keys=[KEY])  # added last: runs first

    @app.get("/me")
    @requires("authenticated", redirect="/login")
    async def me(request: Request):
        return {"user": request.user.display_name}

Parts (each in its own module): :mod:`~covet.auth.sessions` (signed cookie sessions),
:mod:`~covet.auth.tokens` (HS256 bearer tokens), :mod:`~covet.auth.passwords` (scrypt),
:mod:`~covet.auth.backends` (Basic, Bearer, session logins), :mod:`~covet.auth.middleware`
(``request.user`` / ``request.auth``), :mod:`~covet.auth.decorators` (``@requires``),
:mod:`~covet.auth.csrf`, :mod:`~covet.auth.signing` (the HMAC primitive under them all).
Every comparison of secrets is constant-time (``hmac.compare_digest``), and no refusal says why.
"""

from __future__ import annotations

from covet.auth.backends import (
    AuthenticationBackend,
    BasicAuth,
    BearerAuth,
    SessionAuth,
    login,
    logout,
    parse_basic,
)
from covet.auth.csrf import CSRFMiddleware, csrf_input, csrf_token
from covet.auth.decorators import requires, safe_next
from covet.auth.exceptions import (
    AuthConfigurationError,
    AuthenticationError,
    AuthError,
    BadSignature,
    InvalidPasswordHash,
    SignatureExpired,
)
from covet.auth.middleware import AuthenticationMiddleware
from covet.auth.passwords import (
    PasswordHasher,
    hash_password,
    needs_rehash,
    verify_and_update,
    verify_password,
)
from covet.auth.sessions import SessionMiddleware
from covet.auth.signing import Signer
from covet.auth.tokens import BearerTokens, TokenClaims
from covet.auth.users import AuthCredentials, BaseUser, SimpleUser, UnauthenticatedUser

__all__ = [
    "AuthConfigurationError",
    "AuthCredentials",
    "AuthError",
    "AuthenticationBackend",
    "AuthenticationError",
    "AuthenticationMiddleware",
    "BadSignature",
    "BaseUser",
    "BasicAuth",
    "BearerAuth",
    "BearerTokens",
    "CSRFMiddleware",
    "InvalidPasswordHash",
    "PasswordHasher",
    "SessionAuth",
    "SessionMiddleware",
    "SignatureExpired",
    "Signer",
    "SimpleUser",
    "TokenClaims",
    "UnauthenticatedUser",
    "csrf_input",
    "csrf_token",
    "hash_password",
    "login",
    "logout",
    "needs_rehash",
    "parse_basic",
    "requires",
    "safe_next",
    "verify_and_update",
    "verify_password",
]
