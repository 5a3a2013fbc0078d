"""Backends, AuthenticationMiddleware and @requires on HTTP and WebSocket routes."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from covet import Covet, Request, WebSocket, WebSocketDisconnect
from covet.auth import (
    AuthConfigurationError,
    AuthCredentials,
    AuthenticationMiddleware,
    BaseUser,
    BasicAuth,
    BearerAuth,
    BearerTokens,
    SessionAuth,
    SessionMiddleware,
    SimpleUser,
    UnauthenticatedUser,
    login,
    parse_basic,
    requires,
    safe_next,
)
from covet.auth.exceptions import AuthenticationError
from covet.testclient import TestClient
from tests.covet.auth.auth_app import SESSION_KEYS, TOKEN_KEYS
from tests.covet.auth.conftest import FakeClock

UNAUTHORIZED = {"detail": "Unauthorized"}
FORBIDDEN = {"detail": "Forbidden"}


def sign_in(client: TestClient, username: str, password: str) -> None:
    page = client.get("/login").text
    token = page.split('value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.json() == {"ok": True}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_anonymous_gets_401_with_every_challenge(client: TestClient) -> None:
    response = client.get("/me")
    assert response.status_code == 401 and response.json() == UNAUTHORIZED
    assert response.headers["www-authenticate"] == 'Basic realm="notes", charset="UTF-8", Bearer'


def test_basic_auth_right_and_wrong(client: TestClient) -> None:
    ok = client.get("/me", auth=("bob", "builder"))
    assert ok.json() == {"user": "bob", "scopes": ["authenticated"]}
    for user, password in (("bob", "wrong"), ("nobody", "builder"), ("bob", "")):
        refused = client.get("/me", auth=(user, password))
        assert refused.status_code == 401 and refused.json() == UNAUTHORIZED
        assert refused.headers["www-authenticate"] == 'Basic realm="notes", charset="UTF-8"'


@pytest.mark.parametrize(
    "header",
    ["Basic", "Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic \u00e9"],
)
def test_malformed_basic_credentials_are_401(client: TestClient, header: str) -> None:
    response = client.get("/me", headers={b"authorization": header.encode("latin-1")})
    assert response.status_code == 401 and response.json() == UNAUTHORIZED


def test_parse_basic() -> None:
    encoded = base64.b64encode("ada:pa:ss \u00e9".encode()).decode()
    assert parse_basic(encoded) == ("ada", "pa:ss \u00e9")
    with pytest.raises(AuthenticationError):
        parse_basic(base64.b64encode(b"\xff:x").decode())


def test_bearer_tokens_right_expired_and_tampered(client: TestClient, clock: FakeClock) -> None:
    tokens: BearerTokens = client.app.state.tokens  # type: ignore[attr-defined]
    good = tokens.issue("ada", ["notes:write"])
    assert client.get("/me", headers=bearer(good)).json() == {
        "user": "ada",
        "scopes": ["authenticated", "notes:write"],
    }
    assert client.post("/notes", headers=bearer(good), data={"text": "hi"}).json() == {"note": "hi"}
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    other_key = BearerTokens("attacker-key-0123456789abcdef", clock=clock).issue("ada", ["admin"])
    clock.advance(601)  # past max_age=600
    for token in (good, forged, other_key, "not-a-token", ""):
        response = client.get("/me", headers=bearer(token))
        assert response.status_code == 401 and response.json() == UNAUTHORIZED
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_session_login_scopes_403_and_redirect(client: TestClient) -> None:
    admin = client.get("/admin", follow_redirects=False)
    assert admin.status_code == 303 and admin.headers["location"] == "/login?next=%2Fadmin"
    sign_in(client, "bob", "builder")
    assert client.get("/me").json() == {"user": "bob", "scopes": ["authenticated", "notes:read"]}
    refused = client.get("/admin")
    assert refused.status_code == 403 and refused.json() == FORBIDDEN
    sign_in(client, "ada", "lovelace")
    assert client.get("/admin").text == "admin area"  # a sync endpoint without a request


def test_a_session_token_grants_its_scopes_only(client: TestClient) -> None:
    sign_in(client, "bob", "builder")
    token = client.post("/token", headers={"x-csrf-token": csrf(client)}).json()["token"]
    anonymous = TestClient(client.app)
    response = anonymous.post("/notes", headers=bearer(token), data={"text": "x"})
    assert response.status_code == 403 and response.json() == FORBIDDEN


def csrf(client: TestClient) -> str:
    return client.get("/login").text.split('value="')[1].split('"')[0]


def test_logout_ends_the_session(client: TestClient) -> None:
    sign_in(client, "ada", "lovelace")
    assert client.get("/me").status_code == 200
    client.post("/logout", headers={"x-csrf-token": csrf(client)})
    assert client.get("/me").status_code == 401


def test_websocket_requires_scope(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/live"):
        pass  # pragma: no cover - refused before accept
    assert info.value.code == 1008
    sign_in(client, "bob", "builder")
    with client.websocket_connect("/live") as ws:
        assert ws.receive_json() == {"user": "bob"}


def test_websocket_with_bad_credentials_is_closed_1008(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/live", headers=bearer("bad")):
            pass  # pragma: no cover
    assert info.value.code == 1008
    tokens: BearerTokens = client.app.state.tokens  # type: ignore[attr-defined]
    without_scope = bearer(tokens.issue("t", ["x"]))
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/live", headers=without_scope):
            pass  # pragma: no cover
    assert info.value.code == 1008


def test_no_refusal_body_says_why(client: TestClient, clock: FakeClock) -> None:
    tokens: BearerTokens = client.app.state.tokens  # type: ignore[attr-defined]
    expired = tokens.issue("ada")
    clock.advance(10_000)
    responses = [
        client.get("/me"),
        client.get("/me", auth=("bob", "nope")),
        client.get("/me", auth=("nobody", "x")),
        client.get("/me", headers=bearer("garbage")),
        client.get("/me", headers=bearer(expired)),
        client.get("/me", headers={"cookie": "session=tampered.value"}),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.content == b'{"detail":"Unauthorized"}'


async def async_check(username: str, password: str) -> Any:
    return SimpleUser(username.upper()) if password == "pw" else None


def basic_app(verify: Any, **options: Any) -> Covet:
    app = Covet()
    app.add_middleware(AuthenticationMiddleware, backends=[BasicAuth(verify, **options)])

    @app.get("/")
    @requires("reports")
    async def home(request: Request) -> dict[str, Any]:
        return {"user": request.user.display_name}

    return app


def test_async_verify_returning_a_user_and_computed_scopes() -> None:
    client = TestClient(basic_app(async_check, scopes=lambda user: ["reports"]))
    assert client.get("/", auth=("ada", "pw")).json() == {"user": "ADA"}
    assert client.get("/", auth=("ada", "no")).status_code == 401
    no_scope = TestClient(basic_app(async_check))
    assert no_scope.get("/", auth=("ada", "pw")).status_code == 403


def test_configuration_mistakes_are_refused() -> None:
    with pytest.raises(AuthConfigurationError):
        Covet().add_middleware(AuthenticationMiddleware, backends=[])
    with pytest.raises(AuthConfigurationError):
        Covet().add_middleware(AuthenticationMiddleware, backends=[object()])
    with pytest.raises(AuthConfigurationError):
        BasicAuth(async_check, realm="bad\r\nrealm")
    app = Covet()

    @app.get("/")
    @requires("x")
    async def home(request: Request) -> str:
        return "never"

    with pytest.raises(AuthConfigurationError, match="AuthenticationMiddleware"):
        TestClient(app).get("/")


def test_requires_keeps_the_endpoint_metadata() -> None:
    @requires("x")
    async def documented(request: Request) -> str:
        """Docs survive."""
        return ""

    assert documented.__name__ == "documented" and documented.__doc__ == "Docs survive."


def test_bearer_realm_and_load_user(clock: FakeClock) -> None:
    tokens = BearerTokens(TOKEN_KEYS, clock=clock)
    app = Covet()
    backend = BearerAuth(
        tokens,
        realm="api",
        load_user=lambda c: None if c.subject == "gone" else SimpleUser(c.subject),
    )
    app.add_middleware(AuthenticationMiddleware, backends=[backend])

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.user.identity)
        await websocket.close()

    @app.get("/")
    @requires("authenticated")
    async def home(request: Request) -> str:
        return str(request.user.identity)

    client = TestClient(app)
    assert client.get("/").headers["www-authenticate"] == 'Bearer realm="api"'
    assert client.get("/", headers=bearer(tokens.issue("ada"))).text == "ada"
    gone = client.get("/", headers=bearer(tokens.issue("gone")))
    assert gone.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
    with client.websocket_connect("/ws", headers=bearer(tokens.issue("ada"))) as session:
        assert session.receive_text() == "ada"


def session_auth_app(load_user: Any) -> Covet:
    app = Covet()
    app.add_middleware(AuthenticationMiddleware, backends=[SessionAuth(load_user)])
    app.add_middleware(SessionMiddleware, secret_keys=[SESSION_KEYS[0]])

    @app.post("/as/{name}")
    async def as_user(request: Request) -> str:
        login(request, request.path_params["name"], ["a"])
        return "ok"

    @app.post("/raw")
    async def raw(request: Request) -> str:
        request.session["auth"] = {"id": 7, "scopes": "admin"}  # not what login() writes
        return "ok"

    @app.get("/who")
    @requires("authenticated", redirect="/signin?from=app")
    async def who(request: Request) -> dict[str, Any]:
        return {"user": repr(request.user), "auth": repr(request.auth)}

    return app


def test_session_auth_with_load_user() -> None:
    users = {"ada": SimpleUser("Ada Lovelace")}
    client = TestClient(session_auth_app(users.get))
    client.post("/as/ada")
    assert client.get("/who").json() == {
        "user": "SimpleUser('Ada Lovelace')",
        "auth": "AuthCredentials(['a', 'authenticated'])",
    }
    client.post("/as/deleted")  # load_user returns None: the request is anonymous
    anonymous = client.get("/who?x=1", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/signin?from=app&next=%2Fwho%3Fx%3D1"
    client.post("/raw")
    assert client.get("/who", follow_redirects=False).status_code == 303


def test_users_and_credentials() -> None:
    ada = SimpleUser("ada")
    assert (
        ada == SimpleUser("ada") and ada != SimpleUser("bob") and len({ada, SimpleUser("ada")}) == 1
    )
    assert (ada.is_authenticated, ada.display_name, ada.identity) == (True, "ada", "ada")
    nobody = UnauthenticatedUser()
    assert (nobody.is_authenticated, nobody.display_name, nobody.identity) == (False, "", "")
    assert repr(nobody) == "UnauthenticatedUser()"
    assert isinstance(ada, BaseUser) and isinstance(nobody, BaseUser)
    creds = AuthCredentials("b a")
    assert list(creds) == ["a", "b"] and "a" in creds and creds.has_all(["a", "b"])
    assert not creds.has_all(["c"])


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/notes?page=2", "/notes?page=2"),
        ("/", "/"),
        ("//evil.example/", "/home"),
        ("/\\evil.example", "/home"),
        ("https://evil.example/", "/home"),
        ("evil.example", "/home"),
        ("/a\r\nSet-Cookie: x=y", "/home"),
        ("", "/home"),
        (None, "/home"),
    ],
)
def test_safe_next(target: object, expected: str) -> None:
    assert safe_next(target, default="/home") == expected


def test_a_verify_returning_something_that_is_not_a_user_is_a_clear_error() -> None:
    def returns_a_dict(username: str, password: str) -> dict[str, str]:
        return {"name": username}

    with pytest.raises(AuthConfigurationError, match="returns_a_dict"):
        TestClient(basic_app(returns_a_dict)).get("/", auth=("ada", "pw"))
