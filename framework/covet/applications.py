"""The Covet application: routes, middleware, exception handlers and lifespan in one ASGI app.

Example::

    app = Covet()

    @app.get("/users/{user_id:int}")
    async def user(request: Request):
        return {"id": request.path_params["user_id"]}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar

from covet.datastructures import State
from covet.dispatch import ExceptionHandler, ExceptionHandlers
from covet.lifespan import as_context_factory, run_lifespan
from covet.pipeline import FunctionMiddleware, Middleware, build_stack
from covet.routing import Mount, Route, Router, WebSocketRoute
from covet.types import ASGIApp, Receive, Scope, Send

__all__ = ["Covet"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024


class Covet:
    """An ASGI 3 application.

    :param debug: show tracebacks on 500 responses (never in production).
    :param lifespan: ``lifespan(app)`` returning an async context manager (or an async
        generator function); a dict it yields becomes attributes of ``request.state``.
    :param max_body_size: most bytes ``request.body()/json()/stream()`` will read (413 beyond);
        ``None`` for no limit.
    :param redirect_slashes: redirect ``/a/`` to ``/a`` (and back) when only the other exists.
    """

    def __init__(
        self,
        *,
        debug: bool = False,
        lifespan: Callable[[Any], Any] | None = None,
        middleware: Collection[Middleware] | None = None,
        exception_handlers: Mapping[int | type[BaseException], ExceptionHandler] | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        redirect_slashes: bool = True,
    ) -> None:
        self.debug = debug
        self.max_body_size = max_body_size
        self.state = State()
        self._lifespan_factory = as_context_factory(lifespan) if lifespan is not None else None
        self.router = Router(
            redirect_slashes=redirect_slashes,
            lifespan=self._lifespan,
            exception_handlers=ExceptionHandlers(debug, exception_handlers),
        )
        self.user_middleware: list[Middleware] = list(middleware or [])
        for declared in self.user_middleware:
            declared.check()
        self._stack: ASGIApp | None = None

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        stack = self._stack
        if stack is None:
            stack = self.build_middleware_stack()
        await stack(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        """Build (once) and return the middleware stack around the router.

        The router answers 500 for its own errors (see :mod:`covet.dispatch`), so without
        user middleware the router is the whole stack; with some, ServerErrorMiddleware goes
        outermost to answer for errors the middleware raise.
        """
        if not self.user_middleware:
            self._stack = self.router
        else:
            handlers = self.router.exception_handlers
            self._stack = build_stack(
                self.router, self.user_middleware, self.debug, handlers.server_error
            )
        return self._stack

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        await run_lifespan(self, self._lifespan_factory, scope, receive, send)

    # -- routes ----------------------------------------------------------------------------

    @property
    def routes(self) -> list[Route | WebSocketRoute | Mount]:
        return self.router.routes

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Collection[str] | None = None,
        name: str | None = None,
    ) -> Route:
        return self.router.add_route(path, endpoint, methods=methods, name=name)

    def route(
        self, path: str, methods: Collection[str] | None = None, name: str | None = None
    ) -> Callable[[F], F]:
        """Decorator: serve ``path`` for ``methods`` (default GET, which also answers HEAD)."""

        def decorator(endpoint: F) -> F:
            self.router.add_route(path, endpoint, methods=methods, name=name)
            return endpoint

        return decorator

    def get(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.route(path, ["GET"], name)

    def post(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.route(path, ["POST"], name)

    def put(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.route(path, ["PUT"], name)

    def patch(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.route(path, ["PATCH"], name)

    def delete(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.route(path, ["DELETE"], name)

    def head(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.route(path, ["HEAD"], name)

    def options(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.route(path, ["OPTIONS"], name)

    def add_websocket_route(
        self, path: str, endpoint: Callable[[Any], Awaitable[None]], name: str | None = None
    ) -> WebSocketRoute:
        return self.router.add_websocket_route(path, endpoint, name=name)

    def websocket(self, path: str, name: str | None = None) -> Callable[[F], F]:
        """Decorator: serve WebSocket connections at ``path``."""

        def decorator(endpoint: F) -> F:
            self.router.add_websocket_route(path, endpoint, name=name)
            return endpoint

        return decorator

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> Mount:
        """Serve another ASGI app below ``path``."""
        return self.router.mount(path, app, name=name)

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route called ``name`` (``NoMatchFound`` if there is none)."""
        return self.router.url_path_for(name, **path_params)

    # -- middleware and errors -------------------------------------------------------------

    def add_middleware(self, middleware_class: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in ``middleware_class(app, **options)``; the last added runs first."""
        if self._stack is not None:
            raise RuntimeError("cannot add middleware after the application has started")
        declared = Middleware(middleware_class, options)
        declared.check()
        self.user_middleware.insert(0, declared)

    def middleware(self, kind: str) -> Callable[[F], F]:
        """Decorator for ``async def mw(request, call_next) -> Response`` (``kind="http"``)."""
        if kind != "http":
            raise ValueError(f'only "http" function middleware is supported, not {kind!r}')

        def decorator(func: F) -> F:
            self.add_middleware(FunctionMiddleware, dispatch=func)
            return func

        return decorator

    def add_exception_handler(
        self, key: int | type[BaseException], handler: ExceptionHandler
    ) -> None:
        """Answer HTTPExceptions of status ``key``, or exceptions of class ``key``, with
        ``handler(request, exc)``."""
        if self._stack is not None:
            raise RuntimeError("cannot add exception handlers after the application has started")
        self.router.exception_handlers.add(key, handler)

    def exception_handler(self, key: int | type[BaseException]) -> Callable[[F], F]:
        """Decorator form of :meth:`add_exception_handler`."""

        def decorator(handler: F) -> F:
            self.add_exception_handler(key, handler)
            return handler

        return decorator
