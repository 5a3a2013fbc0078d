"""``@requires(...)``: let a route run only for requests granted every listed scope.

Example::

    @app.get("/admin")
    @requires(["authenticated", "admin"], redirect="login")
    async def admin(request: Request): ...

    @app.websocket("/live")
    @requires("authenticated")
    async def live(websocket: WebSocket): ...

For HTTP: no authenticated user gives 401 (with the backends' ``WWW-Authenticate``
challenges), or, with ``redirect``, a 303 to that path or route name with ``?next=`` the
requested path; an authenticated user lacking a scope gets 403 (``status_code``). Both are
``HTTPException``\\ s, so the app's exception handlers can restyle them. For a WebSocket the
handshake is refused (closed with 1008 before accept; servers answer 403). Needs
:class:`~covet.auth.AuthenticationMiddleware`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from covet.auth.exceptions import AuthConfigurationError
from covet.auth.middleware import CHALLENGES_KEY
from covet.dispatch import endpoint_caller
from covet.exceptions import HTTPException
from covet.requests import HTTPConnection
from covet.responses import RedirectResponse
from covet.websockets import WebSocket

__all__ = ["requires", "safe_next"]

F = TypeVar("F", bound=Callable[..., Any])
_CONNECTION = inspect.Signature(
    [inspect.Parameter("conn", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
)


def safe_next(target: object, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default``: where a login form may
    send the user back to (the ``next`` that ``@requires(redirect=...)`` adds).

    ``//evil.example/``, ``https://evil.example``, and (as some browsers read ``\\`` as ``/``)
    anything with a backslash or a control character could leave the site (an open redirect),
    so they give ``default``.

    Example::

        return RedirectResponse(safe_next(form.get("next")), 303)
    """
    if (
        not isinstance(target, str)
        or not target.startswith("/")
        or target.startswith("//")
        or any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in target)
    ):
        return default
    return target


def _redirect_to(conn: HTTPConnection, target: str) -> RedirectResponse:
    if not target.startswith("/"):  # a route name
        target = conn.app.url_path_for(target)
    root = conn.scope.get("root_path") or ""
    here = conn.scope["path"]
    query = conn.scope.get("query_string", b"").decode("latin-1")
    if query:
        here += "?" + query
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{root}{target}{separator}{urlencode({'next': here})}", 303)


def requires(
    scopes: str | Sequence[str],
    *,
    status_code: int = 403,
    redirect: str | None = None,
) -> Callable[[F], F]:
    """Decorate an HTTP or WebSocket endpoint to need every scope in ``scopes``.

    :param scopes: one scope or several, all required (``"authenticated"`` = anyone signed in).
    :param status_code: the answer to a signed-in user who lacks a scope.
    :param redirect: a path (``"/login"``) or route name to send anonymous HTTP requests to.
    """
    required = (scopes,) if isinstance(scopes, str) else tuple(scopes)

    def decorator(endpoint: F) -> F:
        call, takes_conn = endpoint_caller(endpoint)

        async def guarded(conn: HTTPConnection, *args: Any, **kwargs: Any) -> Any:
            scope = conn.scope
            auth = scope.get("auth")
            if auth is None:
                raise AuthConfigurationError(
                    "@requires needs covet.auth.AuthenticationMiddleware: "
                    "app.add_middleware(AuthenticationMiddleware, backends=[...])"
                )
            user = scope.get("user")
            signed_in = bool(getattr(user, "is_authenticated", False))
            if signed_in and all(name in auth for name in required):
                return await (call(conn, *args, **kwargs) if takes_conn else call())
            if isinstance(conn, WebSocket):
                await conn.close(1008)
                return None
            if signed_in:
                raise HTTPException(status_code)
            if redirect is not None:
                return _redirect_to(conn, redirect)
            challenges = scope.get(CHALLENGES_KEY) or []
            headers = {"WWW-Authenticate": ", ".join(challenges)} if challenges else None
            raise HTTPException(401, headers=headers)

        functools.update_wrapper(guarded, endpoint)
        # covet passes the request only to endpoints whose signature asks for it, and
        # inspect.signature would follow __wrapped__ to the endpoint's own: say so here.
        guarded.__signature__ = _CONNECTION  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator
