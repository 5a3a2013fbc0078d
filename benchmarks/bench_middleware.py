"""Per-request overhead of each built-in middleware, covet's against Starlette's counterpart.

Both wrap the same raw ASGI app (`apps.raw`, GET /plaintext, 13 bytes: under GZip's minimum
size, so GZip decides and passes through, its common case). The CORS request carries an allowed
`Origin`; RequestID runs with the access log on but its logger below INFO, as in production
without access logs.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

import pytest
from asgi_driver import BATCH, AsgiDriver, record


def _covet(name: str) -> Callable[[Any], Any]:
    from covet import middleware as m

    logging.getLogger("covet.access").setLevel(logging.WARNING)
    factories: dict[str, Callable[[Any], Any]] = {
        "none": lambda app: app,
        "cors": lambda app: m.CORSMiddleware(app, allow_origins=["http://127.0.0.1:8000"]),
        "gzip": lambda app: m.GZipMiddleware(app),
        "trustedhost": lambda app: m.TrustedHostMiddleware(app, allowed_hosts=["127.0.0.1"]),
        "servererror": lambda app: m.ServerErrorMiddleware(app),
        "requestid": lambda app: m.RequestIDMiddleware(app),
    }
    return factories[name]


def _starlette(name: str) -> Callable[[Any], Any]:
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.errors import ServerErrorMiddleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    factories: dict[str, Callable[[Any], Any]] = {
        "none": lambda app: app,
        "cors": lambda app: CORSMiddleware(app, allow_origins=["http://127.0.0.1:8000"]),
        "gzip": lambda app: GZipMiddleware(app),
        "trustedhost": lambda app: TrustedHostMiddleware(app, allowed_hosts=["127.0.0.1"]),
        "servererror": lambda app: ServerErrorMiddleware(app),
    }
    return factories[name]


FRAMEWORKS = {"covet": _covet, "starlette": _starlette}
SHARED = ["none", "cors", "gzip", "trustedhost", "servererror"]
# Starlette has no request-id middleware.
CASES = [("covet", name) for name in [*SHARED, "requestid"]] + [("starlette", n) for n in SHARED]


@pytest.mark.parametrize(("framework", "middleware"), CASES)
def test_middleware(
    benchmark: Any, drivers: dict[str, AsgiDriver], framework: str, middleware: str
) -> None:
    key = f"middleware-{framework}-{middleware}"
    if key not in drivers:
        raw = importlib.import_module("apps.raw").app
        drivers[key] = AsgiDriver(FRAMEWORKS[framework](middleware)(raw))
    driver = drivers[key]
    driver.headers = [(b"origin", b"http://127.0.0.1:8000"), (b"accept-encoding", b"gzip")]
    assert driver.check("/plaintext") == (200, b"Hello, World!")
    driver.run_batch("/plaintext", BATCH)  # warm up
    served = benchmark.pedantic(
        driver.run_batch, args=("/plaintext", BATCH), rounds=15, iterations=1
    )
    assert served == BATCH
    record(f"middleware {framework} {middleware}", benchmark)
