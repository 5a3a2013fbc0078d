"""Framework-level conformance app on FastAPI (same routes as fw_starlette.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from _common import record_ws_disconnect, take_result
from fastapi import Body, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

app = FastAPI()


def site(request: Request) -> dict[str, str]:
    """A context processor: what every template sees (fw.template-context-processor)."""
    return {"site": "conformance-site"}


templates = Jinja2Templates(
    directory=Path(__file__).parent / "templates", context_processors=[site]
)


@app.get("/items")
async def items() -> dict[str, bool]:
    return {"ok": True}


@app.get("/greet", response_class=HTMLResponse)
async def greet(request: Request, name: str = "") -> HTMLResponse:
    return templates.TemplateResponse(request, "greet.html", {"name": name})


@app.post("/create")
async def create(payload: Annotated[Any, Body()]) -> Any:
    return payload


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("conformance-secret-detail")


@app.get("/results/{token}")
async def results(token: str) -> dict[str, Any]:
    return await take_result(token)


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
