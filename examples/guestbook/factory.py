"""``create_app(settings)``: the guestbook's routes, middleware, lifespan and live channel.

Requests pass through, outermost first::

    RequestIDMiddleware      an id per request (X-Request-ID) and one access-log line
    security_headers         CSP, no framing, no MIME sniffing (function middleware)
    TrustedHostMiddleware    only the configured Host names (absolute URLs are built from it)
    GZipMiddleware           compresses pages over 500 bytes
    SessionMiddleware        request.session from the HMAC-signed cookie
    CSRFMiddleware           every form post carries a token bound to the session
    AuthenticationMiddleware request.user: the Account in the session, or anonymous
    router                   pages.py, accounts.py, and the /live WebSocket (live.py)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from covet import Covet, HTTPException, Request, Response, WebSocket
from covet.auth import (
    AuthenticationMiddleware,
    CSRFMiddleware,
    SessionAuth,
    SessionMiddleware,
)
from covet.middleware import GZipMiddleware, RequestIDMiddleware, TrustedHostMiddleware
from examples.guestbook.accounts import add_account_routes
from examples.guestbook.forms import MAX_BODY_BYTES
from examples.guestbook.live import stream_to
from examples.guestbook.pages import add_page_routes
from examples.guestbook.services import Guestbook
from examples.guestbook.settings import Settings

__all__ = ["SECURITY_HEADERS", "create_app"]

SECURITY_HEADERS = {
    # Scripts and styles only from our own files (no inline script for an injected entry to
    # ride on); the page's WebSocket goes back to the same host.
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> Covet:
    """A guestbook configured by ``settings`` (default: :meth:`Settings.from_env`)."""
    gb = Guestbook.from_settings(settings or Settings.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[dict[str, Any]]:
        async with gb.db:
            await gb.store.create_schema()
            try:
                yield {"guestbook": gb}
            finally:
                gb.feed.close()  # open pages are told to go, so shutdown does not wait on them

    app = Covet(lifespan=lifespan, max_body_size=MAX_BODY_BYTES)
    app.state.guestbook = gb  # for tests and for code that embeds the guestbook
    add_page_routes(app, gb)
    add_account_routes(app, gb)

    @app.websocket("/live", name="live")
    async def live(websocket: WebSocket) -> None:
        await stream_to(websocket, gb.feed)

    async def error_page(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return gb.render(request, "error.html", {"status": status}, status)

    for status in (400, 403, 404):
        app.add_exception_handler(status, error_page)

    # The last added runs first: see the module docstring for the resulting order.
    app.add_middleware(AuthenticationMiddleware, backends=[SessionAuth(load_user=gb.load_user)])
    app.add_middleware(CSRFMiddleware, use_session=True, max_body_size=MAX_BODY_BYTES)
    app.add_middleware(
        SessionMiddleware,
        secret_keys=list(gb.settings.secret_keys),
        https_only=gb.settings.https_only,
    )
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(gb.settings.allowed_hosts))

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(RequestIDMiddleware)
    return app
