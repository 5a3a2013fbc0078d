"""The built-in middleware and form parsing inside a real Covet app (httpx, no socket)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from covet import Covet, PlainTextResponse, Request
from covet.formparsers import UploadFile
from covet.middleware import (
    CORSMiddleware,
    GZipMiddleware,
    RequestIDMiddleware,
    TrustedHostMiddleware,
)
from covet.middleware.requestid import ACCESS_LOGGER
from covet.testclient import TestClient
from tests.covet.middleware.helpers import request


def build_app(debug: bool = False) -> Covet:
    app = Covet(debug=debug)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["testserver", "*.testserver"])
    app.add_middleware(CORSMiddleware, allow_origins=["https://ui.example"], allow_methods=["*"])
    app.add_middleware(GZipMiddleware, minimum_size=100)
    app.add_middleware(RequestIDMiddleware)

    @app.get("/big")
    async def big(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x" * 1000)

    @app.get("/boom")
    async def boom(request: Request) -> None:
        raise RuntimeError("kaboom")

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        form = await request.form(max_file_size=100)
        result: dict[str, Any] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                result[name] = {"filename": value.filename, "size": value.size}
            else:
                result[name] = value
        await form.close()
        return result

    return app


def test_stacked_middleware_on_a_covet_app(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = request(
        build_app(),
        "GET",
        "/big",
        headers={"origin": "https://ui.example", "accept-encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["access-control-allow-origin"] == "https://ui.example"
    assert response.headers["vary"] == "Origin, Accept-Encoding"  # CORS runs inside GZip
    assert response.text == "x" * 1000  # httpx decoded the gzip body
    request_id = response.headers["x-request-id"]
    assert [r.request_id for r in caplog.records] == [request_id]  # type: ignore[attr-defined]
    assert caplog.records[0].bytes == int(response.headers["content-length"])  # type: ignore[attr-defined]


def test_preflight_and_bad_host_never_reach_the_router() -> None:
    app = build_app()
    preflight = request(
        app,
        "OPTIONS",
        "/upload",
        headers={"origin": "https://ui.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-methods"] == "POST"
    bad_host = request(app, "GET", "/big", headers={"host": "evil.example"})
    assert bad_host.status_code == 400


@pytest.mark.parametrize(
    ("debug", "accept", "expected"),
    [
        (False, "text/html", "Internal Server Error"),
        (True, "text/plain", "RuntimeError: kaboom"),
        (True, "text/html", "<!DOCTYPE html>"),
    ],
)
def test_server_errors_through_covet(debug: bool, accept: str, expected: str) -> None:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_app(debug), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get("/boom", headers={"accept": accept})

    response = asyncio.run(go())
    assert response.status_code == 500
    assert expected in response.text
    if not debug:
        assert "kaboom" not in response.text


def test_form_upload_and_limits_through_covet() -> None:
    app = build_app()
    ok = request(app, "POST", "/upload", data={"name": "Ada"}, files={"doc": ("a.txt", b"hello")})
    assert ok.status_code == 200
    assert ok.json() == {"name": "Ada", "doc": {"filename": "a.txt", "size": 5}}
    too_big = request(app, "POST", "/upload", files={"doc": ("a.txt", b"x" * 101)})
    assert too_big.status_code == 413
    wrong_type = request(app, "POST", "/upload", json={"a": 1})
    assert wrong_type.status_code == 415


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("api.testserver", 200),
        ("evil.example/.testserver", 400),
        ("evil.example?.testserver", 400),
        ("api.testserver:443@evil.example", 400),
    ],
)
def test_hostile_host_headers_through_the_test_client(host: str, status: int) -> None:
    with TestClient(build_app()) as client:
        response = client.get("/big", headers={"host": host})
    assert response.status_code == status


def test_www_redirect_through_the_test_client_never_leaves_the_site() -> None:
    app = Covet()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["www.shop.test"])
    with TestClient(app) as client:
        good = client.get("/cart?x=1", headers={"host": "shop.test"}, follow_redirects=False)
        hostile = client.get(
            "/cart", headers={"host": "shop.test:443@evil.example"}, follow_redirects=False
        )
    assert good.status_code == 308
    assert good.headers["location"] == "http://www.shop.test/cart?x=1"
    assert hostile.status_code == 400
    assert "location" not in hostile.headers
