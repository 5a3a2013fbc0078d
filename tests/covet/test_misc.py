"""Smaller pieces: status constants, convertors, the test client, endpoint plumbing."""

from __future__ import annotations

import asyncio
import functools
import uuid
from typing import Any

import httpx
import pytest

from covet import Covet, Request, Response, status
from covet.concurrency import iterate_in_threadpool, run_in_threadpool
from covet.convertors import CONVERTOR_TYPES
from covet.dispatch import endpoint_caller, to_response
from covet.pipeline import FunctionMiddleware
from covet.testclient import TestClient
from covet.types import Message, Receive, Scope, Send


def test_status_constants() -> None:
    assert status.HTTP_200_OK == 200
    assert status.HTTP_404_NOT_FOUND == 404
    assert status.WS_1000_NORMAL_CLOSURE == 1000
    assert status.phrase(418) == "I'm a Teapot" or status.phrase(418) == "I'm a teapot"
    assert status.phrase(799) == ""


def test_convertor_rendering() -> None:
    string, number, real = CONVERTOR_TYPES["str"], CONVERTOR_TYPES["int"], CONVERTOR_TYPES["float"]
    assert string.to_string("abc") == "abc"
    for bad in ("", "a/b"):
        with pytest.raises(ValueError):
            string.to_string(bad)
    assert number.to_string(5) == "5"
    assert real.to_string(1.5) == "1.5"
    assert real.to_string(2) == "2"
    for value in (-1.0, float("inf")):
        with pytest.raises(ValueError):
            real.to_string(value)
    ident = uuid.uuid4()
    assert CONVERTOR_TYPES["uuid"].to_string(str(ident)) == str(ident)
    assert CONVERTOR_TYPES["path"].to_string("a/b") == "a/b"


def test_method_decorators() -> None:
    app = Covet()

    async def endpoint(request: Request) -> str:
        return request.method

    for method in ("post", "put", "patch", "delete", "options"):
        getattr(app, method)("/m")(endpoint)
    client = TestClient(app)
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        assert client.request(method, "/m").text == method
    assert app.add_route("/direct", endpoint).path == "/direct"
    assert repr(app.routes[-1]).startswith("Route(path='/direct'")


def test_endpoint_caller_shapes() -> None:
    async def takes(request: Any) -> None: ...

    async def none() -> None: ...

    async def star(*args: Any) -> None: ...

    def sync(request: Any) -> int:
        return 1

    assert endpoint_caller(takes) == (takes, True)
    assert endpoint_caller(none) == (none, False)
    assert endpoint_caller(star)[1] is True
    assert endpoint_caller(functools.partial(takes))[0] is not None
    call, takes_request = endpoint_caller(sync)

    async def call_sync() -> Any:
        return await call(None)

    assert takes_request and asyncio.run(call_sync()) == 1
    assert endpoint_caller(print)[1] is True  # builtins: no signature, assume a request


def test_to_response() -> None:
    assert to_response("x").body == b"x"
    assert to_response(b"x").raw_headers[-1] == (b"content-type", b"application/octet-stream")
    response = Response("r")
    assert to_response(response) is response


def test_concurrency_helpers() -> None:
    async def run() -> tuple[int, list[int]]:
        total = await run_in_threadpool(sum, [1, 2, 3])
        items = [item async for item in iterate_in_threadpool(iter([1, 2]))]
        return total, items

    assert asyncio.run(run()) == (6, [1, 2])


def test_function_middleware_passes_other_scopes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def dispatch(request: Request, call_next: Any) -> Response:
        raise AssertionError("not for websockets")

    async def run() -> None:
        async def receive() -> Message:
            return {}

        async def send(message: Message) -> None:
            pass

        await FunctionMiddleware(inner, dispatch)({"type": "websocket"}, receive, send)

    asyncio.run(run())
    assert seen == ["websocket"]


def test_testclient_misc() -> None:
    app = Covet()

    @app.get("/where")
    async def where(request: Request) -> dict[str, Any]:
        return {"server": list(request.scope["server"]), "scheme": request.url.scheme}

    client = TestClient(app, base_url="https://example.org:8443")
    assert client.get("/where").json() == {"server": ["example.org", 8443], "scheme": "https"}


def test_testclient_protocol_errors() -> None:
    async def twice(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def body_first(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b""})

    async def after_end(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        await send({"type": "http.response.body", "body": b"late"})

    for app, match in ((twice, "twice"), (body_first, "before"), (after_end, "after")):
        with pytest.raises(RuntimeError, match=match):
            TestClient(app).get("/")


def test_testclient_receive_disconnect_after_response() -> None:
    messages: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        messages.append(await receive())
        await Response("done")(scope, receive, send)
        messages.append(await receive())

    assert TestClient(app).post("/", content=b"x").text == "done"
    assert [m["type"] for m in messages] == ["http.request", "http.disconnect"]


def test_testclient_websocket_app_returns_without_closing() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    with TestClient(app).websocket_connect("/") as ws:
        with pytest.raises(Exception, match="without closing"):
            ws.receive_text()
        with pytest.raises(Exception, match="without closing"):
            ws.receive()


def test_testclient_websocket_send_before_open() -> None:
    session = TestClient(Covet()).websocket_connect("/x")
    with pytest.raises(RuntimeError, match="not open"):
        session.send_text("x")


def test_testclient_lifespan_unexpected_message() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "nope"})

    with pytest.raises(RuntimeError, match="startup.failed: nope"):
        with TestClient(app):
            pass


def test_is_httpx_client() -> None:
    assert isinstance(TestClient(Covet()), httpx.Client)


def test_testclient_with_an_app_ignoring_lifespan() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await Response("plain app")(scope, receive, send)

    with TestClient(app) as client:
        assert client.get("/").text == "plain app"
