"""HTTP probes: results stored by the app after the response, streaming, 100-continue,
keep-alive, idle and header timeouts."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from covetbench.conformance.model import FAIL, PASS, UNSUPPORTED, CheckResult, escape
from covetbench.conformance.probes import ProbeContext, judge_json, new_token, probe
from covetbench.net.rawclient import parse_responses, request_bytes


def _recv_until(sock: socket.socket, buf: bytes, done: Callable[[bytes], bool]) -> bytes:
    """`buf` and what arrives after it, until `done(buf)`, the peer closes or a recv times out."""
    try:
        while not done(buf):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    except TimeoutError:
        pass
    return buf


def _has_final(buf: bytes) -> bool:
    return bool(parse_responses(buf, False)[0])


@probe("stored")
def stored(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Send `request` (with {token}); `drop_after` s later close the socket (or read the
    response when absent), then judge what the app stored against `expect`."""
    token = new_token()
    data = ctx.expand(params["request"], token=token)
    if "drop_after" in params:
        with socket.create_connection((ctx.host, ctx.port), timeout=3.0) as sock:
            sock.sendall(data)
            time.sleep(float(params["drop_after"]))
        sent = f"sent {escape(data, 120)} then closed the socket"
    else:
        sent = ctx.raw(data).summary()
    value, seen = ctx.stored(token)
    return judge_json(value, params["expect"], f"{sent}; {seen}", params.get("unsupported"))


@probe("streaming")
def streaming(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """GET /stream: 'first' must reach the client well before 'second' (sent 0.8 s later).
    With `path` /slow-start and `words` ["HTTP/1.1 200", "late-body"]: the status line must
    arrive before the body that follows it 0.8 s later."""
    path = params.get("path", "/stream")
    first, second = params.get("words", ["first", "second"])
    data = request_bytes("GET", path, ctx.hostport)
    arrivals: dict[str, float] = {}
    started = time.monotonic()
    buf = b""
    with socket.create_connection((ctx.host, ctx.port), timeout=3.0) as sock:
        sock.sendall(data)
        while second not in arrivals and time.monotonic() - started < 3.0:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            buf += chunk
            for word in (first, second):
                if word.encode() in buf and word not in arrivals:
                    arrivals[word] = time.monotonic() - started
    evidence = f"GET {path}; received {escape(buf, 200)}; arrivals {arrivals}"
    if first not in arrivals or second not in arrivals:
        return CheckResult(FAIL, evidence)
    gap = arrivals[second] - arrivals[first]
    return CheckResult(PASS if gap >= 0.4 else FAIL, f"{evidence}; gap {gap:.2f}s")


@probe("expect_continue")
def expect_continue(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Headers with Expect: 100-continue, then wait `wait` s before the body.

    mode "continue": PASS if a 100 arrives before the body, or a final status without it.
    mode "lazy": the app never reads the body: PASS if no 100 is sent.
    """
    path = params.get("path", "/echo")
    body = b"hello"
    head = request_bytes(
        "POST", path, ctx.hostport, [("Expect", "100-continue"), ("Content-Length", "5")]
    )
    with socket.create_connection((ctx.host, ctx.port), timeout=3.0) as sock:
        sock.sendall(head)
        sock.settimeout(float(params.get("wait", 1.0)))
        buf = _recv_until(sock, b"", lambda got: b"\r\n\r\n" in got)
        before_body = buf
        finals, interim, _ = parse_responses(buf, False)
        if not finals:
            sock.sendall(body)
            sock.settimeout(2.0)
            buf = _recv_until(sock, buf, _has_final)
    finals, interim, _ = parse_responses(buf, False)
    evidence = (
        f"sent {escape(head, 120)}, waited; before the body got {escape(before_body, 100)}; "
        f"in all got {escape(buf, 200)}"
    )
    got_100 = any(r.status == 100 for r in interim)
    if params.get("mode") == "lazy":
        ok = bool(finals) and not got_100
        return CheckResult(PASS if ok else FAIL, evidence)
    early_final = _has_final(before_body)
    early_100 = b" 100 " in before_body.split(b"\r\n", 1)[0] if before_body else False
    ok = (early_100 or early_final) and bool(finals) and finals[0].status < 500
    return CheckResult(PASS if ok else FAIL, evidence)


@probe("keepalive")
def keepalive(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Two requests one after the other on one connection (HTTP/1.1 default persistence,
    or HTTP/1.0 with Connection: keep-alive when `version` is HTTP/1.0)."""
    version = params.get("version", "HTTP/1.1")
    headers = [("Connection", "keep-alive")] if version == "HTTP/1.0" else []
    data = request_bytes("GET", "/echo", ctx.hostport, headers, version=version)
    statuses: list[int] = []
    with socket.create_connection((ctx.host, ctx.port), timeout=3.0) as sock:
        for _ in range(2):
            try:
                sock.sendall(data)
                buf = _recv_until(sock, b"", _has_final)
            except OSError:
                break
            finals = parse_responses(buf, False)[0]
            if not finals:
                break
            statuses.append(finals[0].status)
    evidence = f"sent {escape(data, 100)} twice on one connection; statuses {statuses}"
    return CheckResult(PASS if statuses == [200, 200] else FAIL, evidence)


@probe("idle_close")
def idle_close(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """Open a connection, optionally send `request`, then trickle `trickle` bytes one a second;
    PASS if the server closes it within `limit` s (a bounded keep-alive or header timeout)."""
    limit = float(params.get("limit", 12.0))
    data = ctx.expand(params.get("request", ""))
    trickle = params.get("trickle", "").encode()
    started = time.monotonic()
    closed_after: float | None = None
    sent = 0
    with socket.create_connection((ctx.host, ctx.port), timeout=3.0) as sock:
        if data:
            sock.sendall(data)
        next_byte = started + 1.0
        while time.monotonic() - started < limit:
            sock.settimeout(max(0.05, min(next_byte, started + limit) - time.monotonic()))
            try:
                chunk = sock.recv(65536)
                if not chunk:
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                pass
            except OSError:
                closed_after = time.monotonic() - started
                break
            if trickle and time.monotonic() >= next_byte:
                try:
                    sock.sendall(trickle[sent % len(trickle) : sent % len(trickle) + 1])
                except OSError:
                    closed_after = time.monotonic() - started
                    break
                sent += 1
                next_byte += 1.0
    what = f"sent {escape(data, 80)}" + (f", then trickled {sent} bytes 1/s" if trickle else "")
    if closed_after is None:
        return CheckResult(FAIL, f"{what}; still open after {limit:.0f}s")
    return CheckResult(PASS, f"{what}; server closed after {closed_after:.1f}s")


@probe("state_isolation")
def state_isolation(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """GET /state?mutate=1 sets a top-level key on the request's state; the next request must
    not see it (state is a shallow copy per request)."""
    first = ctx.get("/state?mutate=1")
    second = ctx.get("/state")
    evidence = f"1st: {first.summary()}; 2nd: {second.summary()}"
    if not second.responses or b'"has_state": false' in second.responses[0].body:
        return CheckResult(UNSUPPORTED, f"no state in the request scope; {evidence}")
    leaked = b'"leaked"' in second.responses[0].body
    return CheckResult(FAIL if leaked else PASS, evidence)
