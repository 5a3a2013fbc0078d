from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from covet import Covet, Request
from covet.lifespan import run_lifespan
from covet.testclient import TestClient
from covet.types import Message


def test_lifespan_runs_startup_and_shutdown() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"answer": 42}
        events.append("shutdown")

    app = Covet(lifespan=lifespan)

    @app.get("/")
    async def home(request: Request) -> dict[str, Any]:
        return {"answer": request.state.answer}

    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/").json() == {"answer": 42}
    assert events == ["startup", "shutdown"]


def test_async_generator_lifespan_without_state() -> None:
    events: list[str] = []

    async def lifespan(app: Covet) -> AsyncIterator[None]:
        events.append("up")
        yield
        events.append("down")

    with TestClient(Covet(lifespan=lifespan)):
        pass
    assert events == ["up", "down"]


def test_no_lifespan() -> None:
    with TestClient(Covet()) as client:
        assert client.get("/").status_code == 404


def test_startup_failure_is_reported_and_raised() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield

    messages = drive(Covet(lifespan=lifespan))
    assert messages[-1] == {
        "type": "lifespan.startup.failed",
        "message": "RuntimeError: database unreachable",
    }
    with pytest.raises(RuntimeError, match="database unreachable"):
        with TestClient(Covet(lifespan=lifespan)):
            pass


def test_shutdown_failure_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[None]:
        yield
        raise ValueError("flush failed")

    messages = drive(Covet(lifespan=lifespan))
    assert [m["type"] for m in messages] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.failed",
    ]
    assert messages[-1]["message"] == "ValueError: flush failed"
    with pytest.raises(ValueError, match="flush failed"):
        with TestClient(Covet(lifespan=lifespan)):
            pass


def test_state_without_server_support_fails_startup() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[dict[str, int]]:
        yield {"x": 1}

    messages = drive(Covet(lifespan=lifespan), with_state=False)
    assert messages[-1]["type"] == "lifespan.startup.failed"
    assert "state" in messages[-1]["message"]


def test_run_lifespan_directly() -> None:
    sent: list[Message] = []
    inbox: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(run_lifespan(None, None, {"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def drive(app: Covet, with_state: bool = True) -> list[Message]:
    """Run a lifespan as a server would, returning what the app sent (errors swallowed)."""
    sent: list[Message] = []
    inbox: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}}
    if with_state:
        scope["state"] = {}
    with contextlib.suppress(Exception):
        asyncio.run(app(scope, receive, send))
    return sent
