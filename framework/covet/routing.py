"""Routes and the router: static paths by one dict lookup, dynamic paths by a segment trie.

Example::

    router = Router()
    router.add_route("/users/{user_id:int}", user, methods=["GET"], name="user")
    router.url_path_for("user", user_id=7)  # "/users/7"

The matched route is put in `scope["route"]` (its `path` is the template, `/users/{user_id:int}`),
so middleware can label a request by its template rather than by the raw path.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, NamedTuple

from covet._pathtrie import PathTemplate, PathTrie
from covet.dispatch import (
    ExceptionHandlers,
    endpoint_caller,
    guarded,
    handle_http,
    handle_websocket,
)
from covet.exceptions import ConfigurationError, DuplicateRouteError, NoMatchFound
from covet.responses import PlainTextResponse, RedirectResponse, Response
from covet.types import ASGIApp, Receive, Scope, Send

__all__ = ["Mount", "MountedRoute", "Route", "Router", "WebSocketRoute", "route_path"]

_WEBSOCKET = "WEBSOCKET"


def route_path(scope: Scope) -> str:
    """The part of ``scope["path"]`` this app routes on: the path below ``root_path``."""
    path: str = scope["path"]
    root: str = scope.get("root_path") or ""
    if root and path.startswith(root):
        rest = path[len(root) :]
        if not rest:
            return "/"
        if rest[0] == "/":
            return rest
    return path


class Route:
    """An HTTP endpoint at a path template, for a set of methods (GET also answers HEAD).

    The endpoint is ``async def handler(request)`` (or without arguments, or a plain ``def``
    which runs in a worker thread) returning a Response, dict/list (JSON), str or bytes.
    """

    __slots__ = ("path", "endpoint", "methods", "name", "template", "call", "takes_request")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Collection[str] | None = None,
        name: str | None = None,
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        upper = {m.upper() for m in (methods or ["GET"])}
        if "GET" in upper:
            upper.add("HEAD")
        self.methods = frozenset(upper)
        self.name = name if name is not None else getattr(endpoint, "__name__", None)
        self.template = PathTemplate(path)
        self.call, self.takes_request = endpoint_caller(endpoint)

    def url_path_for(self, name: str, params: Mapping[str, Any]) -> str | None:
        if name != self.name or set(params) != set(self.template.convertors):
            return None
        return self.template.render(params)

    def __repr__(self) -> str:
        return f"Route(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)})"


class WebSocketRoute:
    """A WebSocket endpoint: ``async def handler(websocket)``."""

    __slots__ = ("path", "endpoint", "name", "template")

    def __init__(
        self, path: str, endpoint: Callable[[Any], Awaitable[None]], name: str | None = None
    ) -> None:
        if not inspect.iscoroutinefunction(endpoint) and not inspect.iscoroutinefunction(
            getattr(endpoint, "__call__", None)  # noqa: B004 - callable objects too
        ):
            raise ConfigurationError(f"WebSocket endpoint {endpoint!r} must be an async function")
        self.path = path
        self.endpoint = endpoint
        self.name = name if name is not None else getattr(endpoint, "__name__", None)
        self.template = PathTemplate(path)

    def url_path_for(self, name: str, params: Mapping[str, Any]) -> str | None:
        if name != self.name or set(params) != set(self.template.convertors):
            return None
        return self.template.render(params)

    def __repr__(self) -> str:
        return f"WebSocketRoute(path={self.path!r}, name={self.name!r})"


class MountedRoute(NamedTuple):
    """`scope["route"]` after a `Mount`: the full path template of what the mounted app chose
    (the mount prefix plus its route), or the prefix and `/{path:path}` when it named none."""

    path: str


class Mount:
    """Another ASGI app (a Covet app, a Router, Starlette, anything) below a path prefix.

    The mounted app sees the full ``path`` and a ``root_path`` extended by the prefix, as the
    ASGI spec asks, so apps that route on the path below ``root_path`` work unchanged.
    """

    __slots__ = ("prefix", "app", "name")

    def __init__(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        prefix = path.rstrip("/")
        if prefix and not prefix.startswith("/"):
            raise ConfigurationError(f"mount path {path!r} must start with '/'")
        if "{" in prefix:
            raise ConfigurationError(f"mount path {path!r} cannot hold parameters")
        self.prefix = prefix
        self.app = app
        self.name = name

    def matches(self, path: str) -> bool:
        prefix = self.prefix
        return not prefix or path == prefix or path.startswith(prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        child = dict(scope)
        root = (scope.get("root_path") or "") + self.prefix
        child["root_path"] = root
        child["path"] = root + (path[len(self.prefix) :] or "")
        child.pop("path_params", None)
        child.pop("route", None)
        try:
            await self.app(child, receive, send)
        finally:
            # The route the mounted app chose, as a template of the full path (for metrics).
            inner = getattr(child.get("route"), "path", None)
            scope["route"] = MountedRoute(self.prefix + (inner or "/{path:path}"))

    def url_path_for(self, name: str, params: Mapping[str, Any]) -> str | None:
        if self.name is not None and name == self.name and set(params) == {"path"}:
            return self.prefix + "/" + str(params["path"]).lstrip("/")
        if self.name is not None and name.startswith(self.name + ":"):
            name = name[len(self.name) + 1 :]
        elif self.name is not None:
            return None
        finder = getattr(self.app, "url_path_for", None)
        if finder is None:
            return None
        try:
            return self.prefix + finder(name, **params)  # type: ignore[no-any-return]
        except NoMatchFound:
            return None

    def __repr__(self) -> str:
        return f"Mount(path={self.prefix or '/'!r}, app={self.app!r}, name={self.name!r})"


class _Methods(dict[str, Route]):
    """Routes of one path template by method; ``explicit`` leaves out GET's implicit HEAD."""

    def __init__(self) -> None:
        super().__init__()
        self.explicit: set[str] = set()


class Router:
    """Dispatches a scope to its route; answers 404, 405 (with Allow) and slash redirects.

    Routes are indexed as they are added: static paths in a dict, dynamic ones in a trie, so
    the cost of a lookup does not grow with the number of routes.
    """

    def __init__(
        self,
        redirect_slashes: bool = True,
        *,
        lifespan: ASGIApp | None = None,
        exception_handlers: ExceptionHandlers | None = None,
    ) -> None:
        self.routes: list[Route | WebSocketRoute | Mount] = []
        self.redirect_slashes = redirect_slashes
        self.exception_handlers = exception_handlers or ExceptionHandlers()
        self.lifespan = lifespan
        self._static: dict[str, _Methods] = {}
        self._dynamic: PathTrie[_Methods] = PathTrie()
        self._ws_static: dict[str, WebSocketRoute] = {}
        self._ws_dynamic: PathTrie[_Methods] = PathTrie()
        self._mounts: list[Mount] = []

    # -- declaration -----------------------------------------------------------------------

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Collection[str] | None = None,
        name: str | None = None,
    ) -> Route:
        route = Route(path, endpoint, methods=methods, name=name)
        if route.template.is_static:
            table = self._static.setdefault(path, _Methods())
        else:
            table = self._dynamic.setdefault(route.template, _Methods)
        explicit = {m.upper() for m in (methods or ["GET"])}
        clash = sorted(explicit & table.explicit)
        if clash:
            raise DuplicateRouteError(
                f"route {', '.join(clash)} {path!r} is already declared "
                f"(by {table[clash[0]].endpoint!r})"
            )
        table.explicit |= explicit
        for method in explicit:
            table[method] = route
        if "GET" in explicit and "HEAD" not in table:
            table["HEAD"] = route  # GET answers HEAD unless HEAD has its own route
        self.routes.append(route)
        return route

    def add_websocket_route(
        self, path: str, endpoint: Callable[[Any], Awaitable[None]], name: str | None = None
    ) -> WebSocketRoute:
        route = WebSocketRoute(path, endpoint, name=name)
        if route.template.is_static:
            if path in self._ws_static:
                raise DuplicateRouteError(f"WebSocket route {path!r} is already declared")
            self._ws_static[path] = route
        else:
            table = self._ws_dynamic.setdefault(route.template, _Methods)
            if _WEBSOCKET in table:
                raise DuplicateRouteError(f"WebSocket route {path!r} is already declared")
            table[_WEBSOCKET] = route  # type: ignore[assignment]
        self.routes.append(route)
        return route

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> Mount:
        mount = Mount(path, app, name=name)
        if any(m.prefix == mount.prefix for m in self._mounts):
            raise DuplicateRouteError(f"an app is already mounted at {path!r}")
        self._mounts.append(mount)
        # Longest prefix first, so "/api/v2" wins over "/api".
        self._mounts.sort(key=lambda m: len(m.prefix), reverse=True)
        self.routes.append(mount)
        return mount

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route called ``name`` with ``path_params`` filled in.

        Mounted apps' routes are reached as ``"mount_name:route_name"``.
        """
        for route in self.routes:
            try:
                path = route.url_path_for(name, path_params)
            except (ValueError, TypeError) as exc:
                raise NoMatchFound(f"route {name!r}: bad parameter value ({exc})") from None
            if path is not None:
                return path
        raise NoMatchFound(f"no route named {name!r} takes parameters {sorted(path_params)}")

    # -- dispatch --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"] if not scope.get("root_path") else route_path(scope)
            table = self._static.get(path)
            if table is not None:
                route = table.get(scope["method"])
                if route is not None:
                    scope["route"] = route
                    await handle_http(route, self.exception_handlers, scope, receive, send)
                    return
            else:
                found = self._dynamic.match(path)
                if found is not None:
                    route = found[0].get(scope["method"])
                    if route is not None:
                        scope["path_params"] = found[1]
                        scope["route"] = route
                        await handle_http(route, self.exception_handlers, scope, receive, send)
                        return
            await self._http_slow(path, table, scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            if self.lifespan is None:
                raise RuntimeError("this router has no lifespan handler")
            await self.lifespan(scope, receive, send)
        else:
            raise RuntimeError(f"unsupported ASGI scope type {kind!r}")

    def _lookup(self, path: str) -> tuple[_Methods | None, dict[str, Any]]:
        table = self._static.get(path)
        if table is not None:
            return table, {}
        found = self._dynamic.match(path)
        if found is not None:
            return found
        return None, {}

    async def _http_slow(
        self, path: str, static: _Methods | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        method = scope["method"]
        found = self._dynamic.match(path)
        if found is not None and method in found[0]:
            scope["path_params"] = found[1]
            scope["route"] = found[0][method]
            await handle_http(found[0][method], self.exception_handlers, scope, receive, send)
            return
        table = static if static is not None else (found[0] if found is not None else None)
        if table is not None:
            allow = ", ".join(sorted(table))
            await self.exception_handlers.respond_status(
                405, scope, receive, send, headers={"Allow": allow}
            )
            return
        for mount in self._mounts:
            if mount.matches(path):
                await guarded(mount, self.exception_handlers, scope, receive, send)
                return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if self._lookup(other)[0] is not None:
                full: str = scope["path"]
                new_path = full[:-1] if full.endswith("/") else full + "/"
                # "//evil.example/" must not become a redirect to another host.
                new_path = "/" + new_path.lstrip("/")
                query = scope.get("query_string", b"").decode("latin-1")
                location = new_path + ("?" + query if query else "")
                await RedirectResponse(location, 307)(scope, receive, send)
                return
        await self.exception_handlers.respond_status(404, scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        route = self._ws_static.get(path)
        if route is None:
            found = self._ws_dynamic.match(path)
            if found is not None:
                route = found[0][_WEBSOCKET]  # type: ignore[assignment]
                scope["path_params"] = found[1]
        if route is not None:
            scope["route"] = route
            await handle_websocket(route.endpoint, scope, receive, send)
            return
        for mount in self._mounts:
            if mount.matches(path):
                await mount(scope, receive, send)
                return
        if "websocket.http.response" in (scope.get("extensions") or {}):
            response: Response = PlainTextResponse("Not Found", 404)

            async def prefixed(message: Any) -> None:
                await send({**message, "type": "websocket." + message["type"]})

            await response(scope, receive, prefixed)
        else:
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
