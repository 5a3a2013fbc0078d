"""raw ASGI's endpoints plus a fixed busy-wait per HTTP request: known slowdowns for measuring
the gate's miss rate. `base` and `copy` are identical (false-alarm rate).

    covet-bench run --app base=slowapps:base --app slow25=slowapps:slow25 ...   (cwd: this dir)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scenarios"))
from apps.raw import app as _raw  # noqa: E402

SLOW10_US = float(os.environ.get("SLOW10_US", "3.6"))
SLOW25_US = float(os.environ.get("SLOW25_US", "10.9"))


def _make(us: float) -> Any:
    cost = int(us * 1000)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if cost and scope["type"] == "http":
            end = time.perf_counter_ns() + cost
            while time.perf_counter_ns() < end:
                pass
        await _raw(scope, receive, send)

    return app


base = _make(0)
copy = _make(0)
slow10 = _make(SLOW10_US)
slow25 = _make(SLOW25_US)
