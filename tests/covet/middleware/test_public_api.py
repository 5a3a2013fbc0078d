"""Guards the public names of covet.middleware and covet.formparsers (httpx-style)."""

from __future__ import annotations

import covet.formparsers
import covet.middleware


def test_middleware_exports() -> None:
    assert sorted(covet.middleware.__all__) == [
        "CORSMiddleware",
        "GZipMiddleware",
        "MetricsMiddleware",
        "RequestIDLogFilter",
        "RequestIDMiddleware",
        "ServerErrorMiddleware",
        "TrustedHostMiddleware",
    ]
    for name in covet.middleware.__all__:
        obj = getattr(covet.middleware, name)
        assert obj.__doc__, f"{name} needs a docstring"


def test_formparsers_exports() -> None:
    assert sorted(covet.formparsers.__all__) == [
        "FormData",
        "FormLimits",
        "UploadFile",
        "parse_form",
    ]
    for name in covet.formparsers.__all__:
        assert getattr(covet.formparsers, name).__doc__, f"{name} needs a docstring"
