"""Framework-level conformance app on Starlette: routing errors, HEAD, JSON errors, templates,
WebSocket close codes through the framework API. Same routes as fw_fastapi.py and fw_covet.py."""

from __future__ import annotations

from pathlib import Path

from _common import record_ws_disconnect, take_result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.templating import Jinja2Templates
from starlette.websockets import WebSocket, WebSocketDisconnect


async def items(request: Request) -> Response:
    return JSONResponse({"ok": True})


def site(request: Request) -> dict[str, str]:
    """A context processor: what every template sees (fw.template-context-processor)."""
    return {"site": "conformance-site"}


templates = Jinja2Templates(
    directory=Path(__file__).parent / "templates", context_processors=[site]
)


async def greet(request: Request) -> Response:
    name = request.query_params.get("name", "")
    return templates.TemplateResponse(request, "greet.html", {"name": name})


async def create(request: Request) -> Response:
    return JSONResponse(await request.json())


async def boom(request: Request) -> Response:
    raise RuntimeError("conformance-secret-detail")


async def results(request: Request) -> Response:
    return JSONResponse(await take_result(request.path_params["token"]))


async def ws_close(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close(code=4000, reason="fw-bye")


async def ws_record(websocket: WebSocket) -> None:
    token = websocket.query_params.get("token", "")
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect as exc:
        record_ws_disconnect(token, exc.code, exc.reason)


app = Starlette(
    routes=[
        Route("/items", items, methods=["GET"]),
        Route("/greet", greet, methods=["GET"]),
        Route("/create", create, methods=["POST"]),
        Route("/boom", boom),
        Route("/results/{token}", results),
        WebSocketRoute("/ws/close", ws_close),
        WebSocketRoute("/ws/record", ws_record),
    ]
)
