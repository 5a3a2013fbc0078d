"""Signed cookie sessions: ``request.session`` is a dict kept in an HMAC-signed cookie.

Example::

    app.add_middleware(
        SessionMiddleware,
        secret_keys=[os.environ["SESSION_KEY"], os.environ.get("OLD_SESSION_KEY", "")][:1],
        https_only=True,
    )

    @app.post("/visit")
    async def visit(request: Request):
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

The cookie holds the session itself (JSON, so only JSON values), signed with
:class:`~covet.auth.signing.Signer` (HMAC-SHA256, issued-at and expiry inside the signature):
the client can read it but not change it. Keep secrets out of it, and keep it small (a cookie
over 4096 bytes is refused by browsers, so covet raises instead of losing it silently).

- A cookie that is tampered with, expired, signed under an unknown key or not a cookie covet
  wrote gives an empty session, never an error; the bad cookie is then deleted.
- ``Set-Cookie`` is sent only when the session changed (compared by its JSON, so nested
  changes count), when it was signed under an older key (key rotation: it is re-signed with
  the newest), or, with ``sliding`` (the default), when more than half of ``max_age`` has
  passed since it was signed: an active user stays signed in, an idle one expires.
- An emptied session (``request.session.clear()`` on logout) deletes the cookie.
- On WebSockets the session is read at the handshake and cannot be saved (no response headers).
"""

from __future__ import annotations

import time
from typing import Any

from covet._asgi import ASGIApp, Message, Receive, Scope, Send
from covet._json import dumps
from covet.auth._cookies import SameSite, add_header, cookie_attributes, read_cookie
from covet.auth.exceptions import AuthConfigurationError, AuthError, BadSignature
from covet.auth.signing import Clock, SecretKeys, Signer

__all__ = ["SessionMiddleware"]

# RFC 6265 section 6.1: browsers keep at least 4096 bytes per cookie (name, value, attributes).
MAX_COOKIE_BYTES = 4096
DEFAULT_MAX_AGE = 14 * 24 * 3600
_SCOPE_KEY = "session"


class _Loaded:
    """What the request's cookie held, to decide at response time whether to send a new one."""

    __slots__ = ("present", "encoded", "issued_at", "needs_resign")

    def __init__(self, present: bool) -> None:
        self.present = present
        self.encoded = b"{}"
        self.issued_at = 0
        self.needs_resign = False


class SessionMiddleware:
    """Load ``scope["session"]`` from a signed cookie; save it when it changed.

    :param secret_keys: newest first; cookies are signed with the first and accepted under any.
    :param cookie_name: the cookie's name.
    :param max_age: seconds a session lives after it was last signed (also the cookie's
        Max-Age); ``None`` makes a browser-session cookie that is still refused after 14 days.
    :param https_only: mark the cookie ``Secure`` (set it in production).
    :param httponly: hide the cookie from JavaScript.
    :param same_site: ``"lax"``, ``"strict"``, ``"none"`` (needs ``https_only``) or ``None``.
    :param path: / :param domain: the cookie's scope.
    :param sliding: re-sign a session used after half its ``max_age``.
    :param clock: seconds since the epoch (tests inject one).
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_keys: SecretKeys,
        *,
        cookie_name: str = "session",
        max_age: int | None = DEFAULT_MAX_AGE,
        https_only: bool = False,
        httponly: bool = True,
        same_site: SameSite | None = "lax",
        path: str = "/",
        domain: str | None = None,
        sliding: bool = True,
        clock: Clock = time.time,
    ) -> None:
        if max_age is not None and max_age <= 0:
            raise AuthConfigurationError("max_age must be a positive number of seconds or None")
        self.app = app
        self.cookie_name = cookie_name
        self.lifetime = max_age if max_age is not None else DEFAULT_MAX_AGE
        self.sliding = sliding
        self.clock = clock
        self.signer = Signer(secret_keys, purpose="session", clock=clock, max_length=4096)
        options: dict[str, Any] = {
            "path": path,
            "domain": domain,
            "secure": https_only,
            "httponly": httponly,
            "samesite": same_site,
        }
        # Without max_age the cookie has no Max-Age: the browser drops it when it closes.
        self._attributes = cookie_attributes(cookie_name, max_age=max_age, **options)
        self._delete = cookie_attributes(cookie_name, max_age=0, **options)
        self._prefix = cookie_name.encode("latin-1") + b"="

    @classmethod
    def check_options(cls, **options: Any) -> None:
        """Refuse a bad configuration where ``app.add_middleware`` is written, not at the
        first request (the middleware stack is built lazily)."""

        async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
            pass  # pragma: no cover - never called

        cls(nothing, **options)

    def load(self, cookie: str | None) -> tuple[dict[str, Any], _Loaded]:
        """The session a cookie value holds; a bad or expired one is an empty session."""
        loaded = _Loaded(present=cookie is not None)
        if not cookie:
            return {}, loaded
        try:
            signed = self.signer.unsign(cookie)
        except BadSignature:
            return {}, loaded
        data = signed.data
        # A shorter max_age configured since the cookie was signed applies to it too.
        if not isinstance(data, dict) or self.clock() - signed.issued_at >= self.lifetime:
            return {}, loaded
        loaded.encoded = dumps(data)
        loaded.issued_at = signed.issued_at
        loaded.needs_resign = signed.needs_resign
        return data, loaded

    def set_cookie_header(self, session: dict[str, Any], loaded: _Loaded) -> bytes | None:
        """The Set-Cookie value this response needs, or None to send no cookie."""
        if not session:
            # Delete a cookie that held something, or held garbage the browser should forget.
            return self._prefix + b'""' + self._delete if loaded.present else None
        encoded = dumps(session)
        stale = self.sliding and self.clock() - loaded.issued_at > self.lifetime / 2
        if encoded == loaded.encoded and not loaded.needs_resign and not stale:
            return None
        value = self._prefix + self.signer.sign(session, self.lifetime).encode("ascii")
        header = value + self._attributes
        if len(header) > MAX_COOKIE_BYTES:
            raise AuthError(
                f"the session cookie would be {len(header)} bytes, over the {MAX_COOKIE_BYTES} "
                "browsers keep: store less in request.session (ids, not records)"
            )
        return header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        session, loaded = self.load(read_cookie(scope, self.cookie_name))
        scope[_SCOPE_KEY] = session
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope.get(_SCOPE_KEY)
                header = self.set_cookie_header(
                    current if isinstance(current, dict) else {}, loaded
                )
                if header is not None:
                    message = add_header(message, b"set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
