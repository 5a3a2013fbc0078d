"""Framework-level conformance app on covet (same routes as fw_starlette.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _common import record_ws_disconnect, take_result

from covet import Covet, Request, Response, WebSocket, WebSocketDisconnect
from covet.templating import Jinja2Templates

app = Covet()


def site(request: Request) -> dict[str, str]:
    """A context processor: what every template sees (fw.template-context-processor)."""
    return {"site": "conformance-site"}


templates = Jinja2Templates(
    directory=Path(__file__).parent / "templates", context_processors=[site]
)


@app.get("/items")
async def items(request: Request) -> dict[str, bool]:
    return {"ok": True}


@app.get("/greet")
async def greet(request: Request) -> Response:
    name = request.query_params.get("name", "")
    return templates.TemplateResponse(request, "greet.html", {"name": name})


@app.post("/create")
async def create(request: Request) -> Any:
    return await request.json()


@app.route("/boom", methods=["GET"])
async def boom(request: Request) -> None:
    raise RuntimeError("conformance-secret-detail")


@app.get("/results/{token}")
async def results(request: Request) -> dict[str, Any]:
    return await take_result(request.path_params["token"])


@app.websocket("/ws/close")
async def ws_close(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close(code=4000, reason="fw-bye")


@app.websocket("/ws/record")
async def ws_record(websocket: WebSocket) -> None:
    token = websocket.query_params.get("token", "")
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect as exc:
        record_ws_disconnect(token, exc.code, exc.reason)
