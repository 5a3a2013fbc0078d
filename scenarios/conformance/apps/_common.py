"""Helpers shared by the conformance apps: JSON encoding of ASGI values, a result store that a
later request reads back, and tiny response senders. Stdlib only: every server imports these,
and the framework apps (fw_*.py) store and read back through the same `/results` helpers.

Bytes become {"b64": "..."} so the harness can tell bytes from str in what the app saw.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: token -> what an app saw after its response was gone (disconnects, exceptions)
RESULTS: dict[str, Any] = {}


def jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if k != "app"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"repr": repr(value), "pytype": type(value).__name__}


def describe_exception(exc: BaseException) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "is_oserror": isinstance(exc, OSError),
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:200],
    }


def query_param(scope: Scope, name: str, default: str = "") -> str:
    raw: str = scope.get("query_string", b"").decode("latin-1")
    for pair in raw.split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            return value
    return default


async def send_body(
    send: Send,
    body: bytes,
    status: int = 200,
    content_type: bytes = b"text/plain",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, value: Any, status: int = 200) -> None:
    await send_body(send, json.dumps(value).encode(), status, b"application/json")


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    events: list[Message] = []
    body = b""
    while True:
        event = await receive()
        events.append(event)
        if event["type"] != "http.request":
            break
        body += event.get("body", b"")
        if not event.get("more_body", False):
            break
    return body, events


async def events_until(receive: Receive, last: str, timeout: float = 5.0) -> list[Any]:
    """Every event received (as JSON) up to and including the first of type `last`; the list
    ends with "timeout" when no event came for `timeout` seconds before that."""
    events: list[Any] = []
    try:
        while True:
            event = await asyncio.wait_for(receive(), timeout)
            events.append(jsonable(event))
            if event["type"] == last:
                return events
    except TimeoutError:
        events.append("timeout")
    return events


async def take_result(token: str, wait: float = 3.0) -> dict[str, Any]:
    """The body of GET /results/TOKEN: `{"found": True, "value": ...}` once something is stored
    under TOKEN (taken out), waiting up to `wait` s for it; `{"found": False}` if nothing came."""
    for _ in range(max(1, int(wait / 0.05))):
        if token in RESULTS:
            return {"found": True, "value": RESULTS.pop(token)}
        await asyncio.sleep(0.05)
    return {"found": False}


def record_ws_disconnect(token: str, code: int, reason: str | None) -> None:
    """Store the disconnect a framework's WebSocket handler saw, in the ASGI event's shape."""
    RESULTS[token] = {"events": [{"type": "websocket.disconnect", "code": code, "reason": reason}]}


async def results_view(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /results/TOKEN[?wait=S]: what was stored under TOKEN (waits up to S s, default 3)."""
    wait = float(query_param(scope, "wait", "3") or 3)
    await send_json(send, await take_result(scope["path"].rsplit("/", 1)[-1], min(wait, 5.0)))
