"""What a framework app's WebSocket handler saw after the client left, read back over HTTP."""

from __future__ import annotations

from typing import Any

RESULTS: dict[str, Any] = {}
