from __future__ import annotations

import asyncio
from typing import Any

import pytest

from covet import Covet, PlainTextResponse, WebSocket, WebSocketDisconnect
from covet.db import DatabaseUnavailable
from covet.exceptions import ConfigurationError, HTTPException, WebSocketException
from covet.testclient import TestClient, WebSocketDenialResponse
from covet.types import Message
from covet.websockets import WebSocketState


def ws_app() -> Covet:
    app = Covet()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            if text == "bye":
                await websocket.close(4001, "see you")
                return
            await websocket.send_text(text)

    @app.websocket("/bytes")
    async def bytes_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_bytes():
            await websocket.send_bytes(data[::-1])

    @app.websocket("/json")
    async def json_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_json():
            await websocket.send_json({"got": data})
            await websocket.send_json({"binary": data}, mode="binary")

    @app.websocket("/room/{name}")
    async def room(websocket: WebSocket) -> None:
        protocol = websocket.scope["subprotocols"][0] if websocket.scope["subprotocols"] else None
        await websocket.accept(subprotocol=protocol, headers=[(b"x-room", b"yes")])
        await websocket.send_json(
            {
                "room": websocket.path_params["name"],
                "q": websocket.query_params.get("q"),
                "token": websocket.headers.get("x-token"),
                "url": str(websocket.url),
            }
        )
        await websocket.close()

    @app.websocket("/peer-close")
    async def peer_close(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            websocket.app.state.last_close = (exc.code, exc.reason)

    @app.websocket("/deny")
    async def deny(websocket: WebSocket) -> None:
        await websocket.send_denial_response(PlainTextResponse("go away", 401))

    @app.websocket("/reject")
    async def reject(websocket: WebSocket) -> None:
        raise WebSocketException(4403, "forbidden")

    @app.websocket("/crash")
    async def crash(websocket: WebSocket) -> None:
        await websocket.accept()
        raise RuntimeError("ws crash")

    @app.websocket("/mode")
    async def mode(websocket: WebSocket) -> None:
        await websocket.accept()
        data = await websocket.receive_json(mode="binary")
        text = await websocket.receive_bytes()
        await websocket.send_json({"data": data, "text": text.decode()})
        await websocket.receive_text()  # the peer disconnects: swallowed by the router

    return app


def test_text_echo_and_close_code_from_server() -> None:
    client = TestClient(ws_app())
    with client.websocket_connect("/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_text("bye")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert (info.value.code, info.value.reason) == (4001, "see you")


def test_bytes_and_json() -> None:
    with TestClient(ws_app()) as client:
        with client.websocket_connect("/bytes") as ws:
            ws.send_bytes(b"abc")
            assert ws.receive_bytes() == b"cba"
        with client.websocket_connect("/json") as ws:
            ws.send_json({"n": 1})
            assert ws.receive_json() == {"got": {"n": 1}}
            assert ws.receive_json(mode="binary") == {"binary": {"n": 1}}


def test_json_modes() -> None:
    with TestClient(ws_app()).websocket_connect("/mode") as ws:
        ws.send_json([1, 2], mode="binary")
        ws.send_bytes(b"raw")
        assert ws.receive_json() == {"data": [1, 2], "text": "raw"}


def test_accept_with_subprotocol_headers_and_params() -> None:
    client = TestClient(ws_app())
    with client.websocket_connect(
        "/room/lobby?q=1", subprotocols=["chat", "other"], headers={"x-token": "t"}
    ) as ws:
        assert ws.accepted_subprotocol == "chat"
        assert (b"x-room", b"yes") in ws.extra_headers
        assert ws.receive_json() == {
            "room": "lobby",
            "q": "1",
            "token": "t",
            "url": "ws://testserver/room/lobby?q=1",
        }


def test_close_code_and_reason_from_client() -> None:
    app = ws_app()
    with TestClient(app).websocket_connect("/peer-close") as ws:
        ws.close(4002, "client leaving")
    assert app.state.last_close == (4002, "client leaving")


def test_denial_response() -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        with TestClient(ws_app()).websocket_connect("/deny"):
            pass
    assert info.value.status_code == 401
    assert info.value.text == "go away"


def test_unknown_path_is_a_404_denial() -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        with TestClient(ws_app()).websocket_connect("/nowhere"):
            pass
    assert info.value.status_code == 404


def test_websocket_exception_closes_with_its_code() -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(ws_app()).websocket_connect("/reject"):
            pass
    assert (info.value.code, info.value.reason) == (4403, "forbidden")


def test_crash_closes_with_1011_and_raises() -> None:
    client = TestClient(ws_app())
    with pytest.raises(RuntimeError, match="ws crash"):
        with client.websocket_connect("/crash") as ws:
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_text()
            assert info.value.code == 1011
    quiet = TestClient(ws_app(), raise_server_exceptions=False)
    with quiet.websocket_connect("/crash") as ws:
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()


def unavailable_app() -> Covet:
    """WebSocket endpoints whose database is down, before and after accepting."""
    app = Covet()

    @app.websocket("/before")
    async def before(websocket: WebSocket) -> None:
        raise DatabaseUnavailable("connection refused")

    @app.websocket("/after")
    async def after(websocket: WebSocket) -> None:
        await websocket.accept()
        raise DatabaseUnavailable("connection refused")

    @app.websocket("/teapot")
    async def teapot(websocket: WebSocket) -> None:
        await websocket.accept()
        raise HTTPException(418)

    return app


def test_database_down_before_accept_is_a_503_handshake_answer() -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        with TestClient(unavailable_app()).websocket_connect("/before"):
            pass
    assert info.value.status_code == 503
    assert info.value.headers["retry-after"].isdigit()


def test_database_down_after_accept_closes_1013_try_again_later() -> None:
    with TestClient(unavailable_app()).websocket_connect("/after") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 1013  # not 1011, and nothing raised to the server


def test_other_http_exceptions_in_a_websocket_are_crashes() -> None:
    with pytest.raises(HTTPException):
        with TestClient(unavailable_app()).websocket_connect("/teapot") as ws:
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_text()
            assert info.value.code == 1011


def test_endpoint_must_be_async() -> None:
    def sync(websocket: WebSocket) -> None: ...

    with pytest.raises(ConfigurationError):
        Covet().add_websocket_route("/ws", sync)  # type: ignore[arg-type]


def test_mounted_websocket() -> None:
    outer = Covet()
    outer.mount("/inner", ws_app())
    with TestClient(outer).websocket_connect("/inner/echo") as ws:
        ws.send_text("via mount")
        assert ws.receive_text() == "via mount"


class FakeServer:
    """Feeds a WebSocket the given client messages and records what it sends."""

    def __init__(self, *incoming: Message, extensions: dict[str, Any] | None = None) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": "/",
            "headers": [],
            "query_string": b"",
            "extensions": extensions or {},
        }

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def websocket(self) -> WebSocket:
        return WebSocket(self.scope, self.receive, self.send)


def test_state_machine_errors() -> None:
    async def scenario() -> None:
        server = FakeServer({"type": "websocket.connect"})
        ws = server.websocket()
        with pytest.raises(RuntimeError, match="accept"):
            await ws.send_text("too early")
        with pytest.raises(RuntimeError, match="accept"):
            await ws.receive_text()
        await ws.accept()
        with pytest.raises(RuntimeError, match="a denial response can only"):
            await ws.send_denial_response(PlainTextResponse("x"))
        with pytest.raises(RuntimeError, match="expected 'websocket.send'"):
            await ws.send({"type": "websocket.accept"})
        with pytest.raises(ValueError):
            await ws.send_json({}, mode="nope")
        with pytest.raises(ValueError):
            await ws.receive_json(mode="nope")
        await ws.close()
        assert ws.application_state is WebSocketState.DISCONNECTED
        with pytest.raises(RuntimeError, match="closed"):
            await ws.send_text("after close")

        bad = FakeServer({"type": "websocket.receive", "text": "x"}).websocket()
        with pytest.raises(RuntimeError, match="websocket.connect"):
            await bad.receive()

        typed = FakeServer(
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "bytes": b"b"},
            {"type": "websocket.receive", "text": "t"},
            {"type": "websocket.receive", "text": "x"},
            {"type": "websocket.weird"},
        ).websocket()
        await typed.accept()
        with pytest.raises(RuntimeError, match="text message"):
            await typed.receive_text()
        with pytest.raises(RuntimeError, match="binary message"):
            await typed.receive_bytes()
        assert (await typed.receive())["text"] == "x"
        with pytest.raises(RuntimeError, match="websocket.weird"):
            await typed.receive()

        gone = FakeServer({"type": "websocket.connect"}, {"type": "websocket.disconnect"})
        done = gone.websocket()
        await done.accept()
        assert [t async for t in done.iter_bytes()] == []
        with pytest.raises(RuntimeError, match="disconnected"):
            await done.receive()

    asyncio.run(scenario())


def test_denial_without_extension_closes() -> None:
    async def scenario() -> list[Message]:
        server = FakeServer()
        ws = server.websocket()
        assert not ws.supports_denial_response
        await ws.send_denial_response(PlainTextResponse("no"))
        return server.sent

    assert asyncio.run(scenario()) == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_denial_response_state_checks() -> None:
    async def scenario() -> None:
        server = FakeServer(extensions={"websocket.http.response": {}})
        ws = server.websocket()
        await ws.send({"type": "websocket.http.response.start", "status": 400, "headers": []})
        with pytest.raises(RuntimeError, match="response.body"):
            await ws.send({"type": "websocket.send", "text": "x"})

    asyncio.run(scenario())


def test_websocket_needs_a_websocket_scope() -> None:
    async def receive() -> Message:
        return {}

    async def send(message: Message) -> None:
        pass

    with pytest.raises(ValueError):
        WebSocket({"type": "http"}, receive, send)
