"""Calling endpoints: the request hot path, return-value conversion and exception handlers.

This is the innermost layer of every covet app. For a matched route it builds a lazy
:class:`Request`, awaits the endpoint, turns the return value into exactly two ASGI messages,
and routes exceptions to the handlers registered by status code or exception class.

Unhandled errors are answered with a 500 here, where it is known whether the response has
started, so the hot path needs no outer layer wrapping ``send``: an exception from the endpoint
means nothing was sent; only responses that send in several steps (streaming, files, custom
ASGI responses) and mounted apps are watched. The error is then raised on, for the server's log.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from covet._json import dumps
from covet.concurrency import run_in_threadpool
from covet.errorpage import send_server_error
from covet.exceptions import HTTPException, WebSocketDisconnect, WebSocketException
from covet.requests import Request
from covet.responses import JSONResponse, PlainTextResponse, Response, content_length
from covet.types import Message, Receive, Scope, Send
from covet.websockets import WebSocket, WebSocketState

if TYPE_CHECKING:
    from covet.routing import Route

__all__ = [
    "ExceptionHandlers",
    "endpoint_caller",
    "guarded",
    "handle_http",
    "handle_websocket",
    "http_exception_response",
    "to_response",
]

ExceptionHandler = Callable[[Request, Exception], Any]

_JSON_TYPE = (b"content-type", b"application/json")
_TEXT_TYPE = (b"content-type", b"text/plain; charset=utf-8")
_BYTES_TYPE = (b"content-type", b"application/octet-stream")


def endpoint_caller(endpoint: Callable[..., Any]) -> tuple[Callable[..., Awaitable[Any]], bool]:
    """How to call ``endpoint``: an awaitable-returning callable, and whether it takes a request.

    Plain functions run in a worker thread so they cannot block the event loop.
    """
    try:
        parameters = inspect.signature(endpoint).parameters.values()
        required = [
            p
            for p in parameters
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        takes_request = bool(required) or any(p.kind is p.VAR_POSITIONAL for p in parameters)
    except (TypeError, ValueError):  # builtins and the like: assume the usual shape
        takes_request = True
    if _is_async(endpoint):
        return endpoint, takes_request
    return functools.partial(run_in_threadpool, endpoint), takes_request


def _is_async(func: Any) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - callable objects
    )


def to_response(result: Any) -> Response:
    """A Response for an endpoint's return value (dict/list, str, bytes or a Response)."""
    if isinstance(result, Response):
        return result
    if isinstance(result, dict | list):
        return JSONResponse(result)
    if isinstance(result, str):
        return PlainTextResponse(result)
    if isinstance(result, bytes):
        return Response(result, media_type="application/octet-stream")
    raise TypeError(
        f"an endpoint returned {type(result).__name__}; return a Response, dict, list, str or bytes"
    )


async def handle_http(
    route: Route, handlers: ExceptionHandlers, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run ``route`` for one request and send its response."""
    request = None
    try:
        try:
            if route.takes_request:
                request = Request(scope, receive)
                result = await route.call(request)
            else:
                result = await route.call()
            kind = type(result)
            status = 200
            if kind is dict or kind is list:
                body = dumps(result)
                headers = [(b"content-length", content_length(len(body))), _JSON_TYPE]
            elif kind is str:
                body = result.encode("utf-8")
                headers = [(b"content-length", content_length(len(body))), _TEXT_TYPE]
            elif kind is bytes:
                body = result
                headers = [(b"content-length", content_length(len(body))), _BYTES_TYPE]
            else:
                response = to_response(result)
                if type(response).__call__ is not Response.__call__:
                    body = None  # a response that sends in several steps: watch it
                else:  # a complete body: sent here, saving the response's own call
                    body = response.body
                    status = response.status_code
                    headers = response.raw_headers
        except Exception as exc:
            await handlers.handle(exc, request or Request(scope, receive), scope, receive, send)
            return
        if body is None:
            await guarded(response, handlers, scope, receive, send)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
    finally:
        if request is not None and request._form is not None:
            await request.close()  # uploaded files' temporary storage


async def handle_websocket(
    endpoint: Callable[[WebSocket], Awaitable[None]], scope: Scope, receive: Receive, send: Send
) -> None:
    """Run a WebSocket endpoint; ``WebSocketException`` closes with its code and reason, any
    other error closes with 1011 and goes on to the server.

    A 503 ``HTTPException`` (``covet.db.DatabaseUnavailable``: a dependency is down) is an
    answer, not a crash: before ``accept`` it is the handshake's HTTP response (503 with its
    Retry-After, where the server can send one), after it the close code RFC 6455 registers for
    it, 1013 Try Again Later; a client can tell "come back later" from "this endpoint broke".
    """
    websocket = WebSocket(scope, receive, send)
    try:
        await endpoint(websocket)
    except WebSocketDisconnect:
        pass  # the peer left; nothing more to say to it
    except WebSocketException as exc:
        await _close_quietly(websocket, exc.code, exc.reason)
    except Exception as exc:
        if isinstance(exc, HTTPException) and exc.status_code == 503:
            await _try_again_later(websocket, exc)
            return
        await _close_quietly(websocket, 1011, "")
        raise


async def _try_again_later(websocket: WebSocket, exc: HTTPException) -> None:
    connecting = websocket.application_state is WebSocketState.CONNECTING
    if connecting and websocket.supports_denial_response:
        await websocket.send_denial_response(http_exception_response(exc))
        return
    await _close_quietly(websocket, 1013, "")


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state in (WebSocketState.CONNECTING, WebSocketState.CONNECTED):
        try:
            await websocket.close(code, reason)
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass


async def guarded(
    app: Callable[[Scope, Receive, Send], Awaitable[None]],
    handlers: ExceptionHandlers,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Run an ASGI app (a multi-step response, a mounted app) and hand its errors to the
    exception handlers if it failed before starting its response."""
    started = False

    async def watch(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive, watch)
    except Exception as exc:
        if started:
            raise
        await handlers.handle(exc, Request(scope, receive), scope, receive, send)


def http_exception_response(exc: HTTPException) -> Response:
    """The default response for an HTTPException: JSON ``{"detail": ...}``."""
    if exc.status_code < 200 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)


class ExceptionHandlers:
    """Exception handlers by status code (for HTTPException) and by exception class.

    A handler is ``(request, exc) -> Response`` (sync or async; dict/str also accepted).
    Errors no handler takes go to :meth:`server_error`: the ``500``/``Exception`` handler if
    there is one, else covet's 500 page (a traceback only with ``debug``); the error is then
    raised on to the server, which logs it.

    Example::

        handlers = ExceptionHandlers(debug=False, handlers={404: not_found})
    """

    def __init__(
        self,
        debug: bool = False,
        handlers: Mapping[int | type[BaseException], ExceptionHandler] | None = None,
    ) -> None:
        self.debug = debug
        self.by_status: dict[int, ExceptionHandler] = {}
        self.by_class: dict[type[BaseException], ExceptionHandler] = {}
        for key, handler in (handlers or {}).items():
            self.add(key, handler)

    def add(self, key: int | type[BaseException], handler: ExceptionHandler) -> None:
        if isinstance(key, int):
            self.by_status[key] = handler
        elif isinstance(key, type) and issubclass(key, BaseException):
            self.by_class[key] = handler
        else:
            raise TypeError("exception handler key must be a status code or an exception class")

    def for_class(self, exc: BaseException) -> tuple[type[BaseException], ExceptionHandler] | None:
        for cls in type(exc).__mro__:
            handler = self.by_class.get(cls)
            if handler is not None:
                return cls, handler
        return None

    async def call(self, handler: ExceptionHandler, request: Request, exc: Exception) -> Response:
        result = handler(request, exc)
        if inspect.isawaitable(result):
            result = await result
        return to_response(result)

    async def server_error(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        """Send the 500 for ``exc``: the ``500``/``Exception`` handler's response, or covet's
        500 page when there is none or it fails too."""
        handler = self.by_status.get(500) or self.by_class.get(Exception)
        if handler is not None:
            try:
                response = await self.call(handler, Request(scope, receive), exc)
            except Exception as error:
                await send_server_error(scope, send, error, self.debug)
                return
            await response(scope, receive, send)
            return
        await send_server_error(scope, send, exc, self.debug)

    async def handle(
        self, exc: Exception, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Answer ``exc`` with its handler's response; answer 500 and re-raise if none."""
        handler = None
        if isinstance(exc, HTTPException):
            handler = self.by_status.get(exc.status_code)
        if handler is None:
            # ``Exception`` handlers are for server errors, not for HTTPExceptions.
            found = self.for_class(exc)
            if found is not None and found[0] is not Exception:
                handler = found[1]
        if handler is None and not isinstance(exc, HTTPException):
            await self.server_error(scope, receive, send, exc)
            raise exc
        try:
            if handler is None:
                response = http_exception_response(exc)  # type: ignore[arg-type]
            else:
                response = await self.call(handler, request, exc)
        except Exception as error:
            await self.server_error(scope, receive, send, error)
            raise
        await response(scope, receive, send)

    async def respond_status(
        self,
        status_code: int,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer with ``status_code`` (404, 405...), through its handler when there is one."""
        exc = HTTPException(status_code, headers=headers)
        await self.handle(exc, Request(scope, receive), scope, receive, send)
