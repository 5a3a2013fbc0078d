from __future__ import annotations

import uuid
from typing import Any

import pytest

from covet import Covet, PlainTextResponse, Request
from covet.convertors import Convertor, register_convertor
from covet.exceptions import (
    ConfigurationError,
    DuplicateRouteError,
    NoMatchFound,
    UnknownConvertorError,
)
from covet.routing import Router
from covet.testclient import TestClient
from covet.types import Receive, Scope, Send


def make_app(**options: Any) -> Covet:
    app = Covet(**options)

    @app.get("/")
    async def home(request: Request) -> str:
        return "home"

    @app.get("/users/me")
    async def me(request: Request) -> dict[str, Any]:
        return {"me": True}

    @app.get("/users/{user_id:int}", name="user")
    async def user(request: Request) -> dict[str, Any]:
        return {"id": request.path_params["user_id"]}

    @app.route("/users/{user_id:int}", methods=["PUT", "DELETE"], name="user_write")
    async def user_write(request: Request) -> dict[str, Any]:
        return {"method": request.method, "id": request.path_params["user_id"]}

    @app.get("/price/{amount:float}")
    async def price(request: Request) -> dict[str, Any]:
        return {"amount": request.path_params["amount"]}

    @app.get("/items/{item_id:uuid}", name="item")
    async def item(request: Request) -> dict[str, Any]:
        value = request.path_params["item_id"]
        return {"uuid": str(value), "type": type(value).__name__}

    @app.get("/files/{rest:path}", name="files")
    async def files(request: Request) -> dict[str, Any]:
        return {"rest": request.path_params["rest"]}

    @app.get("/names/{first}-{last}")
    async def names(request: Request) -> dict[str, Any]:
        return dict(request.path_params)

    @app.get("/slash/")
    async def slash(request: Request) -> str:
        return "with slash"

    @app.get("/noslash")
    async def noslash(request: Request) -> str:
        return "without slash"

    @app.post("/submit")
    async def submit(request: Request) -> str:
        return "posted"

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/42", {"id": 42}),
        ("/users/me", {"me": True}),
        ("/price/3.5", {"amount": 3.5}),
        ("/price/3", {"amount": 3.0}),
        ("/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
        ("/files/", {"rest": ""}),
        ("/names/ada-lovelace", {"first": "ada", "last": "lovelace"}),
    ],
    ids=["int", "static-beats-param", "float", "float-int", "path", "path-empty", "two-in-segment"],
)
def test_convertors_match_and_convert(client: TestClient, path: str, expected: Any) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == expected


def test_uuid_convertor(client: TestClient) -> None:
    value = uuid.uuid4()
    assert client.get(f"/items/{value}").json() == {"uuid": str(value), "type": "UUID"}
    assert client.get("/items/not-a-uuid").status_code == 404


@pytest.mark.parametrize("path", ["/users/abc", "/users/-1", "/price/x", "/nowhere", "/users/1/x"])
def test_no_match_or_convertor_mismatch_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.post("/users/42")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"
    static = client.get("/submit")
    assert static.status_code == 405
    assert static.headers["allow"] == "POST"


def test_same_path_other_methods(client: TestClient) -> None:
    assert client.put("/users/7").json() == {"method": "PUT", "id": 7}
    assert client.delete("/users/7").json() == {"method": "DELETE", "id": 7}


def test_head_is_served_by_get_without_body(client: TestClient) -> None:
    response = client.head("/users/42")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"id":42}'))
    assert response.headers["content-type"] == "application/json"


def test_explicit_head_route_wins_over_get() -> None:
    app = Covet()

    @app.head("/x")
    async def head_x(request: Request) -> PlainTextResponse:
        return PlainTextResponse("", headers={"x-head": "1"})

    @app.get("/x")
    async def get_x(request: Request) -> str:
        return "get"

    client = TestClient(app)
    assert client.head("/x").headers["x-head"] == "1"
    assert client.get("/x").text == "get"


def test_url_path_for(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, Covet)
    assert app.url_path_for("user", user_id=7) == "/users/7"
    assert app.url_path_for("files", rest="a/b") == "/files/a/b"
    item = uuid.uuid4()
    assert app.url_path_for("item", item_id=item) == f"/items/{item}"
    assert app.url_path_for("home") == "/"
    with pytest.raises(NoMatchFound):
        app.url_path_for("user")
    with pytest.raises(NoMatchFound):
        app.url_path_for("nope")
    with pytest.raises(NoMatchFound):
        app.url_path_for("user", user_id=-3)


def test_request_url_for() -> None:
    app = Covet()

    @app.get("/users/{user_id:int}", name="user")
    async def user(request: Request) -> str:
        return str(request.url_for("user", user_id=3))

    assert TestClient(app).get("/users/1").text == "http://testserver/users/3"


def test_trailing_slash_redirects(client: TestClient) -> None:
    response = client.get("/slash?q=1", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/slash/?q=1"
    assert client.get("/noslash/").text == "without slash"
    assert client.get("/slash").text == "with slash"


def test_trailing_slash_redirect_stays_on_this_host() -> None:
    import asyncio

    app = Covet()

    @app.get("//evil.example")
    async def odd(request: Request) -> str:
        return "odd"

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "//evil.example/", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 307
    assert dict(sent[0]["headers"])[b"location"] == b"/evil.example"


def test_trailing_slash_redirect_can_be_disabled() -> None:
    client = TestClient(make_app(redirect_slashes=False))
    assert client.get("/noslash/").status_code == 404


def test_route_declared_twice_is_a_clear_error() -> None:
    app = Covet()

    @app.get("/a")
    async def a(request: Request) -> str:
        return "a"

    with pytest.raises(DuplicateRouteError, match="GET '/a'"):
        app.add_route("/a", a, methods=["GET"])
    with pytest.raises(DuplicateRouteError):
        app.add_route("/b/{x:int}", a)
        app.add_route("/b/{x:int}", a)
    app.add_route("/a", a, methods=["POST"])  # another method is fine

    async def ws(websocket: Any) -> None: ...

    app.add_websocket_route("/ws", ws)
    with pytest.raises(DuplicateRouteError):
        app.add_websocket_route("/ws", ws)
    app.add_websocket_route("/ws/{n}", ws)
    with pytest.raises(DuplicateRouteError):
        app.add_websocket_route("/ws/{n}", ws)
    app.mount("/m", raw_app)
    with pytest.raises(DuplicateRouteError):
        app.mount("/m/", raw_app)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/x/{n:nope}", UnknownConvertorError),
        ("no-slash", ConfigurationError),
        ("/x/{1bad}", ConfigurationError),
        ("/x/{a}/{a}", ConfigurationError),
        ("/x/{a", ConfigurationError),
        ("/x/}", ConfigurationError),
    ],
    ids=["unknown-convertor", "no-leading-slash", "bad-name", "repeated", "unclosed", "stray"],
)
def test_bad_route_paths_fail_at_declaration(path: str, error: type[Exception]) -> None:
    app = Covet()

    async def endpoint(request: Request) -> str:
        return ""

    with pytest.raises(error):
        app.add_route(path, endpoint)


def test_unknown_convertor_message_names_the_known_ones() -> None:
    with pytest.raises(UnknownConvertorError, match="known: float, int, path, str, uuid"):
        Router().add_route("/x/{n:nope}", lambda r: r)


def test_custom_convertor() -> None:
    class SlugConvertor(Convertor):
        regex = "[a-z0-9-]+"

    register_convertor("slug", SlugConvertor())
    app = Covet()

    @app.get("/posts/{slug:slug}", name="post")
    async def post(request: Request) -> str:
        return str(request.path_params["slug"])

    client = TestClient(app)
    assert client.get("/posts/hello-world").text == "hello-world"
    assert client.get("/posts/Hello").status_code == 404
    assert app.url_path_for("post", slug="a-b") == "/posts/a-b"
    with pytest.raises(ConfigurationError):
        register_convertor("not a name", SlugConvertor())


def test_hundred_routes_all_resolve() -> None:
    app = Covet()
    for n in range(100):

        async def endpoint(request: Request, n: int = n) -> dict[str, Any]:
            return {"n": n, **request.path_params}

        app.add_route(f"/r{n}/{{item:int}}", endpoint, name=f"r{n}")
        app.add_route(f"/s{n}", endpoint, name=f"s{n}")
    client = TestClient(app)
    assert client.get("/r99/5").json() == {"n": 99, "item": 5}
    assert client.get("/r0/1").json() == {"n": 0, "item": 1}
    assert client.get("/s57").json() == {"n": 57}
    assert app.url_path_for("r42", item=3) == "/r42/3"


def test_parameter_backtracking() -> None:
    app = Covet()

    @app.get("/a/{x}/b")
    async def first(request: Request) -> str:
        return f"first {request.path_params['x']}"

    @app.get("/a/{y:int}/c")
    async def second(request: Request) -> str:
        return f"second {request.path_params['y']}"

    @app.get("/t/{p:path}/edit")
    async def tail(request: Request) -> str:
        return f"tail {request.path_params['p']}"

    client = TestClient(app)
    assert client.get("/a/zz/b").text == "first zz"
    assert client.get("/a/5/c").text == "second 5"
    assert client.get("/t/x/y/edit").text == "tail x/y"
    assert client.get("/t/x/y").status_code == 404


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_mount_raw_asgi_app_sees_root_path() -> None:
    app = make_app()
    app.mount("/legacy", raw_app)
    client = TestClient(app)
    assert client.get("/legacy/a/b").text == "/legacy|/legacy/a/b"
    assert client.get("/legacy").text == "/legacy|/legacy"
    assert client.get("/legacyx").status_code == 404


def test_mount_covet_app_and_reverse_routing() -> None:
    inner = Covet()

    @inner.get("/things/{n:int}", name="thing")
    async def thing(request: Request) -> dict[str, Any]:
        return {"n": request.path_params["n"], "root": request.scope["root_path"]}

    outer = make_app()
    outer.mount("/api/v1", inner, name="v1")
    outer.mount("/api", raw_app)
    outer.mount("/static", raw_app, name="static")
    client = TestClient(outer)
    assert client.get("/api/v1/things/3").json() == {"n": 3, "root": "/api/v1"}
    assert client.get("/api/other").text == "/api|/api/other"
    assert client.get("/api/v1/nothing").status_code == 404
    assert outer.url_path_for("v1:thing", n=4) == "/api/v1/things/4"
    assert outer.url_path_for("static", path="/css/a.css") == "/static/css/a.css"
    with pytest.raises(NoMatchFound):
        outer.url_path_for("v1:nothing")


def test_app_under_a_server_root_path() -> None:
    client = TestClient(make_app(), root_path="/prefix")
    assert client.get("/prefix/users/5").json() == {"id": 5}
    assert client.get("/prefix").text == "home"
    response = client.get("/prefix/noslash/", follow_redirects=False)
    assert response.headers["location"] == "/prefix/noslash"


def test_mount_rejects_bad_paths() -> None:
    with pytest.raises(ConfigurationError):
        Covet().mount("nope", raw_app)
    with pytest.raises(ConfigurationError):
        Covet().mount("/a/{x}", raw_app)


def test_router_is_an_asgi_app_on_its_own() -> None:
    router = Router()

    async def hello(request: Request) -> str:
        return "hi"

    router.add_route("/hi", hello)
    client = TestClient(router)
    assert client.get("/hi").text == "hi"
    with pytest.raises(RuntimeError, match="lifespan"):
        with client:
            pass


def test_unsupported_scope_type() -> None:
    import asyncio

    async def run() -> None:
        async def receive() -> Any:
            return {}

        async def send(message: Any) -> None:
            pass

        await Router()({"type": "weird"}, receive, send)

    with pytest.raises(RuntimeError, match="weird"):
        asyncio.run(run())


def test_routes_and_repr() -> None:
    app = make_app()
    app.mount("/m", raw_app)
    text = " ".join(repr(route) for route in app.routes)
    assert "Route(path='/users/{user_id:int}'" in text
    assert "Mount(path='/m'" in text


def test_path_trie_directly() -> None:
    from covet._pathtrie import PathTemplate, PathTrie

    trie: PathTrie[list[str]] = PathTrie()
    trie.setdefault(PathTemplate("/static/path"), list).append("static")
    trie.setdefault(PathTemplate("/users/{id:int}"), list).append("int")
    trie.setdefault(PathTemplate("/users/{id:int}"), list).append("same template, same value")
    trie.setdefault(PathTemplate("/users/me/{tab}"), list).append("deeper literal")
    trie.setdefault(PathTemplate("/users/{name}/{tab}"), list).append("shallower")
    assert trie.match("/static/path") == (["static"], {})
    assert trie.match("/users/5") == (["int", "same template, same value"], {"id": 5})
    assert trie.match("/users/me/posts") == (["deeper literal"], {"tab": "posts"})
    assert trie.match("/users/ada/posts") == (["shallower"], {"name": "ada", "tab": "posts"})
    assert trie.match("/users/me") is None  # "me" is no int, and /users/me/{tab} needs more
    assert trie.match("relative") is None
    assert trie.match("/nothing") is None
    assert trie.match("/static") is None
    trie.setdefault(PathTemplate("/files/{rest:path}"), list).append("files")
    assert trie.match("/files") is None
    assert trie.match("/files/") == (["files"], {"rest": ""})
    assert trie.match("/files/a/b") == (["files"], {"rest": "a/b"})
    trie.setdefault(PathTemplate("/users/{name}"), list).append("name")
    assert trie.match("/users/me") == (["name"], {"name": "me"})


def test_convertor_rejecting_a_value_means_no_match() -> None:
    class EvenConvertor(Convertor):
        regex = "[0-9]+"

        def convert(self, value: str) -> int:
            if int(value) % 2:
                raise ValueError("odd")
            return int(value)

    register_convertor("even", EvenConvertor())
    app = Covet()

    @app.get("/n/{n:even}")
    async def even(request: Request) -> str:
        return "even"

    @app.get("/n/{n:int}")
    async def other(request: Request) -> str:
        return "odd"

    client = TestClient(app)
    assert client.get("/n/4").text == "even"
    assert client.get("/n/3").text == "odd"


def test_static_path_with_dynamic_method_fallback() -> None:
    app = Covet()

    @app.get("/items/special")
    async def special(request: Request) -> str:
        return "special"

    @app.post("/items/{name}")
    async def create(request: Request) -> str:
        return "created " + str(request.path_params["name"])

    client = TestClient(app)
    assert client.get("/items/special").text == "special"
    assert client.post("/items/special").text == "created special"
    assert client.put("/items/special").headers["allow"] == "GET, HEAD"
