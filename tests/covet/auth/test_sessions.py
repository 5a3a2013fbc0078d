"""Signed cookie sessions through covet's TestClient: tampering, expiry, rotation, attributes."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from covet import Covet, Request, WebSocket
from covet.auth import AuthConfigurationError, AuthError, SessionMiddleware, Signer
from covet.testclient import TestClient
from tests.covet.auth.auth_app import SESSION_KEYS
from tests.covet.auth.conftest import FakeClock

NEW, OLD = SESSION_KEYS


def session_app(clock: FakeClock, **options: object) -> Covet:
    app = Covet()
    options.setdefault("secret_keys", [NEW])
    app.add_middleware(SessionMiddleware, clock=clock, **options)

    @app.post("/set/{key}/{value}")
    async def set_value(request: Request) -> dict[str, object]:
        request.session[request.path_params["key"]] = request.path_params["value"]
        return dict(request.session)

    @app.post("/append/{value}")
    async def append(request: Request) -> dict[str, object]:
        request.session.setdefault("items", [])
        request.session["items"].append(request.path_params["value"])  # a nested change
        return dict(request.session)

    @app.get("/")
    async def read(request: Request) -> dict[str, object]:
        return dict(request.session)

    @app.post("/clear")
    async def clear(request: Request) -> dict[str, object]:
        request.session.clear()
        return {}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(websocket.session)
        await websocket.close()

    return app


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., TestClient]:
    def factory(**options: object) -> TestClient:
        return TestClient(session_app(clock, **options))

    return factory


def test_round_trip_and_cookie_only_when_changed(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    first = client.post("/set/user/ada")
    [cookie] = set_cookies(first)
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=1209600" in cookie and "Path=/" in cookie and "Secure" not in cookie
    read = client.get("/")
    assert read.json() == {"user": "ada"}
    assert set_cookies(read) == []  # unchanged: nothing re-sent
    assert set_cookies(client.post("/set/user/ada")) == []  # same value written: unchanged
    assert set_cookies(client.post("/append/x")) != []  # nested change is a change
    assert client.get("/").json() == {"user": "ada", "items": ["x"]}


def test_no_cookie_no_session_no_set_cookie(make_client: Callable[..., TestClient]) -> None:
    response = make_client().get("/")
    assert response.json() == {} and set_cookies(response) == []


def tamper(client: TestClient, change: Callable[[str], str]) -> httpx.Response:
    client.post("/set/role/user")
    cookie = client.cookies["session"]
    client.cookies.clear()
    return client.get("/", headers={b"cookie": f"session={change(cookie)}".encode("latin-1")})


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c[:5] + ("A" if c[5] != "A" else "B") + c[6:],  # one payload byte
        lambda c: c[:-3] + ("A" if c[-3] != "A" else "B") + c[-2:],  # one signature byte
        lambda c: c.split(".")[0],  # signature dropped
        lambda c: c + "x",
        lambda c: "garbage",
        lambda c: "",
        lambda c: "\u00e9\u00e9.\u00e9",
    ],
    ids=["payload", "signature", "unsigned", "appended", "garbage", "empty", "latin1"],
)
def test_tampered_cookie_is_an_empty_session_and_is_deleted(
    make_client: Callable[..., TestClient], change: Callable[[str], str]
) -> None:
    response = tamper(make_client(), change)
    assert response.status_code == 200 and response.json() == {}
    [deleted] = set_cookies(response)
    assert deleted.startswith('session=""') and "Max-Age=0" in deleted


def test_payload_swapped_between_keys(clock: FakeClock) -> None:
    ours = TestClient(session_app(clock, secret_keys=[NEW]))
    theirs = TestClient(session_app(clock, secret_keys=["attacker-0123456789abcdefghijk"]))
    theirs.post("/set/role/admin")
    ours.post("/set/role/user")
    their_payload = theirs.cookies["session"].split(".")[0]
    our_signature = ours.cookies["session"].split(".")[1]
    for cookie in (f"{their_payload}.{our_signature}", theirs.cookies["session"]):
        fresh = TestClient(session_app(clock, secret_keys=[NEW]))
        assert fresh.get("/", headers={"cookie": f"session={cookie}"}).json() == {}


def test_expired_session_by_the_clock(clock: FakeClock) -> None:
    client = TestClient(session_app(clock, max_age=100, sliding=False))
    client.post("/set/user/ada")
    clock.advance(99)
    assert client.get("/").json() == {"user": "ada"}
    clock.advance(1)
    response = client.get("/")
    assert response.json() == {}
    assert "Max-Age=0" in set_cookies(response)[0]


def test_shorter_max_age_applies_to_older_cookies(clock: FakeClock) -> None:
    long = TestClient(session_app(clock, max_age=1000))
    long.post("/set/user/ada")
    short = TestClient(session_app(clock, max_age=10), cookies=dict(long.cookies))
    clock.advance(11)
    assert short.get("/").json() == {}


def test_sliding_sessions_are_re_signed_after_half_their_age(clock: FakeClock) -> None:
    client = TestClient(session_app(clock, max_age=100))
    client.post("/set/user/ada")
    clock.advance(40)
    assert set_cookies(client.get("/")) == []
    clock.advance(20)  # 60 s old: past half of max_age, so re-signed
    assert set_cookies(client.get("/")) != []
    clock.advance(90)  # 150 s after login, 90 s after the renewal
    assert client.get("/").json() == {"user": "ada"}


def test_key_rotation_re_signs_with_the_newest_key(clock: FakeClock) -> None:
    before = TestClient(session_app(clock, secret_keys=[OLD]))
    before.post("/set/user/ada")
    old_cookie = before.cookies["session"]
    after = TestClient(session_app(clock, secret_keys=[NEW, OLD]))
    response = after.get("/", headers={"cookie": f"session={old_cookie}"})
    assert response.json() == {"user": "ada"}
    [renewed] = set_cookies(response)
    new_cookie = after.cookies["session"]
    assert new_cookie != old_cookie
    assert Signer([NEW], purpose="session", clock=clock).unsign(new_cookie).data == {"user": "ada"}
    assert set_cookies(after.get("/")) == []  # now under the newest key: left alone
    retired = TestClient(session_app(clock, secret_keys=[NEW]))
    assert retired.get("/", headers={"cookie": f"session={old_cookie}"}).json() == {}


def test_clearing_the_session_deletes_the_cookie(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    client.post("/set/user/ada")
    [deleted] = set_cookies(client.post("/clear"))
    assert "Max-Age=0" in deleted
    assert client.get("/").json() == {}


def test_cookie_attributes(make_client: Callable[..., TestClient]) -> None:
    client = make_client(
        cookie_name="sid",
        https_only=True,
        same_site="strict",
        path="/app",
        domain="example.com",
        max_age=None,
    )
    [cookie] = set_cookies(client.post("/set/a/b"))
    assert cookie.startswith("sid=")
    for part in ("Secure", "HttpOnly", "SameSite=strict", "Path=/app", "Domain=example.com"):
        assert part in cookie
    assert "Max-Age" not in cookie  # a browser-session cookie


@pytest.mark.parametrize(
    "options",
    [
        {"secret_keys": ["short"]},
        {"secret_keys": []},
        {"secret_keys": [NEW], "same_site": "none"},
        {"secret_keys": [NEW], "max_age": 0},
        {"secret_keys": [NEW], "cookie_name": "bad name;"},
        {"secret_keys": [NEW], "path": "/x; Domain=evil"},
    ],
)
def test_bad_configuration_is_refused_at_add_middleware(options: dict[str, object]) -> None:
    with pytest.raises(AuthConfigurationError):
        Covet().add_middleware(SessionMiddleware, **options)


def test_a_session_too_large_for_a_cookie_is_an_error(clock: FakeClock) -> None:
    app = session_app(clock)

    @app.post("/big")
    async def big(request: Request) -> dict[str, object]:
        request.session["blob"] = "x" * 5000
        return {}

    with pytest.raises(AuthError, match="4096"):
        TestClient(app).post("/big")


def test_websocket_reads_the_session(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    client.post("/set/user/ada")
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json() == {"user": "ada"}


def test_request_session_without_the_middleware_says_what_is_missing() -> None:
    app = Covet()

    @app.get("/")
    async def read(request: Request) -> dict[str, object]:
        return dict(request.session)

    with pytest.raises(AuthConfigurationError, match="SessionMiddleware"):
        TestClient(app).get("/")
