from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from covet import (
    Covet,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Request,
    Response,
    StreamingResponse,
)
from covet.middleware.errors import ServerErrorMiddleware
from covet.pipeline import CallNext, Middleware, build_stack
from covet.testclient import TestClient
from covet.types import ASGIApp, Message, Receive, Scope, Send


class HeaderMiddleware:
    """A pure-ASGI middleware adding a header to every HTTP response."""

    instances = 0

    def __init__(self, app: ASGIApp, name: str, value: str) -> None:
        self.app = app
        self.name = name.encode()
        self.value = value.encode()
        HeaderMiddleware.instances += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (self.name, self.value)]
            await send(message)

        await self.app(scope, receive, add_header)


def base_app(**options: Any) -> Covet:
    app = Covet(**options)

    @app.get("/ok")
    async def ok(request: Request) -> dict[str, bool]:
        return {"ok": True}

    @app.post("/echo")
    async def echo(request: Request) -> bytes:
        return await request.body()

    @app.get("/boom")
    async def boom(request: Request) -> None:
        raise RuntimeError("secret detail")

    @app.get("/teapot")
    async def teapot(request: Request) -> None:
        raise HTTPException(418, detail="short and stout", headers={"x-tea": "earl grey"})

    @app.get("/value")
    async def value(request: Request) -> None:
        raise ValueError("bad value")

    @app.get("/stream")
    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"one,"
            yield b"two"

        return StreamingResponse(chunks())

    return app


def test_add_middleware_order_and_stack_built_once() -> None:
    app = base_app()
    HeaderMiddleware.instances = 0
    app.add_middleware(HeaderMiddleware, name="x-inner", value="1")
    app.add_middleware(HeaderMiddleware, name="x-outer", value="2")
    client = TestClient(app)
    for _ in range(3):
        response = client.get("/ok")
        assert response.headers["x-inner"] == "1"
        assert response.headers["x-outer"] == "2"
    # the outer one wraps the inner one, so its header is appended last
    assert list(response.headers)[-2:] == ["x-inner", "x-outer"]
    assert HeaderMiddleware.instances == 2
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_middleware(HeaderMiddleware, name="x-late", value="3")
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_exception_handler(404, lambda request, exc: "late")


def test_middleware_given_to_constructor() -> None:
    app = Covet(middleware=[Middleware(HeaderMiddleware, {"name": "x-m", "value": "v"})])

    @app.get("/")
    async def home() -> str:
        return "home"

    assert TestClient(app).get("/").headers["x-m"] == "v"


def test_function_middleware() -> None:
    app = base_app()
    calls: list[str] = []

    @app.middleware("http")
    async def timing(request: Request, call_next: CallNext) -> Response:
        calls.append("before " + request.url.path)
        response = await call_next(request)
        response.headers["x-timing"] = "1"
        calls.append("after")
        return response

    client = TestClient(app)
    response = client.get("/ok")
    assert response.json() == {"ok": True}
    assert response.headers["x-timing"] == "1"
    assert calls == ["before /ok", "after"]
    assert client.get("/stream").text == "one,two"
    assert client.get("/teapot").status_code == 418
    assert client.get("/missing").status_code == 404


def test_function_middleware_can_short_circuit_and_read_body() -> None:
    app = base_app()

    @app.middleware("http")
    async def guard(request: Request, call_next: CallNext) -> Response:
        if request.headers.get("x-deny"):
            return PlainTextResponse("denied", 403)
        if request.method == "POST":
            body = await request.body()  # the endpoint must still see the body
            response = await call_next(request)
            response.headers["x-seen"] = str(len(body))
            return response
        return await call_next(request)

    client = TestClient(app)
    assert client.get("/ok", headers={"x-deny": "1"}).status_code == 403
    response = client.post("/echo", content=b"hello")
    assert response.content == b"hello"
    assert response.headers["x-seen"] == "5"


def test_function_middleware_sees_unhandled_errors() -> None:
    app = base_app()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with pytest.raises(RuntimeError, match="secret detail"):
        TestClient(app).get("/boom")
    quiet = TestClient(app, raise_server_exceptions=False)
    assert quiet.get("/boom").status_code == 500


def test_function_middleware_errors() -> None:
    app = Covet()
    with pytest.raises(ValueError, match="only"):
        app.middleware("websocket")

    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    from covet.pipeline import FunctionMiddleware

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    client = TestClient(FunctionMiddleware(silent, dispatch))
    with pytest.raises(RuntimeError, match="without sending a response"):
        client.get("/")


def test_handler_exception_is_500_without_leaking() -> None:
    client = TestClient(base_app(), raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


def test_debug_shows_the_traceback() -> None:
    client = TestClient(base_app(debug=True), raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret detail" in response.text
    assert "Traceback" in response.text


def test_server_error_middleware_as_the_outermost_layer() -> None:
    async def boom(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("hidden")

    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("mid-response")

    plain = TestClient(ServerErrorMiddleware(boom), raise_server_exceptions=False)
    assert plain.get("/").text == "Internal Server Error"
    debug = TestClient(ServerErrorMiddleware(boom, debug=True), raise_server_exceptions=False)
    assert "RuntimeError: hidden" in debug.get("/").text
    started = TestClient(ServerErrorMiddleware(half), raise_server_exceptions=False)
    assert started.get("/").status_code == 200

    async def handler(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        await PlainTextResponse("custom", 503)(scope, receive, send)

    custom = TestClient(ServerErrorMiddleware(boom, handler=handler), raise_server_exceptions=False)
    assert custom.get("/").status_code == 503
    app = build_stack(boom, [], debug=False, error_handler=None)
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_http_exception_default_is_json_with_headers() -> None:
    response = TestClient(base_app()).get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "short and stout"}
    assert response.headers["x-tea"] == "earl grey"


def test_exception_handlers_by_status_and_class() -> None:
    app = base_app()

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(f"nothing at {request.url.path}", 404)

    @app.exception_handler(418)
    def teapot(request: Request, exc: HTTPException) -> dict[str, Any]:
        return {"teapot": exc.detail}

    @app.exception_handler(ValueError)
    async def value_error(request: Request, exc: ValueError) -> Response:
        return JSONResponse({"error": str(exc)}, 422)

    client = TestClient(app)
    assert client.get("/nowhere").text == "nothing at /nowhere"
    assert client.get("/teapot").json() == {"teapot": "short and stout"}
    value = client.get("/value")
    assert value.status_code == 422
    assert value.json() == {"error": "bad value"}
    # an unrelated 405 keeps the default
    assert client.post("/ok").status_code == 405


def test_exception_handler_for_http_exception_class() -> None:
    def handler(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(f"custom {exc.status_code}", exc.status_code)

    app = base_app(exception_handlers={HTTPException: handler})
    client = TestClient(app)
    assert client.get("/teapot").text == "custom 418"
    assert client.get("/missing").text == "custom 404"
    assert client.post("/ok").text == "custom 405"


@pytest.mark.parametrize("key", [500, Exception], ids=["status-500", "Exception"])
def test_server_error_handler_answers_and_still_raises(key: int | type[Exception]) -> None:
    app = base_app()

    @app.middleware("http")
    async def broken(request: Request, call_next: CallNext) -> Response:
        if request.url.path == "/mw-boom":
            raise KeyError("from middleware")
        return await call_next(request)

    app.add_exception_handler(key, lambda request, exc: PlainTextResponse("sorry", 500))
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.text == "sorry"
    # errors outside the router reach the same handler through the outer layer
    assert client.get("/mw-boom").text == "sorry"
    with pytest.raises(RuntimeError):
        TestClient(app).get("/boom")


def test_exception_handler_key_must_be_status_or_class() -> None:
    with pytest.raises(TypeError):
        Covet().add_exception_handler("404", lambda r, e: "")  # type: ignore[arg-type]


def test_no_content_http_exception() -> None:
    app = Covet()

    @app.get("/")
    async def home(request: Request) -> None:
        raise HTTPException(304)

    response = TestClient(app).get("/")
    assert response.status_code == 304
    assert response.content == b""


class LateStart(Response):
    """A response that fails before sending anything."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise HTTPException(409, detail="conflict found late")


def test_errors_from_responses_before_they_start_reach_the_handlers() -> None:
    app = Covet()

    @app.get("/late-http-error")
    async def late(request: Request) -> Response:
        return LateStart()

    @app.get("/mid-stream")
    async def mid(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"partial"
            raise RuntimeError("mid-stream failure")

        return StreamingResponse(chunks())

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/late-http-error")
    assert response.status_code == 409
    assert response.json() == {"detail": "conflict found late"}
    started = client.get("/mid-stream")
    assert started.status_code == 200  # too late for a 500: the status line went out
    with pytest.raises(RuntimeError, match="mid-stream failure"):
        TestClient(app).get("/mid-stream")


def test_failing_exception_handler_is_a_500() -> None:
    app = base_app()

    @app.exception_handler(ValueError)
    async def broken(request: Request, exc: ValueError) -> Response:
        raise LookupError("handler bug")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/value")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    with pytest.raises(LookupError):
        TestClient(app).get("/value")


def test_failing_server_error_handler_falls_back_to_the_plain_500() -> None:
    app = base_app()

    @app.exception_handler(500)
    async def broken(request: Request, exc: Exception) -> Response:
        raise LookupError("handler bug")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_exception_handler_for_exception_leaves_http_errors_alone() -> None:
    app = base_app()
    app.add_exception_handler(Exception, lambda request, exc: PlainTextResponse("oops", 500))
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/missing").json() == {"detail": "Not Found"}
    assert client.get("/boom").text == "oops"


def test_server_error_passes_through_user_middleware() -> None:
    app = base_app()
    app.add_middleware(HeaderMiddleware, name="x-mw", value="1")
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.headers["x-mw"] == "1"  # the 500 is made inside the middleware


def test_mounted_app_errors_are_answered() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("mounted failure")

    app = base_app()
    app.mount("/broken", broken)

    @app.exception_handler(RuntimeError)
    async def runtime(request: Request, exc: RuntimeError) -> Response:
        return PlainTextResponse(f"handled {exc}", 503)

    response = TestClient(app).get("/broken/x")
    assert response.status_code == 503
    assert response.text == "handled mounted failure"


def test_router_alone_answers_a_plain_500() -> None:
    from covet.routing import Router

    router = Router()

    async def boom(request: Request) -> None:
        raise RuntimeError("x")

    router.add_route("/", boom)
    response = TestClient(router, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_function_middleware_discarding_the_downstream_response() -> None:
    app = base_app()

    @app.middleware("http")
    async def replace(request: Request, call_next: CallNext) -> Response:
        original = await call_next(request)
        if request.url.path == "/stream":
            return PlainTextResponse(f"replaced {original.status_code}")
        return original

    @app.middleware("http")
    async def failing(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        if request.url.path == "/ok":
            raise LookupError("middleware failed after call_next")
        return response

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/stream").text == "replaced 200"
    failed = client.get("/ok")
    assert failed.status_code == 500
    assert failed.text == "Internal Server Error"
