"""Response framing and streaming: chunks sent apart in time, no Content-Length, an app-supplied
Transfer-Encoding, messages after completion, cookies, header order, Content-Encoding."""

from __future__ import annotations

import asyncio
import gzip

from _common import (
    RESULTS,
    Receive,
    Scope,
    Send,
    describe_exception,
    query_param,
    read_body,
    send_body,
)


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /stream: 'first' now, 'second' 0.8 s later (observable flushing)."""
    await read_body(receive)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"first", "more_body": True})
    await asyncio.sleep(0.8)
    await send({"type": "http.response.body", "body": b"second", "more_body": False})


async def no_length(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /chunked: two body messages, no Content-Length: the server must frame it."""
    await read_body(receive)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
    await send({"type": "http.response.body", "body": b"world", "more_body": False})


async def app_te(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /te-header: the app claims Transfer-Encoding: chunked but sends plain bytes."""
    await read_body(receive)
    headers = [(b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"plain-bytes", "more_body": False})


async def after_complete(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /after-complete: one more body message after more_body False must not reach the wire."""
    await read_body(receive)
    await send_body(send, b"done")
    try:
        await send({"type": "http.response.body", "body": b"EXTRA-AFTER-COMPLETE"})
    except Exception:  # raising is an acceptable way to ignore it
        pass


async def cookies(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /cookies: two Set-Cookie lines and headers in a deliberate, non-sorted order."""
    await read_body(receive)
    headers = [
        (b"x-order-c", b"1"),
        (b"set-cookie", b"a=1; Path=/"),
        (b"x-order-a", b"2"),
        (b"set-cookie", b"b=2; Path=/"),
        (b"x-order-b", b"3"),
    ]
    await send_body(send, b"cookies", headers=headers)


async def gzipped(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /gzip: an already-encoded body with the app's own Content-Encoding."""
    await read_body(receive)
    body = gzip.compress(b"conformance " * 20)
    await send_body(send, body, headers=[(b"content-encoding", b"gzip")])


async def status(scope: Scope, receive: Receive, send: Send) -> None:
    """/status/NNN: answer NNN with no Content-Length and no body."""
    await read_body(receive)
    code = int(scope["path"].rsplit("/", 1)[-1])
    headers = [(b"etag", b'"v1"')] if code == 304 else []
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def raise_before(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("conformance: raised before the response")


async def raise_after(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]}
    )
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise RuntimeError("conformance: raised mid-response")


async def no_response(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)


async def invalid_event(scope: Scope, receive: Receive, send: Send) -> None:
    """/invalid-event?token=T: send an unknown event type; store whether send() raised."""
    await read_body(receive)
    try:
        await send({"type": "http.response.bogus"})
        RESULTS[query_param(scope, "token")] = {"raised": None}
    except Exception as exc:
        RESULTS[query_param(scope, "token")] = {"raised": describe_exception(exc)}
    try:
        await send_body(send, b"done")
    except Exception:  # the server may have given up on this response: the store tells
        pass


async def str_header(scope: Scope, receive: Receive, send: Send) -> None:
    """/str-header?token=T: header names as str; store whether send() raised."""
    await read_body(receive)
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [("x-str", "v")]})
        RESULTS[query_param(scope, "token")] = {"raised": None}
    except Exception as exc:
        RESULTS[query_param(scope, "token")] = {"raised": describe_exception(exc)}
        try:
            await send_body(send, b"done")
        except Exception:
            pass
        return
    await send({"type": "http.response.body", "body": b"done"})


async def extra_keys(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /extra-keys: events carrying keys no spec defines must be accepted."""
    await read_body(receive)
    await send({"type": "http.response.start", "status": 200, "headers": [], "x_extra": 1})
    await send({"type": "http.response.body", "body": b"extra-ok", "x_future": {"a": 1}})


async def no_read(scope: Scope, receive: Receive, send: Send) -> None:
    """POST /no-read: answer without reading the body (100-continue must not be needed)."""
    await send_body(send, b"no-read")


async def trailers(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    if "http.response.trailers" not in scope.get("extensions", {}):
        await send_body(send, b"no-trailers-extension")
        return
    await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
    await send({"type": "http.response.body", "body": b"with-trailers"})
    await send(
        {
            "type": "http.response.trailers",
            "headers": [(b"x-trailer", b"yes")],
            "more_trailers": False,
        }
    )


async def early_hint(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    if "http.response.early_hint" in scope.get("extensions", {}):
        await send(
            {"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload; as=style"]}
        )
    await send_body(send, b"after-hint")


async def pathsend(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    if "http.response.pathsend" not in scope.get("extensions", {}):
        await send_body(send, b"no-pathsend-extension")
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.pathsend", "path": __file__})


async def slow_start(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /slow-start: the response start, then the body 0.8 s later."""
    await read_body(receive)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-early", b"1")]})
    await asyncio.sleep(0.8)
    await send({"type": "http.response.body", "body": b"late-body"})


async def zerocopysend(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    if "http.response.zerocopysend" not in scope.get("extensions", {}):
        await send_body(send, b"no-zerocopysend-extension")
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    with open(__file__, "rb") as file:
        await send({"type": "http.response.zerocopysend", "file": file})
