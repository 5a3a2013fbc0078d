from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from covet import (
    Covet,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
)
from covet.testclient import TestClient


def serve(result: Any) -> TestClient:
    app = Covet()

    @app.route("/", methods=["GET", "POST"])
    async def endpoint(request: Request) -> Any:
        return result() if callable(result) and not isinstance(result, Response) else result

    return TestClient(app)


@pytest.mark.parametrize(
    ("result", "content_type", "body"),
    [
        ({"a": 1}, "application/json", b'{"a":1}'),
        ([1, "é"], "application/json", '[1,"é"]'.encode()),
        ("héllo", "text/plain; charset=utf-8", "héllo".encode()),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
        (HTMLResponse("<p>x</p>"), "text/html; charset=utf-8", b"<p>x</p>"),
        (PlainTextResponse("t"), "text/plain; charset=utf-8", b"t"),
        (JSONResponse({"k": None}), "application/json", b'{"k":null}'),
        (Response(b"r", media_type="image/png"), "image/png", b"r"),
    ],
    ids=["dict", "list", "str", "bytes", "html", "text", "json", "response"],
)
def test_return_values_become_responses(result: Any, content_type: str, body: bytes) -> None:
    response = serve(result).get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["content-length"] == str(len(body))
    assert response.content == body


def test_subclass_of_dict_goes_through_the_slow_path() -> None:
    class Special(dict[str, int]):
        pass

    assert serve(Special(a=1)).get("/").json() == {"a": 1}


def test_unsupported_return_value_is_500() -> None:
    client = TestClient(serve(42).app, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    with pytest.raises(TypeError, match="returned NoneType"):
        serve(None).get("/")


def test_response_headers_and_status() -> None:
    response = Response("x", 201, headers={"X-A": "1", "Content-Type": "text/x"})
    assert response.headers["x-a"] == "1"
    assert response.headers["content-type"] == "text/x"
    assert response.raw_headers.count((b"content-length", b"1")) == 1
    assert repr(response) == "Response(status_code=201)"
    assert Response(status_code=204).raw_headers == []
    assert Response(bytearray(b"ab")).body == b"ab"
    with pytest.raises(TypeError):
        Response(123)


def test_json_non_str_keys_and_unicode() -> None:
    assert JSONResponse({1: "é"}).body == '{"1":"é"}'.encode()


def test_cookies() -> None:
    response = Response("x")
    response.set_cookie(
        "session",
        "v 1",
        max_age=60,
        expires=datetime(2030, 1, 1, tzinfo=UTC),
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie("plain", "p", path=None, samesite=None, expires=10)
    response.delete_cookie("old")
    cookies = response.headers.getlist("set-cookie")
    assert cookies[0] == (
        'session="v 1"; Domain=example.com; expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; '
        "Max-Age=60; Path=/; SameSite=strict; Secure"
    )
    assert cookies[1].startswith("plain=p; expires=")
    assert "Path" not in cookies[1]
    assert cookies[2].startswith("old=")
    assert "Max-Age=0" in cookies[2]
    with pytest.raises(ValueError):
        response.set_cookie("bad", samesite="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "attributes",
    [
        {"path": "/; Domain=evil.example"},
        {"path": "/\r\nSet-Cookie: admin=1"},
        {"path": "/\x00"},
        {"path": "/café"},
        {"domain": "example.com; Secure"},
        {"domain": "example.com\r\nX-Injected: 1"},
        {"domain": "evil.example/"},
        {"domain": ""},
        {"expires": "Tue, 01 Jan 2030 00:00:00 GMT; Domain=evil.example"},
        {"samesite": "lax; Domain=evil.example"},
    ],
    ids=lambda attributes: next(iter(attributes)),
)
def test_cookie_attributes_cannot_inject_attributes_or_headers(attributes: dict[str, Any]) -> None:
    response = Response("x")
    with pytest.raises(ValueError):
        response.set_cookie("session", "v", **attributes)
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("key", ["a b", "a;b", "a=b", "a\r\nb", "", "expires"])
def test_cookie_names_must_be_tokens(key: str) -> None:
    with pytest.raises(ValueError):
        Response("x").set_cookie(key, "v")


def test_cookie_values_are_quoted_not_injected() -> None:
    response = Response("x")
    response.set_cookie("session", "v; Domain=evil.example\r\nX-Injected: 1", samesite=None)
    (cookie,) = response.headers.getlist("set-cookie")
    assert cookie == 'session="v\\073 Domain=evil.example\\015\\012X-Injected: 1"; Path=/'
    response.set_cookie("wide", "x", domain=".example.com", path="/a b", expires="0")
    assert response.headers.getlist("set-cookie")[1] == (
        "wide=x; Domain=.example.com; expires=0; Path=/a b; SameSite=lax"
    )


def test_cookies_round_trip_through_the_client() -> None:
    app = Covet()

    @app.get("/set")
    async def set_(request: Request) -> Response:
        response = PlainTextResponse("set")
        response.set_cookie("token", "t1")
        return response

    @app.get("/get")
    async def get(request: Request) -> dict[str, str]:
        return request.cookies

    client = TestClient(app)
    client.get("/set")
    assert client.get("/get").json() == {"token": "t1"}


def test_redirect_response() -> None:
    response = serve(RedirectResponse("/to place?x=1")).get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/to%20place?x=1"
    assert response.content == b""
    permanent = RedirectResponse("https://e.com/", 301, headers={"x": "y"})
    assert permanent.status_code == 301
    assert permanent.headers["x"] == "y"


def test_streaming_response_async_and_sync() -> None:
    async def agen() -> AsyncIterator[str]:
        for n in range(3):
            yield f"{n},"

    def gen() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    client = serve(lambda: StreamingResponse(agen(), media_type="text/csv"))
    response = client.get("/")
    assert response.text == "0,1,2,"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "content-length" not in response.headers
    assert serve(lambda: StreamingResponse(gen(), headers={"x": "1"})).get("/").content == b"ab"
    head = client.head("/")
    assert head.status_code == 405 or head.content == b""


def test_streaming_response_head_sends_no_body() -> None:
    app = Covet()

    @app.get("/s")
    async def s(request: Request) -> StreamingResponse:
        return StreamingResponse(iter([b"data"]))

    response = TestClient(app).head("/s")
    assert response.status_code == 200
    assert response.content == b""


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(256)) * 4)  # 1024 bytes
    os.utime(path, (1_700_000_000, 1_700_000_000))
    return path


def file_client(path: Path, **options: Any) -> TestClient:
    app = Covet()

    @app.route("/f", methods=["GET", "POST"])
    async def f(request: Request) -> FileResponse:
        return FileResponse(path, **options)

    return TestClient(app)


def test_file_response_full(data_file: Path) -> None:
    response = file_client(data_file).get("/f")
    assert response.status_code == 200
    assert response.content == data_file.read_bytes()
    assert response.headers["content-length"] == "1024"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["last-modified"] == formatdate(1_700_000_000, usegmt=True)
    assert response.headers["etag"].startswith('"')


def test_file_response_head(data_file: Path) -> None:
    response = file_client(data_file).head("/f")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1024"
    assert response.content == b""


def test_file_response_conditional_requests(data_file: Path) -> None:
    client = file_client(data_file)
    etag = client.get("/f").headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get("/f", headers={"if-none-match": header})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
    assert client.get("/f", headers={"if-none-match": '"other"'}).status_code == 200
    later = formatdate(1_700_000_100, usegmt=True)
    earlier = formatdate(1_600_000_000, usegmt=True)
    assert client.get("/f", headers={"if-modified-since": later}).status_code == 304
    assert client.get("/f", headers={"if-modified-since": earlier}).status_code == 200
    assert client.get("/f", headers={"if-modified-since": "garbage"}).status_code == 200
    # POST is not a conditional GET
    assert client.post("/f", headers={"if-none-match": etag}).status_code == 200


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-4", 1020, 1023),
        ("bytes=1020-5000", 1020, 1023),
        ("bytes=-5000", 0, 1023),
        ("bytes = 5-5", 5, 5),
    ],
    ids=["first", "open", "suffix", "clamped", "big-suffix", "spaces"],
)
def test_file_response_single_range(data_file: Path, header: str, start: int, end: int) -> None:
    response = file_client(data_file).get("/f", headers={"range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/1024"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == data_file.read_bytes()[start : end + 1]


@pytest.mark.parametrize(
    "header", ["bytes=2000-", "bytes=5-1", "bytes=abc", "bytes=-0", "bytes=1-x", "bytes=5"]
)
def test_file_response_bad_range_is_416(data_file: Path, header: str) -> None:
    response = file_client(data_file).get("/f", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"
    assert response.content == b""


@pytest.mark.parametrize("header", ["items=0-1", "bytes=0-1,5-6"])
def test_file_response_ignored_ranges_send_everything(data_file: Path, header: str) -> None:
    response = file_client(data_file).get("/f", headers={"range": header})
    assert response.status_code == 200
    assert len(response.content) == 1024


def test_file_response_if_range(data_file: Path) -> None:
    client = file_client(data_file)
    etag = client.get("/f").headers["etag"]
    matching = client.get("/f", headers={"range": "bytes=0-1", "if-range": etag})
    assert matching.status_code == 206
    stale = client.get("/f", headers={"range": "bytes=0-1", "if-range": '"stale"'})
    assert stale.status_code == 200


def test_file_response_filename_and_media_type(data_file: Path, tmp_path: Path) -> None:
    response = file_client(data_file, filename="report.csv").get("/f")
    assert response.headers["content-disposition"] == 'attachment; filename="report.csv"'
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    unicode = file_client(data_file, filename="résumé.pdf").get("/f")
    assert (
        unicode.headers["content-disposition"]
        == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"
    )
    inline = file_client(data_file, filename="a.png", content_disposition_type="inline")
    assert inline.get("/f").headers["content-type"] == "image/png"


def test_file_response_missing_file_is_404(tmp_path: Path) -> None:
    assert file_client(tmp_path / "missing").get("/f").status_code == 404
    assert file_client(tmp_path).get("/f").status_code == 404


def test_file_response_empty_and_large(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert file_client(empty).get("/f").content == b""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(200_000))
    assert file_client(big).get("/f").content == big.read_bytes()
    ranged = file_client(big).get("/f", headers={"range": "bytes=100000-"})
    assert ranged.content == big.read_bytes()[100000:]
