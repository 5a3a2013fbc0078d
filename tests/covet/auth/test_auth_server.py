"""covet.auth through covet's real server on 127.0.0.1, over sockets (httpx and websockets).

One server process for the module (started by the harness's adapter, readiness polled, always
reaped): a login with a form and its CSRF token, the signed session cookie, a bearer token, a
tampered cookie, and a WebSocket handshake refused before and accepted after the login.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from covetbench.servers import AppTarget, RunningServer, ServerOptions, get_server

APP_DIR = Path(__file__).parent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("auth-server") / "server.log"
    target = AppTarget("covet-auth", "auth_app:app", str(APP_DIR))
    running = get_server("covet").launch(target, ServerOptions(), log)
    try:
        yield running
    finally:
        running.stop()


def test_login_session_token_and_websocket_over_a_socket(server: RunningServer) -> None:
    ws_url = server.ws_url + "/live"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, open_timeout=10, close_timeout=5).close()
    assert refused.value.response.status_code == 403

    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert client.get("/me").status_code == 401
        page = client.get("/login").text
        token = page.split('value="')[1].split('"')[0]
        forged = client.post("/login", data={"username": "ada", "password": "lovelace"})
        assert forged.status_code == 403 and forged.json() == {"detail": "Forbidden"}
        wrong = client.post(
            "/login", data={"username": "ada", "password": "nope", "csrf_token": token}
        )
        assert wrong.json() == {"ok": False}
        ok = client.post(
            "/login", data={"username": "ada", "password": "lovelace", "csrf_token": token}
        )
        assert ok.json() == {"ok": True}
        assert "HttpOnly" in ok.headers["set-cookie"]
        me = client.get("/me")
        assert me.json()["user"] == "ada" and "set-cookie" not in me.headers
        assert client.get("/admin").text == "admin area"
        session = client.cookies["session"]
        stale = client.post("/token", headers={"x-csrf-token": token})
        assert stale.status_code == 403  # the login renewed the session-bound CSRF secret
        fresh = client.get("/login").text.split('value="')[1].split('"')[0]
        bearer = client.post("/token", headers={"x-csrf-token": fresh}).json()["token"]

    tampered = session[:-2] + ("AA" if not session.endswith("AA") else "BB")
    response = httpx.get(server.base_url + "/me", headers={"cookie": f"session={tampered}"})
    assert response.status_code == 401 and response.content == b'{"detail":"Unauthorized"}'
    by_token = httpx.get(server.base_url + "/me", headers={"authorization": f"Bearer {bearer}"})
    assert by_token.json()["user"] == "ada"

    with connect(ws_url, additional_headers={"cookie": f"session={session}"}) as ws:
        assert ws.recv(timeout=10) == '{"user":"ada"}'
