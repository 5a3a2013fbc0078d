"""covet's built-in middleware, all pure ASGI: `MiddlewareClass(app, **options)`.

    from covet.middleware import CORSMiddleware, GZipMiddleware
    app.add_middleware(GZipMiddleware, minimum_size=1000)

Each also lives in its own module (`covet.middleware.cors`, `.gzip`, `.trustedhost`,
`.requestid`, `.errors`, `.metrics`).
"""

from __future__ import annotations

from covet.middleware.cors import CORSMiddleware
from covet.middleware.errors import ServerErrorMiddleware
from covet.middleware.gzip import GZipMiddleware
from covet.middleware.metrics import MetricsMiddleware
from covet.middleware.requestid import RequestIDLogFilter, RequestIDMiddleware
from covet.middleware.trustedhost import TrustedHostMiddleware

__all__ = [
    "CORSMiddleware",
    "GZipMiddleware",
    "MetricsMiddleware",
    "RequestIDLogFilter",
    "RequestIDMiddleware",
    "ServerErrorMiddleware",
    "TrustedHostMiddleware",
]
