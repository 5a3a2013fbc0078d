"""WebSocket probes over the raw client: handshake, echo, fragments, ping, close codes and
reasons both ways, protocol errors, denial."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from covetbench.conformance.model import ERROR, FAIL, PASS, UNSUPPORTED, CheckResult, escape
from covetbench.conformance.probes import ProbeContext, judge_json, new_token, probe
from covetbench.net.wsclient import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawWebSocket,
    accept_key,
)

_OPS = {"text": OP_TEXT, "binary": OP_BINARY, "close": OP_CLOSE, "ping": OP_PING, "pong": OP_PONG}


def _connect(
    ctx: ProbeContext, params: dict[str, Any], path: str | None = None
) -> tuple[RawWebSocket | None, str]:
    ws, ex = RawWebSocket.connect(
        ctx.host,
        ctx.port,
        path or params.get("path", "/ws/echo"),
        subprotocols=params.get("subprotocols"),
        headers=[tuple(h) for h in params.get("headers", [])],  # type: ignore[misc]
        key=params.get("key"),
        version=str(params.get("version", "13")),
    )
    return ws, ex.summary()


@probe("ws_handshake")
def ws_handshake(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Handshake on `path`; judge `status` (int or list), response `header` regexes,
    `header_absent`, the accept key, and `expect` JSON conditions on the first text message."""
    ws, evidence = _connect(ctx, params)
    if ws is None:
        status_ok = _status_ok(evidence, params.get("status", 101))
        return CheckResult(PASS if status_ok else FAIL, evidence)
    response = ws.response
    with ws:
        failed: list[str] = []
        if not _status_ok(f"HTTP/1.1 {response.status} ", params.get("status", 101)):
            failed.append(f"status {response.status}")
        for name, pattern in params.get("header", {}).items():
            value = response.header(name)
            if value is None or not re.search(pattern, value):
                failed.append(f"header {name}={value!r}")
        for name in params.get("header_absent", []):
            if response.header(name) is not None:
                failed.append(f"unexpected header {name}")
        if params.get("check_accept"):
            key = params.get("key")
            if key and response.header("sec-websocket-accept") != accept_key(key):
                failed.append("wrong Sec-WebSocket-Accept")
        if "expect" in params:
            frame = ws.recv_message()
            if frame is None or frame.opcode != OP_TEXT:
                return CheckResult(FAIL, f"{evidence}; no first text message")
            data = json.loads(frame.payload)
            result = judge_json(
                data,
                params["expect"],
                f"{evidence}; message {escape(frame.payload, 300)}",
                params.get("unsupported"),
            )
            if failed and result.status == PASS:
                return CheckResult(FAIL, f"{result.evidence}; failed: {', '.join(failed)}")
            return result
        return CheckResult(
            FAIL if failed else PASS, evidence + (f"; failed: {failed}" if failed else "")
        )


def _status_ok(summary: str, expected: Any) -> bool:
    allowed = expected if isinstance(expected, list) else [expected]
    match = re.search(r"HTTP/1\.\d (\d{3}) ", summary)
    if not match:
        return False
    status = int(match.group(1))
    return any(status == a or (isinstance(a, str) and str(status)[0] == a[0]) for a in allowed)


@probe("ws_echo")
def ws_echo(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Send `message` (`type` text|binary, `size` bytes, `fragments` pieces) to /ws/echo and
    expect the same message back with the same type."""
    ws, evidence = _connect(ctx, params)
    if ws is None:
        return CheckResult(FAIL, evidence)
    kind = params.get("type", "text")
    size = int(params.get("size", 11))
    payload = (b"conformance" * (size // 11 + 1))[:size]
    fragments = int(params.get("fragments", 1))
    with ws:
        step = max(1, len(payload) // fragments)
        pieces = [payload[i : i + step] for i in range(0, len(payload), step)][:fragments]
        pieces[-1] += payload[step * fragments :]
        for i, piece in enumerate(pieces):
            opcode = _OPS[kind] if i == 0 else OP_CONT
            ws.send_frame(opcode, piece, fin=i == len(pieces) - 1)
            if params.get("ping_between") and i == 0:
                ws.send_frame(OP_PING, b"mid")
        frame = ws.recv_message(timeout=5.0)
        while frame is not None and frame.opcode == OP_PONG:
            frame = ws.recv_message(timeout=5.0)
        what = f"sent {kind} {size} bytes in {len(pieces)} frame(s)"
        if frame is None:
            return CheckResult(FAIL, f"{what}; nothing came back (closed={ws.closed})")
        got = f"got opcode {frame.opcode} {len(frame.payload)} bytes"
        if frame.opcode == OP_CLOSE:
            got += f" close {frame.close_code()}"
        ok = frame.opcode == _OPS[kind] and frame.payload == payload
        return CheckResult(PASS if ok else FAIL, f"{what}; {got}")


@probe("ws_ping")
def ws_ping(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """A ping must be answered with a pong carrying the same payload."""
    ws, evidence = _connect(ctx, params)
    if ws is None:
        return CheckResult(FAIL, evidence)
    with ws:
        ws.send_frame(OP_PING, b"ping-payload")
        frame = ws.recv_frame()
        if frame is None:
            return CheckResult(FAIL, "sent ping; nothing came back")
        ok = frame.opcode == OP_PONG and frame.payload == b"ping-payload"
        return CheckResult(
            PASS if ok else FAIL, f"sent ping; got opcode {frame.opcode} {escape(frame.payload)}"
        )


@probe("ws_server_close")
def ws_server_close(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Connect to `path` (the app closes); expect a close frame with `code` and `reason`."""
    ws, evidence = _connect(ctx, params)
    if ws is None:
        return CheckResult(FAIL, evidence)
    with ws:
        frame = ws.recv_close()
        if frame is None:
            return CheckResult(FAIL, f"{params.get('path')}: no close frame (closed={ws.closed})")
        code, reason = frame.close_code()
        ws.send_close(code if code is not None else None)
        seen = f"{params.get('path')}: close frame code={code} reason={reason!r}"
        ok = code == params.get("code", code) and reason == params.get("reason", reason)
        return CheckResult(PASS if ok else FAIL, seen)


@probe("ws_client_close")
def ws_client_close(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Connect to /ws/record (or `path`), then `action`: close with `code`/`reason`, a close
    frame with no code (`code` absent), or `drop` the TCP connection. `reply` true: judge the
    server's close reply instead of what the app was told (`expect` on the stored events)."""
    token = new_token()
    path = params.get("path", "/ws/record") + f"?token={token}"
    ws, evidence = _connect(ctx, params, path)
    if ws is None:
        return CheckResult(FAIL, evidence)
    action = params.get("action", "close")
    what = (
        "dropped TCP"
        if action == "drop"
        else f"sent close {params.get('code')} {params.get('reason', '')!r}"
    )
    with ws:
        if action == "drop":
            ws.drop()
        else:
            ws.send_close(params.get("code"), params.get("reason", ""))
            if params.get("reply"):
                frame = ws.recv_close()
                if frame is None:
                    return CheckResult(FAIL, f"{what}; no close frame back (closed={ws.closed})")
                code, reason = frame.close_code()
                ok = params.get("reply_code") in (None, code)
                return CheckResult(
                    PASS if ok else FAIL,
                    f"{what}; server replied close code={code} reason={reason!r}",
                )
            time.sleep(0.2)
    value, seen = ctx.stored(token)
    if value is None:
        return CheckResult(FAIL, f"{what}; {seen}")
    events = value.get("events", [])
    last = events[-1] if events else None
    return judge_json(
        {**value, "last": last}, params["expect"], f"{what}; {seen}", params.get("unsupported")
    )


@probe("ws_protocol_error")
def ws_protocol_error(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Send a bad frame (`frame`: unmasked, rsv, opcode, utf8, ping_long); the server must fail
    the connection: a close frame or the TCP close. With `code_required` the close frame must
    carry one of `codes` (RFC 6455 §7.1.7 makes the code a SHOULD)."""
    ws, evidence = _connect(ctx, params)
    if ws is None:
        return CheckResult(FAIL, evidence)
    kind = params["frame"]
    with ws:
        if kind == "unmasked":
            ws.send_frame(OP_TEXT, b"hello", mask=False)
        elif kind == "rsv":
            ws.send_frame(OP_TEXT, b"hello", rsv=2)
        elif kind == "opcode":
            ws.send_frame(0x3, b"hello")
        elif kind == "utf8":
            ws.send_frame(OP_TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")
        elif kind == "ping_long":
            ws.send_frame(OP_PING, b"x" * 126)
        else:
            return CheckResult(ERROR, f"unknown frame kind {kind!r}")
        frame = ws.recv_close()
        codes = params.get("codes", [1002])
        if frame is None:
            status = PASS if ws.closed and params.get("tcp_close_ok", True) else FAIL
            return CheckResult(status, f"sent {kind} frame; TCP closed={ws.closed}, no close frame")
        code, reason = frame.close_code()
        ok = code in codes or not params.get("code_required", False)
        return CheckResult(
            PASS if ok else FAIL,
            f"sent {kind} frame; close code={code} reason={reason!r} (expected {codes})",
        )


@probe("ws_deny_response")
def ws_deny_response(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """/ws/deny-response answers 418 'teapot' through the denial extension when advertised."""
    ws, evidence = _connect(ctx, params, "/ws/deny-response")
    if ws is not None:
        ws.close()
        return CheckResult(FAIL, f"upgraded anyway: {evidence}")
    if " 418 " in evidence and "teapot" in evidence:
        return CheckResult(PASS, evidence)
    if " 403 " in evidence:
        return CheckResult(
            UNSUPPORTED, f"extension not advertised (app closed instead): {evidence}"
        )
    return CheckResult(FAIL, evidence)


@probe("ws_probe_message")
def ws_probe_message(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Send one `type` (text|binary) message to /ws/probe; the app echoes the receive event as
    JSON: exactly one of text/bytes must be set."""
    ws, evidence = _connect(ctx, params, "/ws/probe")
    if ws is None:
        return CheckResult(FAIL, evidence)
    kind = params.get("type", "text")
    with ws:
        ws.recv_message()  # the scope dump
        if kind == "text":
            ws.send_text("hello")
        else:
            ws.send_binary(b"hello")
        frame = ws.recv_message()
        if frame is None or frame.opcode != OP_TEXT:
            return CheckResult(FAIL, f"sent {kind}; no event dump came back")
        event = json.loads(frame.payload)
        seen = f"sent {kind} 'hello'; app got {escape(frame.payload, 200)}"
        if kind == "text":
            ok = event.get("text") == "hello" and event.get("bytes") is None
        else:
            ok = event.get("bytes") == {"b64": "aGVsbG8="} and event.get("text") is None
        ok = ok and event.get("type") == "websocket.receive"
        return CheckResult(PASS if ok else FAIL, seen)


@probe("ws_accept_delay")
def ws_accept_delay(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """/ws/slow-accept accepts 0.6 s after connect: the 101 must not arrive before then."""
    started = time.monotonic()
    ws, evidence = _connect(ctx, params, "/ws/slow-accept")
    elapsed = time.monotonic() - started
    if ws is None:
        return CheckResult(FAIL, evidence)
    ws.close()
    seen = f"101 after {elapsed:.2f}s (the app accepts after 0.6 s)"
    return CheckResult(PASS if elapsed >= 0.5 else FAIL, seen)
