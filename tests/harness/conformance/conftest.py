"""Fixtures for the conformance tests: a deliberately broken toy server, and uvicorn serving
the probe app (launched through its adapter, reaped afterwards)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from covetbench.conformance.probes import ProbeContext
from covetbench.conformance.runner import PROBE_APPS, conformance_apps_dir
from covetbench.servers.base import AppTarget, RunningServer, ServerOptions

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def _broken_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers everything wrongly on purpose: frames by Content-Length only (so CL+TE and
    TE.CL smuggling go through), never checks Host, sends no Date, ignores Connection: close,
    and closes every WebSocket with code 1001 whatever the app asked for."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("upgrade", "").lower() == "websocket":
                key = headers.get("sec-websocket-key", "").encode()
                accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
                writer.write(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                )
                writer.write(b"\x88\x02" + struct.pack("!H", 1001))
                await writer.drain()
                await asyncio.sleep(0.5)
                break
            length = headers.get("content-length", "0")
            if length.isdigit():
                await reader.readexactly(int(length))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
def broken_server() -> Iterator[ProbeContext]:
    """A toy HTTP/WebSocket server on a free port, in a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, asyncio.Server] = {}

    async def start() -> None:
        holder["server"] = await asyncio.start_server(_broken_handler, "127.0.0.1", 0)
        ready.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    port = holder["server"].sockets[0].getsockname()[1]
    try:
        yield ProbeContext("127.0.0.1", port, "broken")
    finally:

        async def stop() -> None:
            holder["server"].close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await asyncio.sleep(0.01)  # let the transports finish closing
            await holder["server"].wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def probe_targets() -> dict[str, AppTarget]:
    apps = str(conformance_apps_dir())
    return {name: AppTarget(name, f"{name}:app", apps) for name in PROBE_APPS}


@pytest.fixture(scope="module")
def uvicorn_probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbeContext]:
    """uvicorn serving the probe app, launched once for the module."""
    from covetbench.servers import get_server

    adapter = get_server("uvicorn")
    if not adapter.is_installed():
        pytest.skip("uvicorn is not installed")
    log = Path(tmp_path_factory.mktemp("logs")) / "uvicorn.log"
    running: RunningServer = adapter.launch(probe_targets()["probe"], ServerOptions(), log)
    with running:
        yield ProbeContext(running.host, running.port, "uvicorn", adapter, running, probe_targets())
