"""The covet app `test_hostile_e2e.py` serves under real servers, to attack over raw sockets.

    python -m uvicorn hostile_app:app        # from tests/covet/

Behind TrustedHost (`www.shop.test` and `*.example.com`, so the www redirect is live) and
RequestID, whose access line goes to `covet.access` next to the server's own.
"""

from __future__ import annotations

from covet import Covet, Request
from covet.middleware import RequestIDMiddleware, TrustedHostMiddleware

ALLOWED_HOSTS = ["www.shop.test", "*.example.com"]

app = Covet()
app.add_middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS)
app.add_middleware(RequestIDMiddleware)


@app.get("/{rest:path}")
async def anything(request: Request) -> str:
    return "ok"
