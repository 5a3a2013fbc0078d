"""The conformance probe: one ASGI app that serves every server-level check.

`/echo...` answers with the scope and every event it received as JSON (bytes as {"b64": ...});
other paths dispatch to the purpose-built apps beside this file (lifespan_state, streaming,
disconnect, ws_behaviour), so one server launch covers all of them.
"""

from __future__ import annotations

import json

import attacks
import disconnect
import lifespan_state
import shutdown
import streaming
import ws_behaviour
from _common import Receive, Scope, Send, jsonable, read_body, results_view, send_body

HTTP_ROUTES = {
    "/stream": streaming.stream,
    "/slow-start": streaming.slow_start,
    "/chunked": streaming.no_length,
    "/te-header": streaming.app_te,
    "/after-complete": streaming.after_complete,
    "/cookies": streaming.cookies,
    "/gzip": streaming.gzipped,
    "/raise-before": streaming.raise_before,
    "/raise-after": streaming.raise_after,
    "/no-response": streaming.no_response,
    "/invalid-event": streaming.invalid_event,
    "/str-header": streaming.str_header,
    "/extra-keys": streaming.extra_keys,
    "/no-read": streaming.no_read,
    "/trailers": streaming.trailers,
    "/early-hint": streaming.early_hint,
    "/pathsend": streaming.pathsend,
    "/zerocopysend": streaming.zerocopysend,
    "/state": lifespan_state.state_view,
    "/lifespan": lifespan_state.lifespan_view,
    "/disconnect/after-response": disconnect.after_response,
    "/disconnect/wait": disconnect.wait,
    "/disconnect/send-after": disconnect.send_after,
    "/big": attacks.big,
    "/slow": shutdown.slow,
}
WS_ROUTES = {
    "/ws/echo": ws_behaviour.echo,
    "/ws/slow-accept": ws_behaviour.slow_accept,
    "/ws/probe": ws_behaviour.probe,
    "/ws/deny": ws_behaviour.deny,
    "/ws/deny-response": ws_behaviour.deny_response,
    "/ws/close": ws_behaviour.close,
    "/ws/record": ws_behaviour.record,
    "/ws/send-after-close": ws_behaviour.send_after_close,
    "/ws/never-accept": attacks.never_accept,
}


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    body, events = await read_body(receive)
    payload = {"scope": jsonable(scope), "events": jsonable(events), "body_len": len(body)}
    await send_body(send, json.dumps(payload).encode(), content_type=b"application/json")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):  # servers that prefix root_path onto path
        path = path[len(root) :]
    if kind == "lifespan":
        await lifespan_state.lifespan(scope, receive, send)
    elif kind == "http":
        if path.startswith("/echo") or path == "/":
            await echo(scope, receive, send)
        elif path.startswith("/status/"):
            await streaming.status(scope, receive, send)
        elif path.startswith(attacks.SMUGGLED_PREFIX):
            await attacks.smuggled(scope, receive, send)
        elif path.startswith("/results/"):
            await results_view(scope, receive, send)
        elif path in HTTP_ROUTES:
            await HTTP_ROUTES[path](scope, receive, send)
        else:
            # say what path the server handed over (absolute-form targets show up here)
            await send_body(send, b"not found: " + scope.get("path", "").encode(), status=404)
    elif kind == "websocket":
        handler = WS_ROUTES.get(path)
        if handler is None:
            await receive()
            await send({"type": "websocket.close", "code": 1008})
        else:
            await handler(scope, receive, send)
