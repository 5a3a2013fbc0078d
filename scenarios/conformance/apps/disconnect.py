"""Disconnect behaviour: what receive() gives after the response or after the client left, and
what send() raises on a closed connection. Outcomes go to the result store under ?token=."""

from __future__ import annotations

import asyncio

from _common import (
    RESULTS,
    Receive,
    Scope,
    Send,
    describe_exception,
    events_until,
    jsonable,
    query_param,
    read_body,
    send_body,
)


async def after_response(scope: Scope, receive: Receive, send: Send) -> None:
    """/disconnect/after-response: receive() after the response should give http.disconnect."""
    token = query_param(scope, "token")
    await read_body(receive)
    await send_body(send, b"sent")
    try:
        event = await asyncio.wait_for(receive(), 3.0)
        RESULTS[token] = {"event": jsonable(event)}
    except TimeoutError:
        RESULTS[token] = {"event": None, "timeout": True}


async def wait(scope: Scope, receive: Receive, send: Send) -> None:
    """/disconnect/wait: never answer; record events until http.disconnect."""
    token = query_param(scope, "token")
    RESULTS[token] = {"events": await events_until(receive, "http.disconnect")}


async def send_after(scope: Scope, receive: Receive, send: Send) -> None:
    """/disconnect/send-after: wait for the client to leave, then send; record what raised."""
    token = query_param(scope, "token")
    if (await events_until(receive, "http.disconnect"))[-1] == "timeout":
        RESULTS[token] = {"error": "no http.disconnect within 5 s"}
        return
    outcome = None
    try:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"too late"})
    except Exception as exc:
        outcome = describe_exception(exc)
    RESULTS[token] = {"raised": outcome}
