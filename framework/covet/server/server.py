"""The server process: bind, run lifespan, serve connections, shut down gracefully.

    server = Server(ServerConfig(port=8000), app)
    server.run()                       # blocks until SIGTERM/SIGINT

Inside an existing loop (tests): `await server.start()`, read `server.port`, then
`await server.shutdown()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable

from covet.server.config import ServerConfig
from covet.server.counters import EXTENSION
from covet.server.exceptions import ServerConfigError
from covet.server.lifespan import Lifespan
from covet.server.protocol import HTTPProtocol
from covet.server.sockets import bind_socket, describe, listen_socket
from covet.server.state import ServerState
from covet.server.tls import ssl_context
from covet.server.types import ASGIApp

logger = logging.getLogger("covet.server")

__all__ = ["Server", "bind_socket", "new_event_loop"]


def new_event_loop(config: ServerConfig) -> asyncio.AbstractEventLoop:
    """An event loop of the configured kind (uvloop when `auto` finds it)."""
    if config.loop_impl() == "uvloop":
        try:
            import uvloop
        except ImportError as exc:
            raise ServerConfigError(
                "--loop uvloop needs uvloop: pip install 'covetpy[speed]'"
            ) from exc
        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


class Server:
    """One server process serving `app` on the configured address.

    `sock`, when given, is a listening socket opened by someone else (the supervisor sharing
    one Unix or inherited socket between workers); otherwise the config says what to open.
    """

    def __init__(self, config: ServerConfig, app: ASGIApp, sock: socket.socket | None = None):
        self.config = config
        self.app = app
        self.state = ServerState.from_config(config, app)
        self.ssl = ssl_context(config)  # a bad certificate fails here, before anything starts
        self._sock = sock
        self._owns_uds = sock is None and config.uds is not None
        self._server: asyncio.Server | None = None
        self._lifespan: Lifespan | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self.port = config.port

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT, then shut down gracefully."""
        with asyncio.Runner(loop_factory=lambda: new_event_loop(self.config)) as runner:
            runner.run(self.serve())

    async def serve(self) -> None:
        self._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.request_shutdown)
                installed.append(sig)
        try:
            await self.start()
            await self._stop.wait()
            await self.shutdown()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def request_shutdown(self) -> None:
        """Ask `serve()` to shut down (what SIGTERM and SIGINT do)."""
        if self._stop is not None:
            self._stop.set()

    async def start(self) -> None:
        """Run lifespan startup, then start accepting connections."""
        loop = asyncio.get_running_loop()
        config = self.config
        state = self.state
        extensions = {EXTENSION: state.counters}
        self._lifespan = Lifespan(self.app, config.lifespan, state.lifespan_state, extensions)
        await self._lifespan.startup()
        sock = self._sock or listen_socket(config)
        self._server = await loop.create_server(
            lambda: HTTPProtocol(state),
            sock=sock,
            backlog=config.backlog,
            ssl=self.ssl,
            ssl_handshake_timeout=(config.timeout_header or None) if self.ssl else None,
        )
        if sock.family != socket.AF_UNIX:
            self.port = sock.getsockname()[1]
        self._ticker = loop.create_task(self._tick())
        logger.info(
            "covet serving on %s (%s parser, %s loop)",
            describe(sock, state.scheme),
            config.http_impl(),
            type(loop).__module__.split(".")[0],
        )

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0 - (asyncio.get_running_loop().time() % 1.0))
            self.state.tick()

    async def shutdown(self) -> None:
        """Stop accepting, let in-flight requests finish (bounded), then run lifespan shutdown."""
        state = self.state
        state.shutting_down = True
        if self._server is not None:
            self._server.close()
        for conn in list(state.connections):
            conn.shutdown()
        await self._wait_for(lambda: not state.connections and not state.tasks)
        for conn in list(state.connections):
            with contextlib.suppress(Exception):
                conn.abort()
        for task in list(state.tasks):
            task.cancel()
        if state.tasks:
            await asyncio.wait(list(state.tasks), timeout=1.0)
        if self._ticker is not None:
            self._ticker.cancel()
        if self._lifespan is not None:
            await self._lifespan.shutdown()
        if self._owns_uds and self.config.uds is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.config.uds)
        logger.info("covet stopped")

    async def _wait_for(self, done: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeout_graceful_shutdown
        while not done() and loop.time() < deadline:
            await asyncio.sleep(0.05)
