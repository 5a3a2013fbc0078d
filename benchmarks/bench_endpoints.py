"""In-process cost per request of each framework on the same /plaintext and /json endpoints.

The apps are the harness's peer apps (`scenarios/apps/*.py`), the ones the end-to-end runs
serve; `covet-stdlib` is covet answering /json through the stdlib json module, the serializer
raw ASGI, Starlette and FastAPI use, to separate covet's own cost from orjson's speed.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from asgi_driver import BATCH, AsgiDriver, record

EXPECTED: dict[str, Any] = {"/plaintext": "Hello, World!", "/json": {"message": "Hello, World!"}}
APPS = ["raw", "covet", "covet-stdlib", "starlette", "fastapi", "blacksheep"]


def _covet_stdlib() -> Any:
    from covet import Covet, PlainTextResponse, Request, Response

    app = Covet()
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    @app.get("/plaintext")
    async def plaintext(request: Request) -> Response:
        return PlainTextResponse("Hello, World!")

    @app.get("/json")
    async def json_endpoint(request: Request) -> Response:
        return Response(encode({"message": "Hello, World!"}), media_type="application/json")

    return app


def load_app(name: str) -> Any:
    if name == "covet-stdlib":
        return _covet_stdlib()
    if name == "blacksheep":
        pytest.importorskip("blacksheep")
    return importlib.import_module(f"apps.{name}").app


@pytest.mark.parametrize("path", ["/plaintext", "/json"])
@pytest.mark.parametrize("name", APPS)
def test_endpoint(benchmark: Any, drivers: dict[str, AsgiDriver], name: str, path: str) -> None:
    if name not in drivers:
        drivers[name] = AsgiDriver(load_app(name))
    driver = drivers[name]
    status, body = driver.check(path)
    assert status == 200
    decoded = json.loads(body) if path == "/json" else body.decode()
    assert decoded == EXPECTED[path]
    driver.run_batch(path, BATCH)  # warm up
    served = benchmark.pedantic(driver.run_batch, args=(path, BATCH), rounds=15, iterations=1)
    assert served == BATCH
    record(f"endpoint {name} {path}", benchmark)
