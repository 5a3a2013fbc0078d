"""Router cost: the last of 1 or 100 routes, static and with a typed parameter.

covet finds static paths by dict lookup and dynamic ones through a precompiled matcher, so its
cost should not grow with the route count; Starlette tries its routes in order, one regex each.
Every endpoint answers a constant plain-text response, so only routing differs.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgi_driver import BATCH, AsgiDriver, record

COUNTS = [1, 100]


def build_covet(count: int) -> Any:
    from covet import Covet, PlainTextResponse, Request, Response

    app = Covet()

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    for i in range(count):
        app.add_route(f"/static{i}/page", endpoint, name=f"static{i}")
        app.add_route(f"/items{i}/{{item_id:int}}", endpoint, name=f"item{i}")
    return app


def build_starlette(count: int) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = []
    for i in range(count):
        routes.append(Route(f"/static{i}/page", endpoint))
        routes.append(Route(f"/items{i}/{{item_id:int}}", endpoint))
    return Starlette(routes=routes)


BUILDERS = {"covet": build_covet, "starlette": build_starlette}


@pytest.mark.parametrize("kind", ["static", "dynamic"])
@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("framework", list(BUILDERS))
def test_router(
    benchmark: Any, drivers: dict[str, AsgiDriver], framework: str, count: int, kind: str
) -> None:
    key = f"router-{framework}-{count}"
    if key not in drivers:
        drivers[key] = AsgiDriver(BUILDERS[framework](count))
    driver = drivers[key]
    last = count - 1
    path = f"/static{last}/page" if kind == "static" else f"/items{last}/12345"
    assert driver.check(path) == (200, b"ok")
    assert driver.check(f"/items{last}/nope")[0] == 404
    driver.run_batch(path, BATCH)  # warm up
    served = benchmark.pedantic(driver.run_batch, args=(path, BATCH), rounds=15, iterations=1)
    assert served == BATCH
    record(f"router {framework} {count:>3} routes {kind}", benchmark)
