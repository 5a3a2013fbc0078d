"""WebSocket behaviour: echo (Autobahn's peer), scope probe, denial, close codes and reasons
both ways, send after close. Outcomes seen after the socket is gone go to the result store."""

from __future__ import annotations

import asyncio
import json

from _common import (
    RESULTS,
    Receive,
    Scope,
    Send,
    describe_exception,
    events_until,
    jsonable,
    query_param,
)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/echo: echo every message with its type until the client leaves."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


async def probe(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/probe: accept with the first offered subprotocol and an extra header, then send the
    scope and the first event as JSON, then echo messages as JSON event dumps."""
    first = await receive()
    offered = scope.get("subprotocols") or []
    accept = {"type": "websocket.accept", "headers": [(b"x-accept-header", b"yes")]}
    if offered:
        accept["subprotocol"] = offered[0]
    await send(accept)
    await send(
        {
            "type": "websocket.send",
            "text": json.dumps({"scope": jsonable(scope), "first": jsonable(first)}),
        }
    )
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": json.dumps(jsonable(message))})


async def deny(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/deny: close before accepting (403 expected); record what receive() gives next."""
    token = query_param(scope, "token")
    await receive()
    await send({"type": "websocket.close"})
    try:
        event = await asyncio.wait_for(receive(), 2.0)
        RESULTS[token] = {"event": jsonable(event)}
    except TimeoutError:
        RESULTS[token] = {"event": None}
    except Exception as exc:
        RESULTS[token] = {"raised": describe_exception(exc)}


async def deny_response(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/deny-response: a 418 with a body through the denial-response extension."""
    await receive()
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close"})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": 418,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"6")],
        }
    )
    await send({"type": "websocket.http.response.body", "body": b"teapot"})


async def close(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/close?code=C&reason=R: accept, then close with that code/reason (none: defaults)."""
    await receive()
    await send({"type": "websocket.accept"})
    message: dict[str, object] = {"type": "websocket.close"}
    if query_param(scope, "code"):
        message["code"] = int(query_param(scope, "code"))
    if query_param(scope, "reason"):
        message["reason"] = query_param(scope, "reason")
    await send(message)
    try:
        await asyncio.wait_for(receive(), 2.0)
    except Exception:
        pass


async def record(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/record?token=T: accept and record every event up to websocket.disconnect."""
    token = query_param(scope, "token")
    await receive()
    await send({"type": "websocket.accept"})
    RESULTS[token] = {"events": await events_until(receive, "websocket.disconnect")}


async def send_after_close(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/send-after-close?token=T: wait for the client to go, then send; record the raise."""
    token = query_param(scope, "token")
    await receive()
    await send({"type": "websocket.accept"})
    if (await events_until(receive, "websocket.disconnect"))[-1] == "timeout":
        RESULTS[token] = {"error": "no websocket.disconnect within 5 s"}
        return
    outcome = None
    try:
        await send({"type": "websocket.send", "text": "too late"})
    except Exception as exc:
        outcome = describe_exception(exc)
    RESULTS[token] = {"raised": outcome}


async def slow_accept(scope: Scope, receive: Receive, send: Send) -> None:
    """/ws/slow-accept: accept 0.6 s after websocket.connect."""
    await receive()
    await asyncio.sleep(0.6)
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 1000})
