"""The incoming request, parsed lazily: nothing is computed until a handler asks for it.

Example::

    async def create(request: Request):
        payload = await request.json()
        page = request.query_params.get("page", "1")
        return {"got": payload, "page": page, "agent": request.headers.get("user-agent")}
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http.cookies import _unquote  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

from covet._json import loads
from covet.datastructures import URL, Address, Headers, QueryParams, State
from covet.exceptions import ClientDisconnect, HTTPException
from covet.types import Message, Receive, Scope

if TYPE_CHECKING:
    from covet.applications import Covet
    from covet.auth.users import AuthCredentials

__all__ = ["HTTPConnection", "Request", "cookie_parser"]


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers send it (later duplicates win)."""
    cookies: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            key, value = "", key
        key, value = key.strip(), value.strip()
        if key or value:
            cookies[key] = _unquote(value)
    return cookies


# The most unread body `is_disconnected` holds while looking for a disconnect behind it.
_PEEK_LIMIT = 64 * 1024


async def _empty_receive() -> Message:
    raise RuntimeError("receive is not available on this connection")


class HTTPConnection:
    """What HTTP requests and WebSockets share: URL, headers, query, cookies, client, state."""

    # Lazy caches default to these class attributes, so building a connection sets only
    # what it is given: on the hot path that is cheaper than filling slots.
    _headers: Headers | None = None
    _query_params: QueryParams | None = None
    _url: URL | None = None
    _cookies: dict[str, str] | None = None
    _state: State | None = None

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def app(self) -> Covet:
        return self.scope["app"]  # type: ignore[no-any-return]

    @property
    def url(self) -> URL:
        if self._url is None:
            self._url = URL(scope=self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        scope = dict(self.scope)
        scope["path"] = (scope.get("root_path") or "") + "/"
        scope["query_string"] = b""
        return URL(scope=scope)

    @property
    def path(self) -> str:
        return self.scope["path"]  # type: ignore[no-any-return]

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=list(self.scope["headers"]))
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query_params is None:
            self._query_params = QueryParams(self.scope.get("query_string", b""))
        return self._query_params

    @property
    def path_params(self) -> dict[str, Any]:
        return self.scope.get("path_params") or {}

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            header = self.headers.get("cookie")
            self._cookies = cookie_parser(header) if header else {}
        return self._cookies

    @property
    def client(self) -> Address | None:
        client = self.scope.get("client")
        return None if client is None else Address(client[0], client[1])

    @property
    def state(self) -> State:
        """Per-request state, seeded from what the lifespan yielded (``scope["state"]``)."""
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    @property
    def session(self) -> dict[str, Any]:
        """The signed-cookie session (``covet.auth.SessionMiddleware``), a dict."""
        return self._extension("session", "SessionMiddleware")  # type: ignore[no-any-return]

    @property
    def user(self) -> Any:
        """Who made the request (``covet.auth.AuthenticationMiddleware``): the backend's user
        object (typed ``Any`` so an app's own user class needs no cast)."""
        return self._extension("user", "AuthenticationMiddleware")

    @property
    def auth(self) -> AuthCredentials:
        """The request's scopes (``covet.auth.AuthenticationMiddleware``)."""
        return self._extension("auth", "AuthenticationMiddleware")  # type: ignore[no-any-return]

    def _extension(self, key: str, middleware: str) -> Any:
        # What a middleware put in the scope; its absence is a set-up mistake, said plainly.
        try:
            return self.scope[key]
        except KeyError:
            from covet.auth.exceptions import AuthConfigurationError

            raise AuthConfigurationError(
                f"request.{key} needs covet.auth.{middleware}: "
                f"app.add_middleware({middleware}, ...)"
            ) from None

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route called ``name``."""
        path = self.app.url_path_for(name, **path_params)
        return self.base_url.replace(path=(self.scope.get("root_path") or "") + path)


class Request(HTTPConnection):
    """An HTTP request. The body is read only when ``body()``, ``json()``, ``form()`` or
    ``stream()`` is awaited, and at most ``Covet(max_body_size=...)`` bytes of it (413 beyond).
    """

    _body: bytes | None = None
    _json: Any = None
    _json_done = False
    _form: Any = None
    _stream_consumed = False
    _disconnected = False
    # Body messages `is_disconnected` received before anyone read the body: `stream` replays
    # them first. None until the first one, so a request that never peeks pays nothing.
    _peeked: list[Message] | None = None
    _peeked_size = 0

    def __init__(self, scope: Scope, receive: Receive = _empty_receive) -> None:
        self.scope = scope
        self._receive = receive

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def receive(self) -> Receive:
        return self._receive

    def _max_body_size(self) -> int | None:
        app = self.scope.get("app")
        return getattr(app, "max_body_size", None)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, chunk by chunk (the cached body if already read)."""
        if self._body is not None:
            yield self._body
            yield b""
            return
        if self._stream_consumed:
            raise RuntimeError("the request body stream has already been consumed")
        self._stream_consumed = True
        limit = self._max_body_size()
        if limit is not None:
            declared = self.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise HTTPException(413)
        received = 0
        while True:
            message = await self._next_message()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if limit is not None and received > limit:
                    raise HTTPException(413)
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    break
            elif message["type"] == "http.disconnect":
                self._disconnected = True
                raise ClientDisconnect
        yield b""

    async def _next_message(self) -> Message:
        if self._peeked:
            return self._peeked.pop(0)
        if self._disconnected:
            return {"type": "http.disconnect"}
        return await self._receive()

    async def body(self) -> bytes:
        """The whole body (read once, then cached)."""
        if self._body is None:
            chunks = [chunk async for chunk in self.stream()]
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """The body parsed as JSON; a malformed body raises ``HTTPException(400)``."""
        if not self._json_done:
            body = await self.body()
            try:
                self._json = loads(body)
            except ValueError as exc:
                raise HTTPException(400, detail=f"Malformed JSON body: {exc}") from None
            self._json_done = True
        return self._json

    async def form(self, **limits: Any) -> Any:
        """The body parsed as a form (urlencoded or multipart), streamed, with size limits.

        Parsing is done by :func:`covet.formparsers.parse_form`; ``limits`` are passed to it
        unchanged (e.g. ``max_files``, ``max_fields``, ``max_part_size``).
        """
        if self._form is None:
            from covet.formparsers import parse_form

            content_type = self.headers.get("content-type", "")
            self._form = await parse_form(self, content_type, limits)
        return self._form

    async def close(self) -> None:
        """Release form resources (temporary upload files)."""
        if self._form is not None:
            close = getattr(self._form, "close", None)
            if close is not None:
                await close()

    async def is_disconnected(self) -> bool:
        """Whether the client has gone away, checked without blocking.

        Looks at one pending message at most. A body chunk found ahead of the disconnect is
        kept for `body()`/`stream()`, but never more than `max_body_size` (and 64 KiB) of
        them: past that the answer is False until the body is read, rather than buffering a
        body nobody asked for.
        """
        if self._disconnected:
            return True
        limit = self._max_body_size()
        budget = _PEEK_LIMIT if limit is None else min(limit, _PEEK_LIMIT)
        if self._peeked_size > budget:
            return False
        try:
            message = await asyncio.wait_for(self._receive(), timeout=0.000_001)
        except TimeoutError:
            return False
        if message["type"] == "http.disconnect":
            self._disconnected = True
        elif message["type"] == "http.request":
            if self._peeked is None:
                self._peeked = []
            self._peeked.append(message)
            self._peeked_size += len(message.get("body", b""))
        return self._disconnected
