"""Standalone driver that `covetbench.gate.instructions` runs under callgrind: N requests only.

Never imported by the harness (it would import the measured app); run as a script with the
app's directory on PYTHONPATH:

    python callgrind_driver.py app    apps.covet:app --path /json --requests 200
    python callgrind_driver.py server apps.raw:app --http python --requests 200

`app` drives the ASGI callable in-process with a minimal scope / receive / send (what a server
builds per request); `server` feeds raw HTTP/1.1 request bytes through covet's server protocol
(`covet.server.testing.TestConnection`: the server's protocol with the parser `--http` names,
on a fake transport, no socket), one keep-alive connection. Both run lifespan startup first
and check that the first response is 2xx (exit 3 otherwise), so a broken app is not measured
as a fast one. Every request is identical, so the instruction count of N requests is start-up
+ N x per-request, and the difference of two N cancels the start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
App = Callable[..., Awaitable[None]]

_MAX_SETTLE_ROUNDS = 1000


def _load_app(import_string: str) -> App:
    module_name, _, attr = import_string.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    app: App = obj
    return app


async def _lifespan_startup(app: App, state: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    """Run lifespan startup; returns the coroutine function that shuts it down."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    started: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def send(message: Message) -> None:
        if not started.done():
            started.set_result(message)

    async def receive() -> Message:
        return await inbox.get()

    async def run() -> None:
        try:
            await app(
                {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, receive, send
            )
        except Exception:  # an app without lifespan support may raise: allowed
            pass
        if not started.done():  # ... or return without a word
            started.set_result({"type": "lifespan.unsupported"})

    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.get_running_loop().create_task(run())
    message = await started
    if message["type"] == "lifespan.startup.failed":
        raise SystemExit(f"lifespan startup failed: {message.get('message')}")

    async def shutdown() -> None:
        if not task.done():
            await inbox.put({"type": "lifespan.shutdown"})
            try:
                await asyncio.wait_for(task, 5.0)
            except Exception:  # shutdown is not measured: never fail it
                pass

    return shutdown


def _headers(args: argparse.Namespace) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"callgrind"), (b"accept", b"*/*")]
    for item in args.header:
        name, _, value = item.partition(":")
        headers.append((name.strip().lower().encode(), value.strip().encode()))
    return headers


async def _drive_app(args: argparse.Namespace, body: bytes) -> int:
    app = _load_app(args.app)
    state: dict[str, Any] = {}
    shutdown = await _lifespan_startup(app, state)
    path = args.path.encode()
    raw_path, _, query = path.partition(b"?")
    headers = _headers(args)
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    template: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": args.method,
        "root_path": "",
        "path": raw_path.decode(),
        "raw_path": raw_path,
        "query_string": query,
        "headers": headers,
    }
    request: Message = {"type": "http.request", "body": body, "more_body": False}
    status: list[int] = []

    async def receive() -> Message:
        return request

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    for _ in range(args.requests):
        scope = dict(template)
        scope["state"] = dict(state)
        await app(scope, receive, send)
    await shutdown()
    return status[0] if status else 0


async def _drive_server(args: argparse.Namespace, body: bytes) -> int:
    # covet's own test seam, by import string: the harness never imports covet itself.
    try:
        testing = importlib.import_module("covet.server.testing")
    except ModuleNotFoundError:
        raise SystemExit(
            "this covet has no covet.server.testing (older than 2026-12-01): "
            "its server path cannot be counted by this driver; use --kinds app"
        ) from None
    config_mod = importlib.import_module("covet.server.config")

    app = _load_app(args.app)
    conn = testing.TestConnection(app, config_mod.ServerConfig(http=args.http, access_log=False))
    state, transport, protocol = conn.state, conn.transport, conn.protocol
    shutdown = await _lifespan_startup(app, state.lifespan_state)

    head = f"{args.method} {args.path} HTTP/1.1\r\n".encode()
    for name, value in _headers(args):
        head += name + b": " + value + b"\r\n"
    if body:
        head += b"content-length: " + str(len(body)).encode() + b"\r\n"
    raw = head + b"\r\n" + body

    first = b""
    for i in range(args.requests):
        protocol.data_received(raw)
        for _ in range(_MAX_SETTLE_ROUNDS):
            await asyncio.sleep(0)
            if transport.buffer and not state.in_flight:
                break
        else:
            raise SystemExit(f"no complete response after {_MAX_SETTLE_ROUNDS} loop rounds")
        if i == 0:
            first = bytes(transport.buffer)
        transport.buffer.clear()
    await shutdown()
    parts = first.split(b" ", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=("app", "server"))
    parser.add_argument("app", help="module:attr of the ASGI app")
    parser.add_argument("--http", default="python", help="covet parser (server mode)")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/plaintext")
    parser.add_argument("--header", action="append", default=[], metavar="NAME:VALUE")
    parser.add_argument("--body-hex", default="")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument(
        "--heap-pad",
        type=int,
        default=0,
        help="small objects allocated before the app is imported: another heap layout",
    )
    args = parser.parse_args(argv)
    # Alive to the end: it is what moves every later allocation (measure.InstructionsConfig).
    layout = [object() for _ in range(args.heap_pad)]
    body = bytes.fromhex(args.body_hex)
    drive = _drive_app if args.mode == "app" else _drive_server
    loop = asyncio.new_event_loop()
    try:
        status = loop.run_until_complete(drive(args, body))
    finally:
        loop.close()
    del layout
    if not 200 <= status < 300:
        print(f"callgrind_driver: first response status {status}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    # this script's directory (the harness package, with its own `apps.py`) must not shadow
    # the measured app's modules
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    sys.exit(main())
