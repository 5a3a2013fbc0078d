"""One example covet app (`e2e_app.py`) under real ASGI server processes.

Each server is started through the harness's adapters on a free 127.0.0.1 port (readiness is
polled by the adapter, the process group is always reaped) and driven over sockets with httpx
and the `websockets` client. Where a server lacks a feature, the test asserts the documented
difference (`QUIRKS`) instead of skipping, so a server that gains or loses it fails loudly.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from covetbench.servers import AppTarget, RunningServer, ServerAdapter, ServerOptions, get_server

APP_DIR = Path(__file__).parent
# The four peer servers, then covet's own with each of its HTTP parsers.
SERVER_NAMES = ["uvicorn", "hypercorn", "granian", "daphne", "covet", "covet-python"]
CLOSE_CODE = 4001
CLOSE_REASON = "bye from covet"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Quirks:
    """What a server does differently from the ASGI spec, as documented and observed.

    Observed with uvicorn 0.54.0, hypercorn 0.18.0, granian 2.8.9 and daphne 4.2.3.
    """

    lifespan: bool = True
    # Close reason the client sees when the app closes with CLOSE_REASON.
    close_reason_to_client: str = CLOSE_REASON
    # Close code and reason the app is told when the client closes with 4002 "client leaving".
    client_close_code_to_app: int = 4002
    client_close_reason_to_app: str = "client leaving"
    # Status of a handshake the app refuses with a 401 denial response: 403 where the server
    # lacks the websocket.http.response extension (the app can then only close).
    denial_status: int = 401
    # Whether extra headers given to websocket.accept reach the client.
    accept_headers: bool = True


QUIRKS: dict[str, Quirks] = {
    "uvicorn": Quirks(),
    "covet": Quirks(),
    "covet-python": Quirks(),
    # hypercorn tells the app 1006 whatever close code the client sent (hypercorn #127).
    "hypercorn": Quirks(client_close_code_to_app=1006, client_close_reason_to_app=""),
    # granian passes the client's close code on but not its reason, and drops the `headers` of
    # websocket.accept (observed).
    "granian": Quirks(client_close_reason_to_app="", accept_headers=False),
    # daphne: no ASGI lifespan at all, so request.state stays empty; it drops the `reason` of
    # websocket.close and the `headers` of websocket.accept (conformance.md), and offers no
    # denial-response extension.
    "daphne": Quirks(
        lifespan=False,
        close_reason_to_client="",
        client_close_reason_to_app="",
        denial_status=403,
        accept_headers=False,
    ),
}


@dataclass
class Served:
    name: str
    adapter: ServerAdapter
    server: RunningServer
    shutdown_file: Path
    quirks: Quirks

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.server.base_url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.server.base_url + path, timeout=10, **kwargs)


@pytest.fixture(scope="module", params=SERVER_NAMES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    name: str = request.param
    adapter = get_server(name)
    tmp = tmp_path_factory.mktemp(name)
    shutdown_file = tmp / "shutdown.txt"
    env = dict(os.environ, COVET_E2E_SHUTDOWN_FILE=str(shutdown_file))
    target = AppTarget("covet-e2e", "e2e_app:app", str(APP_DIR))
    server = adapter.launch(target, ServerOptions(), tmp / "server.log", env=env)
    try:
        yield Served(name, adapter, server, shutdown_file, QUIRKS[name])
    finally:
        server.stop()


def test_routing_with_typed_params(served: Served) -> None:
    response = served.get("/users/42")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": 42, "type": "int", "url": "/users/42"}
    assert served.get("/price/2.5").json() == {"amount": 2.5}
    assert served.get("/files/a/b c.txt", params=[("q", "1"), ("q", "2")]).json() == {
        "path": "a/b c.txt",
        "q": ["1", "2"],
    }
    text = served.get("/text")
    assert text.text == "plain text"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"


def test_json_round_trip(served: Served) -> None:
    body = {"name": "Ada", "tags": ["x", "y"], "n": 1.5, "ok": True, "none": None}
    response = served.post("/echo", json=body)
    assert response.status_code == 200
    assert response.json() == {"received": body}


@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        ("GET", "/nowhere", 404, "Not Found"),
        ("GET", "/users/not-an-int", 404, "Not Found"),
        ("DELETE", "/users/1", 405, "Method Not Allowed"),
        ("GET", "/teapot", 418, "short and stout"),
    ],
)
def test_error_statuses(served: Served, method: str, path: str, status: int, detail: str) -> None:
    response = httpx.request(method, served.server.base_url + path, timeout=10)
    assert response.status_code == status
    assert response.json() == {"detail": detail}
    if status == 405:
        assert response.headers["allow"] == "GET, HEAD"


def test_streamed_multipart_upload(served: Served) -> None:
    blob = bytes(range(256)) * 8192  # 2 MiB: many receive() chunks on every server
    response = served.post(
        "/upload",
        data={"title": "caf\u00e9", "tag": "x"},
        files={"blob": ("blob.bin", blob, "application/octet-stream")},
    )
    assert response.status_code == 200
    assert response.json() == {
        "title": "caf\u00e9",
        "tag": "x",
        "blob": {"filename": "blob.bin", "size": len(blob), "sum": sum(blob) % 65521},
    }
    too_big = served.post("/upload", files={"blob": ("b", b"x" * (3 * 1024 * 1024 + 1))})
    assert too_big.status_code == 413
    assert served.post("/upload", json={"a": 1}).status_code == 415


def test_malformed_json_is_400(served: Served) -> None:
    response = served.post(
        "/echo", content=b'{"broken": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON body")


def test_handler_exception_is_500_without_leaks(served: Served) -> None:
    response = served.get("/boom")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "secret" not in response.text and "Traceback" not in response.text
    # The server is still serving after the failure.
    assert served.get("/users/1").status_code == 200


def test_head_and_gzip_middleware(served: Served) -> None:
    head = httpx.head(served.server.base_url + "/users/7", timeout=10)
    assert head.status_code == 200 and head.content == b""
    big = served.get("/big", headers={"accept-encoding": "gzip"})
    assert big.headers["content-encoding"] == "gzip"
    assert big.text == "covet " * 1000


def test_websocket_echo_and_custom_close(served: Served) -> None:
    with connect(served.server.ws_url + "/ws", open_timeout=10, close_timeout=5) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "echo: hello"
        ws.send("close")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
    received = info.value.rcvd
    assert received is not None
    assert received.code == CLOSE_CODE
    assert received.reason == served.quirks.close_reason_to_client


def test_websocket_subprotocol_and_accept_headers(served: Served) -> None:
    with connect(
        served.server.ws_url + "/ws/proto",
        subprotocols=[Subprotocol("chat.v2"), Subprotocol("chat.v1")],
        open_timeout=10,
    ) as ws:
        assert ws.subprotocol == "chat.v1"
        assert json.loads(ws.recv(timeout=10)) == {"offered": ["chat.v2", "chat.v1"]}
        assert ws.response is not None
        extra = ws.response.headers.get("x-covet")
    assert extra == ("yes" if served.quirks.accept_headers else None)


def test_websocket_denial_response(served: Served) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(served.server.ws_url + "/ws/deny", open_timeout=10).close()
    response = info.value.response
    assert response.status_code == served.quirks.denial_status
    if served.quirks.denial_status == 401:
        assert response.body == b"no entry"


def test_websocket_client_close_code_reaches_the_app(served: Served) -> None:
    with connect(served.server.ws_url + "/ws", open_timeout=10, close_timeout=5) as ws:
        ws.send("ping")
        assert ws.recv(timeout=10) == "echo: ping"
        ws.close(code=4002, reason="client leaving")
    seen: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the app hears of the close after the client does
        seen = served.get("/ws/last-close").json()
        if seen:
            break
        time.sleep(0.02)
    assert seen == {
        "code": served.quirks.client_close_code_to_app,
        "reason": served.quirks.client_close_reason_to_app,
    }


def test_lifespan_state_is_visible_in_requests(served: Served) -> None:
    first = served.get("/state").json()
    second = served.get("/state").json()
    if served.quirks.lifespan:
        assert served.adapter.supports_lifespan
        assert first["greeting"] == "hello from lifespan"
        assert first["boot_id"] and first["boot_id"] == second["boot_id"]
    else:
        # The documented difference: no lifespan, so nothing the lifespan yields is there.
        assert not served.adapter.supports_lifespan
        assert first == second == {"boot_id": None, "greeting": None}


def test_lifespan_shutdown_runs_on_sigterm(served: Served) -> None:
    # Stops the server: keep this test last in the module. SIGTERM goes to the main process
    # only, as `docker stop` does: a server with worker processes must pass the shutdown on.
    # (Signalling the whole group at once kills hypercorn's worker before its lifespan ends.)
    os.kill(served.server.pid, signal.SIGTERM)
    served.server.proc.wait(timeout=30)
    served.server.stop()  # reap anything left in the group
    assert served.shutdown_file.exists() is served.quirks.lifespan
