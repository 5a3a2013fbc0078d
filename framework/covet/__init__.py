"""covet: a stdlib-only ASGI 3 framework.

Example::

    from covet import Covet, Request

    app = Covet()

    @app.get("/hello/{name}")
    async def hello(request: Request):
        return {"hello": request.path_params["name"]}

``covet.run(app, **config)`` serves it with covet's own server (imported on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covet.applications import Covet
from covet.exceptions import HTTPException, WebSocketDisconnect
from covet.requests import Request
from covet.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from covet.websockets import WebSocket

if TYPE_CHECKING:  # for type checkers only: at runtime ``run`` is imported on first use
    from covet.server import run

__all__ = [
    "Covet",
    "FileResponse",
    "HTMLResponse",
    "HTTPException",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Request",
    "Response",
    "StreamingResponse",
    "WebSocket",
    "WebSocketDisconnect",
    "run",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The server is imported only when asked for: the framework must not pay for it.
    if name == "run":
        from covet.server import run

        return run
    raise AttributeError(f"module 'covet' has no attribute {name!r}")
