"""CSRF protection: tokens in forms and headers, Origin checks, cookie and session storage."""

from __future__ import annotations

import re
from typing import Any

import pytest

from covet import Covet, Request, WebSocket, WebSocketDisconnect
from covet.auth import AuthConfigurationError, CSRFMiddleware, csrf_input, csrf_token
from covet.testclient import TestClient

FORBIDDEN = b'{"detail":"Forbidden"}'


def csrf_app(**options: Any) -> Covet:
    app = Covet()
    app.add_middleware(CSRFMiddleware, **options)

    @app.get("/form")
    async def form(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request), "input": csrf_input(request)}

    @app.get("/plain")
    async def plain() -> str:
        return "no token asked for"

    @app.route("/submit", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE"])
    async def submit(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith(("multipart/", "application/x")):
            form = await request.form()
            upload = form.get("file")
            size = len(await upload.read()) if hasattr(upload, "read") else None
            return {"text": form.get("text"), "file": size}
        return {"body": (await request.body()).decode()}

    @app.post("/hooks/in")
    async def hook() -> str:
        return "hooked"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(csrf_app(exempt_paths=["/hooks/"]))


def token_of(client: TestClient) -> str:
    return str(client.get("/form").json()["token"])


def test_safe_methods_need_no_token(client: TestClient) -> None:
    for method in ("GET", "HEAD", "OPTIONS"):
        assert client.request(method, "/submit").status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_unsafe_methods_without_a_token_are_403_without_detail(
    client: TestClient, method: str
) -> None:
    token_of(client)  # the client has a secret; it just does not send the token
    response = client.request(
        method, "/submit", data={"text": "hi"} if method != "DELETE" else None
    )
    assert response.status_code == 403 and response.content == FORBIDDEN


def test_form_field_token_is_accepted_and_the_body_reaches_the_app(client: TestClient) -> None:
    token = token_of(client)
    response = client.post("/submit", data={"text": "hello", "csrf_token": token})
    assert response.json() == {"text": "hello", "file": None}


def test_multipart_token_and_upload(client: TestClient) -> None:
    token = token_of(client)
    blob = bytes(range(256)) * 1024
    response = client.post(
        "/submit", data={"csrf_token": token, "text": "up"}, files={"file": ("b.bin", blob)}
    )
    assert response.json() == {"text": "up", "file": len(blob)}
    refused = client.post("/submit", data={"text": "up"}, files={"file": ("b.bin", blob)})
    assert refused.status_code == 403


def test_header_token_for_scripts(client: TestClient) -> None:
    token = token_of(client)
    response = client.post("/submit", json={"a": 1}, headers={"x-csrf-token": token})
    assert response.json() == {"body": '{"a":1}'}
    assert client.post("/submit", json={"a": 1}).status_code == 403


def test_tokens_are_masked_afresh_each_time_and_all_verify(client: TestClient) -> None:
    tokens = {token_of(client) for _ in range(3)}
    assert len(tokens) == 3
    for token in tokens:
        assert client.post("/submit", headers={"x-csrf-token": token}).status_code == 200


def test_a_token_from_another_client_or_tampered_is_refused(client: TestClient) -> None:
    mine = token_of(client)
    theirs = token_of(TestClient(client.app))
    flipped = mine[:10] + ("A" if mine[10] != "A" else "B") + mine[11:]
    for token in (theirs, flipped, mine[:-1], "", "x" * 86, "\u00e9"):
        response = client.post("/submit", headers={b"x-csrf-token": token.encode("utf-8")})
        assert response.status_code == 403 and response.content == FORBIDDEN


def test_cookie_mode_sets_an_httponly_cookie_only_when_a_token_was_made() -> None:
    client = TestClient(csrf_app(https_only=True), base_url="https://testserver")
    assert "set-cookie" not in client.get("/plain").headers
    cookie = client.get("/form").headers["set-cookie"]
    assert cookie.startswith("csrftoken=") and "HttpOnly" in cookie and "Secure" in cookie
    assert "set-cookie" not in client.get("/form").headers  # the secret is kept
    token = token_of(client)
    client.cookies.clear()  # the secret gone: the token proves nothing
    assert client.post("/submit", headers={"x-csrf-token": token}).status_code == 403
    tampered = {"cookie": "csrftoken=not-a-secret"}
    assert client.post("/submit", headers={"x-csrf-token": token, **tampered}).status_code == 403


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": "http://testserver"}, 200),
        ({"origin": "https://testserver"}, 200),  # TLS ended at a proxy: scheme not compared
        ({"origin": "https://partner.example"}, 200),
        ({"origin": "https://evil.example"}, 403),
        ({"origin": "http://testserver.evil.example"}, 403),
        ({"origin": "null"}, 403),
        ({"sec-fetch-site": "cross-site"}, 403),
        ({"sec-fetch-site": "same-origin"}, 200),
    ],
)
def test_origin_checks(headers: dict[str, str], status: int) -> None:
    client = TestClient(csrf_app(trusted_origins=["https://partner.example"]))
    token = token_of(client)
    response = client.post("/submit", headers={"x-csrf-token": token, **headers})
    assert response.status_code == status


def test_exempt_paths_and_bearer_requests_skip_the_check(client: TestClient) -> None:
    assert client.post("/hooks/in").text == "hooked"
    assert client.post("/submit", headers={"authorization": "Bearer x"}).status_code == 200
    basic = client.post("/submit", headers={"authorization": "Basic eDp5"})
    assert basic.status_code == 403  # browsers resend Basic credentials on their own


def test_oversized_and_malformed_forms() -> None:
    client = TestClient(csrf_app(max_body_size=1000))
    token = token_of(client)
    big = client.post("/submit", data={"csrf_token": token, "text": "x" * 2000})
    assert big.status_code == 413
    broken = client.post(
        "/submit",
        content=b"--b\r\nnot a part",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert broken.status_code == 403 and broken.content == FORBIDDEN


def test_websocket_origin_check(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}):
        pass
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws", headers={"origin": "https://evil.example"}):
            pass  # pragma: no cover
    assert info.value.code == 1008


def test_csrf_input_is_html_templates_do_not_escape(client: TestClient) -> None:
    html = client.get("/form").json()["input"]
    assert re.fullmatch(r'<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{86}">', html)
    request = Request({"type": "http", "headers": [], "csrf": client.app})
    with pytest.raises(AuthConfigurationError, match="CSRFMiddleware"):
        csrf_input(request)


def test_misconfiguration() -> None:
    with pytest.raises(AuthConfigurationError):
        Covet().add_middleware(CSRFMiddleware, field_name="bad name")
    with pytest.raises(AuthConfigurationError):
        Covet().add_middleware(CSRFMiddleware, same_site="none")
    with pytest.raises(AuthConfigurationError):
        Covet().add_middleware(CSRFMiddleware, exempt_paths="/hooks")
    with pytest.raises(AuthConfigurationError, match="SessionMiddleware"):
        TestClient(csrf_app(use_session=True)).get("/plain")


def test_session_bound_tokens_are_renewed_by_login() -> None:
    from tests.covet.auth.auth_app import make_app

    client = TestClient(make_app())
    before = client.get("/login").text.split('value="')[1].split('"')[0]
    assert "csrftoken" not in client.cookies  # the secret lives in the session
    response = client.post(
        "/login", data={"username": "bob", "password": "builder", "csrf_token": before}
    )
    assert response.json() == {"ok": True}
    stale = client.post("/logout", headers={"x-csrf-token": before})
    assert stale.status_code == 403 and stale.content == FORBIDDEN


def test_a_token_made_after_login_in_the_same_request_belongs_to_the_new_session() -> None:
    from covet.auth import SessionMiddleware, login

    app = csrf_app(use_session=True)
    app.add_middleware(SessionMiddleware, secret_keys=["k" * 32])

    @app.post("/login-now")
    async def login_now(request: Request) -> dict[str, str]:
        login(request, "ada")
        return {"token": csrf_token(request)}

    client = TestClient(app)
    before = token_of(client)
    after = client.post("/login-now", headers={"x-csrf-token": before}).json()["token"]
    assert client.post("/submit", headers={"x-csrf-token": before}).status_code == 403
    assert client.post("/submit", headers={"x-csrf-token": after}).status_code == 200


def test_a_client_leaving_mid_form_gets_no_answer_and_the_app_is_not_called() -> None:
    import asyncio

    called: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append("app")  # pragma: no cover - must not run

    middleware = CSRFMiddleware(app)
    messages = [
        {"type": "http.request", "body": b"csrf_token=", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> Any:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
    }
    asyncio.run(middleware(scope, receive, send))
    assert sent == [] and called == []


def test_an_unreadable_secret_cookie_is_replaced() -> None:
    client = TestClient(csrf_app())
    response = client.get("/form", headers={"cookie": "csrftoken=!!!"})
    assert response.headers["set-cookie"].startswith("csrftoken=")
