"""CSRF protection for form posts: a per-client secret and a token every form sends back.

Example::

    app.add_middleware(CSRFMiddleware)                       # the secret in its own cookie
    # or, with SessionMiddleware added after it (so it runs first): a session-bound secret
    app.add_middleware(CSRFMiddleware, use_session=True)

    @app.get("/note")
    async def form(request: Request):
        return HTMLResponse(f'<form method="post">{csrf_input(request)} ...</form>')

Each client gets a random 32-byte secret, kept in an HttpOnly cookie or in the signed session
(``use_session=True``: a login, which renews the session, renews it too). Pages embed
:func:`csrf_token` (a fresh random mask XOR the secret, so the token differs on every page and
compression attacks such as BREACH learn nothing); an unsafe request (anything but GET, HEAD,
OPTIONS, TRACE) must send it back in the ``X-CSRF-Token`` header or the ``csrf_token`` form
field, else it is refused with ``403 {"detail": "Forbidden"}`` and no reason.

Before the token, the request's ``Origin`` (or, without one, ``Sec-Fetch-Site``) must not name
another site: the host of ``Origin`` must be the request's ``Host`` or one of
``trusted_origins`` (full origins, ``"https://app.example.com"``). The scheme is not compared, so
a TLS-terminating proxy does not break it. WebSocket handshakes get the same Origin check
(cross-site WebSocket hijacking) and are closed with 1008 when it fails.

To find the form field, a urlencoded or multipart body is read (up to ``max_body_size``, 413
beyond) and handed on to the app unchanged; send large uploads with the header instead.
``exempt_paths`` (prefixes) skip the check (webhooks), and so do requests carrying an
``Authorization: Bearer`` header: browsers never send one on their own, so it is no ambient
credential a forged form could ride (Basic credentials are, and get no such pass).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Any

from covet._asgi import ASGIApp, Message, Receive, Scope, Send, get_header
from covet.auth._cookies import SameSite, add_header, cookie_attributes, read_cookie
from covet.auth.exceptions import AuthConfigurationError, BadSignature
from covet.auth.signing import b64decode, b64encode
from covet.exceptions import CovetError
from covet.requests import HTTPConnection
from covet.responses import JSONResponse

__all__ = ["CSRFMiddleware", "csrf_input", "csrf_token"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SCOPE_KEY = "csrf"
SESSION_KEY = "csrf"
_SECRET_BYTES = 32
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class SafeHTML(str):
    """Markup that template engines (Jinja2's ``__html__`` protocol) do not escape again."""

    def __html__(self) -> str:
        return str(self)


def _xor(data: bytes, mask: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, mask, strict=True))


class CSRFState:
    """``scope["csrf"]``: this client's secret, and where a new one must be kept."""

    __slots__ = ("secret", "new", "used", "session", "field_name")

    def __init__(
        self, secret: bytes, new: bool, session: dict[str, Any] | None, field_name: str
    ) -> None:
        self.secret = secret
        self.new = new
        self.used = False
        self.session = session
        self.field_name = field_name

    def token(self) -> str:
        """A fresh masked token for this client's secret."""
        if self.session is not None:
            encoded = b64encode(self.secret)
            if self.session.get(SESSION_KEY) != encoded:
                if not self.new:  # the session was renewed (a login) since the request began
                    self.secret = secrets.token_bytes(_SECRET_BYTES)
                    encoded = b64encode(self.secret)
                self.session[SESSION_KEY] = encoded
        self.used = True
        mask = secrets.token_bytes(_SECRET_BYTES)
        return b64encode(mask + _xor(self.secret, mask))

    def accepts(self, token: str | None) -> bool:
        """Whether ``token`` was made from this client's secret (constant-time)."""
        if not token or self.new:
            return False
        try:
            raw = b64decode(token)
        except BadSignature:
            return False
        if len(raw) != 2 * _SECRET_BYTES:
            return False
        return hmac.compare_digest(_xor(raw[_SECRET_BYTES:], raw[:_SECRET_BYTES]), self.secret)


def _state(conn: HTTPConnection) -> CSRFState:
    state = conn.scope.get(SCOPE_KEY)
    if not isinstance(state, CSRFState):
        raise AuthConfigurationError(
            "csrf_token() needs covet.auth.CSRFMiddleware: app.add_middleware(CSRFMiddleware)"
        )
    return state


def csrf_token(conn: HTTPConnection) -> str:
    """The token to put in a form (or a ``<meta>`` for scripts' ``X-CSRF-Token`` header).

    As a template context processor: ``lambda request: {"csrf_token": csrf_token(request)}``.
    """
    return _state(conn).token()


def csrf_input(conn: HTTPConnection) -> SafeHTML:
    """``<input type="hidden" name="csrf_token" value="...">``, safe to insert unescaped."""
    state = _state(conn)
    # The token is base64url and the field name was checked at start-up: nothing to escape.
    return SafeHTML(f'<input type="hidden" name="{state.field_name}" value="{state.token()}">')


class CSRFMiddleware:
    """Refuse unsafe requests that do not carry this client's CSRF token (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        use_session: bool = False,
        cookie_name: str = "csrftoken",
        header_name: str = "X-CSRF-Token",
        field_name: str = "csrf_token",
        https_only: bool = False,
        same_site: SameSite | None = "lax",
        path: str = "/",
        domain: str | None = None,
        exempt_paths: Sequence[str] = (),
        trusted_origins: Sequence[str] = (),
        max_body_size: int = 16 * 1024 * 1024,
    ) -> None:
        if not field_name or not all(c.isalnum() or c in "_-" for c in field_name):
            raise AuthConfigurationError(f"field_name {field_name!r}: letters, digits, _ and -")
        if isinstance(exempt_paths, str) or isinstance(trusted_origins, str):
            raise AuthConfigurationError("exempt_paths and trusted_origins take lists, not a str")
        self.app = app
        self.use_session = use_session
        self.cookie_name = cookie_name
        self.header_name = header_name.lower().encode("latin-1")
        self.field_name = field_name
        self.exempt_paths = tuple(exempt_paths)
        self.trusted_origins = frozenset(origin.lower().rstrip("/") for origin in trusted_origins)
        self.max_body_size = max_body_size
        self._attributes = cookie_attributes(
            cookie_name,
            max_age=None,
            path=path,
            domain=domain,
            secure=https_only,
            httponly=True,
            samesite=same_site,
        )

    @classmethod
    def check_options(cls, **options: Any) -> None:
        """Refuse a bad configuration where ``app.add_middleware`` is written."""

        async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
            pass  # pragma: no cover - never called

        cls(nothing, **options)

    def _load(self, scope: Scope) -> CSRFState:
        session = None
        if self.use_session:
            session = scope.get("session")
            if not isinstance(session, dict):
                raise AuthConfigurationError(
                    "CSRFMiddleware(use_session=True) needs SessionMiddleware around it: "
                    "add SessionMiddleware after CSRFMiddleware (the last added runs first)"
                )
            stored = session.get(SESSION_KEY)
        else:
            stored = read_cookie(scope, self.cookie_name)
        if isinstance(stored, str):
            try:
                secret = b64decode(stored)
            except BadSignature:
                secret = b""
            if len(secret) == _SECRET_BYTES:
                return CSRFState(secret, False, session, self.field_name)
        return CSRFState(secrets.token_bytes(_SECRET_BYTES), True, session, self.field_name)

    def _exempt(self, scope: Scope) -> bool:
        if self.exempt_paths and scope["path"].startswith(self.exempt_paths):
            return True
        # A browser never attaches a bearer token by itself, and a page can add one to a
        # cross-site request only after a CORS preflight the app agreed to. Basic credentials,
        # which browsers do resend by themselves, get no such pass.
        authorization = get_header(scope["headers"], b"authorization")
        return authorization is not None and authorization[:7].lower() == b"bearer "

    def _same_origin(self, scope: Scope) -> bool:
        origin = get_header(scope["headers"], b"origin")
        if origin is None:
            # Browsers too old to send Origin on every POST send no Sec-Fetch-Site either.
            return get_header(scope["headers"], b"sec-fetch-site") != b"cross-site"
        text = origin.decode("latin-1").lower().rstrip("/")
        if text in self.trusted_origins:
            return True
        host = get_header(scope["headers"], b"host")
        _, sep, netloc = text.partition("://")
        return bool(sep) and host is not None and netloc == host.decode("latin-1").lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            if self._same_origin(scope):
                await self.app(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        state = scope[SCOPE_KEY] = self._load(scope)
        if scope["method"] not in SAFE_METHODS and not self._exempt(scope):
            if not self._same_origin(scope):
                await _forbidden(scope, receive, send)
                return
            token_header = get_header(scope["headers"], self.header_name)
            if token_header is not None:
                token: str | None = token_header.decode("latin-1")
            else:
                read = await self._form_token(scope, receive, send)
                if read is None:  # the body was too large (answered) or the client left
                    return
                token, receive = read
            if not state.accepts(token):
                await _forbidden(scope, receive, send)
                return
        if self.use_session:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.new and state.used:
                value = self.cookie_name.encode("latin-1") + b"=" + b64encode(state.secret).encode()
                message = add_header(message, b"set-cookie", value + self._attributes)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _form_token(
        self, scope: Scope, receive: Receive, send: Send
    ) -> tuple[str | None, Receive] | None:
        """The token in a form body, and a receive that hands the body on again.

        None when the request was answered here (413) or the client disconnected.
        """
        content_type = (get_header(scope["headers"], b"content-type") or b"").decode("latin-1")
        if content_type.split(";")[0].strip().lower() not in _FORM_TYPES:
            return None, receive
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # disconnected: nobody to answer
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_body_size:
                too_large = JSONResponse({"detail": "Request Entity Too Large"}, 413)
                await too_large(scope, receive, send)
                return None
            if not message.get("more_body", False):
                break
        token = await _find_field(messages, content_type, self.field_name)
        return token, _replay(messages, receive)


async def _find_field(messages: list[Message], content_type: str, name: str) -> str | None:
    from covet.formparsers import parse_form

    async def chunks() -> AsyncIterator[bytes]:
        for message in messages:
            yield message.get("body", b"")

    try:
        form = await parse_form(chunks(), content_type, None)
    except CovetError:  # a malformed form carries no token we could trust
        return None
    try:
        value = form.get(name)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _forbidden(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"detail": "Forbidden"}, 403)(scope, receive, send)
