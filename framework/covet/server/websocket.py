"""WebSocket (RFC 6455) connections: placeholder until the WebSocket step lands."""

from __future__ import annotations
