"""Authentication backends: how a request says who it is (Basic, Bearer, a session).

A backend's ``authenticate(conn)`` returns ``(AuthCredentials, user)`` when it recognises the
request, ``None`` when the request carries none of its credentials (the next backend is
asked), and raises :class:`~covet.auth.AuthenticationError` when it carries its credentials but
they are wrong (the request is refused with 401 and the backend's challenge).

Example::

    async def check(username: str, password: str) -> bool:
        return await run_in_threadpool(verify_password, password, await stored_hash(username))

    app.add_middleware(AuthenticationMiddleware, backends=[
        BasicAuth(check, realm="admin"),
        BearerAuth(BearerTokens(secret_keys=[TOKEN_KEY])),
    ])
"""

from __future__ import annotations

import binascii
import inspect
from base64 import b64decode
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from covet.auth.exceptions import AuthConfigurationError, AuthenticationError, BadSignature
from covet.auth.tokens import BearerTokens, TokenClaims
from covet.auth.users import AuthCredentials, BaseUser, SimpleUser
from covet.concurrency import run_in_threadpool
from covet.requests import HTTPConnection

__all__ = [
    "AuthResult",
    "AuthenticationBackend",
    "BasicAuth",
    "BearerAuth",
    "SessionAuth",
    "login",
    "logout",
    "parse_authorization",
    "parse_basic",
]

AuthResult = tuple[AuthCredentials, BaseUser]
# The session key SessionAuth and login()/logout() share.
SESSION_KEY = "auth"
AUTHENTICATED = "authenticated"


class AuthenticationBackend(Protocol):
    """What :class:`~covet.auth.AuthenticationMiddleware` asks of a backend."""

    async def authenticate(self, conn: HTTPConnection) -> AuthResult | None: ...

    def challenge(self, failed: bool) -> str | None:
        """The ``WWW-Authenticate`` value of a 401: after wrong credentials (``failed``) or
        for a request that sent none; None when the scheme has no challenge (cookies)."""
        ...


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    """Call a sync (in a worker thread: it may hash passwords) or async callback."""
    if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - callable objects
    ):
        return await func(*args)
    result = await run_in_threadpool(func, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _checked_user(user: Any, source: Callable[..., Any]) -> Any:
    """``user`` when it can be ``request.user``; a clear error for the app's author if not
    (a dict returned by mistake would otherwise be a user nobody counts as signed in)."""
    if not isinstance(getattr(user, "is_authenticated", None), bool):
        raise AuthConfigurationError(
            f"{getattr(source, '__qualname__', source)!r} returned {type(user).__name__}: "
            "return a user object (is_authenticated, display_name, identity), True, or None"
        )
    return user


def _quoted(value: str) -> str:
    """``value`` as an RFC 9110 quoted-string (for realm="...")."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise AuthConfigurationError(f"realm {value!r}: no control characters")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_authorization(conn: HTTPConnection) -> tuple[str, str] | None:
    """``(scheme in lowercase, credentials)`` of the Authorization header, or None."""
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    return scheme.lower(), credentials.strip()


def parse_basic(credentials: str) -> tuple[str, str]:
    """``(username, password)`` of Basic credentials (RFC 7617, UTF-8).

    Raises :class:`AuthenticationError` when they are not base64 of ``user:password``.
    """
    try:
        decoded = b64decode(credentials.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise AuthenticationError("malformed Basic credentials") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise AuthenticationError("Basic credentials without a colon")
    return username, password


ScopesFor = Iterable[str] | Callable[[Any], Iterable[str]]


def _scopes(scopes: ScopesFor, user: Any) -> AuthCredentials:
    listed = scopes(user) if callable(scopes) else scopes
    return AuthCredentials({AUTHENTICATED, *listed})


class BasicAuth:
    """HTTP Basic authentication against a ``verify(username, password)`` callback.

    ``verify`` (sync, run in a worker thread, or async) returns a user object, ``True`` (the
    user becomes ``SimpleUser(username)``) or something false to refuse. ``scopes`` are granted
    to every user it accepts (or computed by ``scopes(user)``); ``"authenticated"`` always is.
    """

    def __init__(
        self,
        verify: Callable[[str, str], Any],
        *,
        realm: str = "covet",
        scopes: ScopesFor = (),
    ) -> None:
        self.verify = verify
        self.scopes = scopes
        self._challenge = f'Basic realm={_quoted(realm)}, charset="UTF-8"'

    def challenge(self, failed: bool) -> str | None:
        return self._challenge

    async def authenticate(self, conn: HTTPConnection) -> AuthResult | None:
        found = parse_authorization(conn)
        if found is None or found[0] != "basic":
            return None
        username, password = parse_basic(found[1])
        result = await _call(self.verify, username, password)
        if result is True:
            user: Any = SimpleUser(username)
        elif result is False or result is None:
            raise AuthenticationError("wrong username or password")
        else:
            user = _checked_user(result, self.verify)
        return _scopes(self.scopes, user), user


class BearerAuth:
    """Bearer tokens (RFC 6750) issued by :class:`~covet.auth.BearerTokens`.

    The user is ``SimpleUser(claims.subject)``, or what ``load_user(claims)`` (sync or async)
    returns; a None from it refuses the token like a bad signature. The token's scopes become
    ``request.auth`` (plus ``"authenticated"``).
    """

    def __init__(
        self,
        tokens: BearerTokens,
        *,
        realm: str | None = None,
        load_user: Callable[[TokenClaims], Any] | None = None,
    ) -> None:
        self.tokens = tokens
        self.load_user = load_user
        self._challenge = "Bearer" if realm is None else f"Bearer realm={_quoted(realm)}"

    def challenge(self, failed: bool) -> str | None:
        # RFC 6750 section 3.1: no error code when the request had no token at all.
        if failed:
            return f'{self._challenge}{"," if " " in self._challenge else ""} error="invalid_token"'
        return self._challenge

    async def authenticate(self, conn: HTTPConnection) -> AuthResult | None:
        found = parse_authorization(conn)
        if found is None or found[0] != "bearer":
            return None
        try:
            claims = self.tokens.verify(found[1])
        except BadSignature:
            raise AuthenticationError("invalid or expired token") from None
        user: Any = SimpleUser(claims.subject)
        if self.load_user is not None:
            user = await _call(self.load_user, claims)
            if user is None:
                raise AuthenticationError("the token's subject is gone")
            _checked_user(user, self.load_user)
        return AuthCredentials({AUTHENTICATED, *claims.scopes}), user


class SessionAuth:
    """The user signed in with :func:`login`, from ``request.session`` (needs
    :class:`~covet.auth.SessionMiddleware` outside the authentication middleware).

    ``load_user(identity)`` (sync or async) turns the stored identity into your user object;
    when it returns None (the account was deleted) the request is simply anonymous. Without it
    the user is ``SimpleUser(identity)``.
    """

    def __init__(self, load_user: Callable[[str], Any] | None = None) -> None:
        self.load_user = load_user

    def challenge(self, failed: bool) -> str | None:
        return None

    async def authenticate(self, conn: HTTPConnection) -> AuthResult | None:
        stored = conn.session.get(SESSION_KEY)
        if not isinstance(stored, dict):
            return None
        identity, scopes = stored.get("id"), stored.get("scopes")
        if not isinstance(identity, str) or not isinstance(scopes, list):
            return None
        user: Any = SimpleUser(identity)
        if self.load_user is not None:
            user = await _call(self.load_user, identity)
            if user is None:
                return None
            _checked_user(user, self.load_user)
        granted = (scope for scope in scopes if isinstance(scope, str))
        return AuthCredentials({AUTHENTICATED, *granted}), user


def login(conn: HTTPConnection, identity: str, scopes: Iterable[str] = ()) -> None:
    """Sign ``identity`` in: a fresh session (nothing from before the login survives, which
    also renews a session-bound CSRF token) holding the identity and its scopes.

    Scopes stored here are fixed until the next login; for scopes that must change at once,
    compute them in ``SessionAuth(load_user=...)`` instead.
    """
    session = conn.session
    session.clear()
    session[SESSION_KEY] = {"id": str(identity), "scopes": sorted(set(scopes))}


def logout(conn: HTTPConnection) -> None:
    """Sign out: empty the session (its cookie is deleted with this response)."""
    conn.session.clear()
