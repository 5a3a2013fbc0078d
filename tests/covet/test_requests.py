from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

import pytest

from covet import Covet, HTTPException, Request
from covet.exceptions import ClientDisconnect
from covet.testclient import TestClient
from covet.types import Message


def echo_app(**options: Any) -> Covet:
    app = Covet(**options)

    @app.route("/info", methods=["GET", "POST"])
    async def info(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "url": str(request.url),
            "path": request.path,
            "query": request.query_params.multi_items(),
            "a": request.query_params.getlist("a"),
            "x_multi": request.headers.getlist("X-Multi"),
            "ua": request.headers["User-Agent"],
            "cookies": request.cookies,
            "client": list(request.client or ()),
            "base": str(request.base_url),
        }

    @app.post("/body")
    async def body(request: Request) -> bytes:
        return await request.body()

    @app.post("/json")
    async def json_(request: Request) -> Any:
        first = await request.json()
        assert await request.json() is first  # cached
        return {"got": first}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, Any]:
        chunks = [chunk async for chunk in request.stream()]
        return {"size": sum(map(len, chunks)), "tail": chunks[-1].decode()}

    @app.post("/twice")
    async def twice(request: Request) -> dict[str, Any]:
        await request.body()
        again = [chunk async for chunk in request.stream()]
        return {"again": b"".join(again).decode()}

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        return {"name": data["name"], "same": data is await request.form()}

    return app


def test_request_attributes() -> None:
    client = TestClient(echo_app(), cookies={"session": "abc"})
    response = client.get(
        "/info?a=1&a=2&b=",
        headers=[("X-Multi", "one"), ("x-multi", "two")],
    )
    data = response.json()
    assert data["method"] == "GET"
    assert data["url"] == "http://testserver/info?a=1&a=2&b="
    assert data["path"] == "/info"
    assert data["query"] == [["a", "1"], ["a", "2"], ["b", ""]]
    assert data["a"] == ["1", "2"]
    assert data["x_multi"] == ["one", "two"]
    assert data["ua"] == "testclient"
    assert data["cookies"] == {"session": "abc"}
    assert data["client"] == ["testclient", 50000]
    assert data["base"] == "http://testserver/"


def test_body_json_and_stream() -> None:
    client = TestClient(echo_app())
    assert client.post("/body", content=b"raw bytes").content == b"raw bytes"
    assert client.post("/json", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}
    assert client.post("/stream", content=b"x" * 1000).json() == {"size": 1000, "tail": ""}
    assert client.post("/twice", content=b"cached").json() == {"again": "cached"}


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b'{"a": 1'])
def test_malformed_json_is_400_with_json_error(body: bytes) -> None:
    response = TestClient(echo_app()).post("/json", content=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"].startswith("Malformed JSON body")


def test_body_over_limit_is_413() -> None:
    client = TestClient(echo_app(max_body_size=10))
    assert client.post("/body", content=b"x" * 10).status_code == 200
    response = client.post("/body", content=b"x" * 11)
    assert response.status_code == 413
    assert response.json() == {"detail": HTTPStatus(413).phrase}
    assert client.post("/json", content=b'{"a": "long enough"}').status_code == 413

    def chunks() -> Any:
        yield b"x" * 8
        yield b"x" * 8

    # No Content-Length: the limit is enforced while streaming.
    assert client.post("/stream", content=chunks()).status_code == 413


def test_no_body_limit() -> None:
    client = TestClient(echo_app(max_body_size=None))
    assert len(client.post("/body", content=b"x" * 100_000).content) == 100_000


def test_form_delegates_to_formparsers() -> None:
    client = TestClient(echo_app())
    assert client.post("/form", data={"name": "ada"}).json() == {"name": "ada", "same": True}
    response = client.post("/form", content=b"name=x", headers={"content-type": "text/csv"})
    assert response.status_code == 415


def test_lifespan_state_on_request() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[dict[str, Any]]:
        yield {"db": "connected"}

    app = Covet(lifespan=lifespan)

    @app.get("/")
    async def home(request: Request) -> dict[str, Any]:
        request.state.per_request = 1
        return {"db": request.state.db, "has": "per_request" in request.state}

    with TestClient(app) as client:
        assert client.get("/").json() == {"db": "connected", "has": True}
        assert client.get("/").json() == {"db": "connected", "has": True}


def test_endpoint_shapes() -> None:
    app = Covet()

    @app.get("/none")
    async def no_args() -> dict[str, Any]:
        return {"args": 0}

    @app.get("/sync")
    def sync(request: Request) -> dict[str, Any]:
        return {"sync": request.path}

    class Endpoint:
        async def __call__(self, request: Request) -> str:
            return "callable object"

    app.add_route("/obj", Endpoint())
    client = TestClient(app)
    assert client.get("/none").json() == {"args": 0}
    assert client.get("/sync").json() == {"sync": "/sync"}
    assert client.get("/obj").text == "callable object"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def make_receive(messages: list[Message]) -> Any:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    return receive


def scope(**extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [],
        "query_string": b"",
        **extra,
    }


def test_is_disconnected() -> None:
    async def check() -> tuple[bool, bool, bytes]:
        request = Request(scope(), make_receive([]))
        idle = await request.is_disconnected()
        chunked = make_receive(
            [
                {"type": "http.request", "body": b"ab", "more_body": True},
                {"type": "http.request", "body": b"c"},
            ]
        )
        early = Request(scope(), chunked)
        assert not await early.is_disconnected()
        gone = Request(scope(), make_receive([{"type": "http.disconnect"}]))
        return (
            idle,
            await gone.is_disconnected() and await gone.is_disconnected(),
            (await early.body()),
        )

    assert run(check()) == (False, True, b"abc")


class _Limited:
    def __init__(self, max_body_size: int | None) -> None:
        self.max_body_size = max_body_size


def _counting_receive(messages: list[Message]) -> tuple[Any, list[int]]:
    taken = [0]
    inner = make_receive(messages)

    async def receive() -> Message:
        taken[0] += 1
        return await inner()  # type: ignore[no-any-return]

    return receive, taken


def _chunks(count: int, size: int) -> list[Message]:
    body = [{"type": "http.request", "body": b"x" * size, "more_body": True}] * (count - 1)
    return [*body, {"type": "http.request", "body": b"x" * size}]


def test_is_disconnected_reads_one_message_and_keeps_it_for_the_body() -> None:
    async def check() -> tuple[bool, int, bytes, int]:
        receive, taken = _counting_receive(_chunks(100, 1000))
        request = Request(scope(app=_Limited(1_000_000)), receive)
        gone = await request.is_disconnected()
        peeked = taken[0]
        return gone, peeked, await request.body(), taken[0]

    assert run(check()) == (False, 1, b"x" * 100_000, 100)


@pytest.mark.parametrize("limit", [10_000, None], ids=["max_body_size", "unlimited"])
def test_is_disconnected_never_buffers_past_the_body_limit(limit: int | None) -> None:
    async def check() -> int:
        receive, taken = _counting_receive(_chunks(1000, 1000))
        request = Request(scope(app=_Limited(limit)), receive)
        for _ in range(2000):
            assert not await request.is_disconnected()
        return taken[0]

    # One chunk past the budget (the limit, at most 64 KiB), then it stops looking.
    expected = 11 if limit is not None else 66
    assert run(check()) == expected


def test_is_disconnected_past_the_limit_still_ends_in_413() -> None:
    async def check() -> None:
        request = Request(scope(app=_Limited(10_000)), make_receive(_chunks(1000, 1000)))
        for _ in range(20):
            await request.is_disconnected()
        await request.body()

    with pytest.raises(HTTPException) as caught:
        run(check())
    assert caught.value.status_code == 413


def test_is_disconnected_sees_a_disconnect_behind_body_chunks() -> None:
    async def check() -> tuple[list[bool], type[BaseException] | None]:
        messages: list[Message] = [
            {"type": "http.request", "body": b"ab", "more_body": True},
            {"type": "http.disconnect"},
        ]
        request = Request(scope(app=_Limited(100)), make_receive(messages))
        seen = [await request.is_disconnected() for _ in range(3)]
        try:
            await request.body()
        except ClientDisconnect as exc:
            return seen, type(exc)
        return seen, None

    assert run(check()) == ([False, True, True], ClientDisconnect)


def test_disconnect_while_reading_body() -> None:
    async def read() -> None:
        request = Request(scope(), make_receive([{"type": "http.disconnect"}]))
        await request.body()

    with pytest.raises(ClientDisconnect):
        run(read())


def test_stream_consumed_twice_is_an_error() -> None:
    async def read() -> None:
        request = Request(scope(), make_receive([{"type": "http.request", "body": b"x"}]))
        async for _ in request.stream():
            pass
        async for _ in request.stream():
            pass

    with pytest.raises(RuntimeError, match="consumed"):
        run(read())


def test_request_without_receive() -> None:
    request = Request(scope(headers=[(b"cookie", b'a=1; b="q"; junk; =v')]))
    assert request.cookies == {"a": "1", "b": "q", "": "v"}
    assert request.path_params == {}
    assert request.client is None
    assert request.receive is not None
    with pytest.raises(RuntimeError):
        run(request.body())


def test_http_exception_repr() -> None:
    exc = HTTPException(404)
    assert exc.detail == "Not Found"
    assert str(exc) == "404: Not Found"
    assert "status_code=404" in repr(exc)
    assert HTTPException(799).detail == ""


def test_uploaded_files_are_closed_after_the_response() -> None:
    app = Covet()
    uploads: list[Any] = []

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        form = await request.form()
        uploads.append(form["file"])
        return {"size": len(await form["file"].read())}

    response = TestClient(app).post("/upload", files={"file": ("a.txt", b"hello")})
    assert response.json() == {"size": 5}
    assert uploads[0].file.closed
