from __future__ import annotations

import httpx
import pytest

from covet import Covet
from covet.exceptions import ConfigurationError
from covet.middleware import CORSMiddleware
from covet.pipeline import Middleware
from tests.covet.middleware.helpers import headers_of, http_scope, request, run_asgi, text_app

ORIGIN = "https://app.example"


def preflight(
    app: CORSMiddleware, method: str = "POST", headers: str | None = None, **kw: str
) -> httpx.Response:
    extra = {"origin": kw.get("origin", ORIGIN), "access-control-request-method": method}
    if headers is not None:
        extra["access-control-request-headers"] = headers
    return request(app, "OPTIONS", "/", headers=extra)


def test_preflight_allowed_origin_is_answered_without_reaching_the_app() -> None:
    called = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        called.append(scope)

    cors = CORSMiddleware(
        app, allow_origins=[ORIGIN], allow_methods=["GET", "POST"], allow_headers=["X-Token"]
    )
    response = preflight(cors, "POST", "x-token, content-type")
    assert response.status_code == 200
    assert called == []
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    allowed = response.headers["access-control-allow-headers"].split(", ")
    assert "x-token" in allowed and "content-type" in allowed
    assert response.headers["access-control-max-age"] == "600"
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    ("origin", "method", "headers", "refused"),
    [
        ("https://evil.example", "GET", None, "origin"),
        (ORIGIN, "DELETE", None, "method"),
        (ORIGIN, "GET", "x-secret", "headers"),
        ("https://evil.example", "DELETE", "x-secret", "origin, method, headers"),
    ],
)
def test_preflight_refusals_name_what_was_refused(
    origin: str, method: str, headers: str | None, refused: str
) -> None:
    cors = CORSMiddleware(text_app(), allow_origins=[ORIGIN], allow_methods=["GET"])
    response = preflight(cors, method, headers, origin=origin)
    assert response.status_code == 400
    assert response.text == f"Disallowed CORS {refused}"
    assert "access-control-allow-origin" not in response.headers


def test_preflight_wildcards_without_credentials() -> None:
    cors = CORSMiddleware(text_app(), allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    response = preflight(cors, "PURGE", "X-Anything, X-Else")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "PURGE"
    assert response.headers["access-control-allow-headers"] == "x-anything, x-else"


def test_preflight_with_credentials_echoes_origin_never_wildcard() -> None:
    cors = CORSMiddleware(
        text_app(),
        allow_origin_regex=r"https://.*\.example",
        allow_credentials=True,
        allow_headers=["*"],
        max_age=0,
    )
    response = preflight(cors, "GET", "authorization")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-headers"] == "authorization"
    assert response.headers["access-control-max-age"] == "0"


def test_options_without_request_method_is_not_a_preflight() -> None:
    cors = CORSMiddleware(text_app(b"from app"), allow_origins=[ORIGIN])
    response = request(cors, "OPTIONS", "/", headers={"origin": ORIGIN})
    assert response.text == "from app"
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_simple_request_from_allowed_origin() -> None:
    cors = CORSMiddleware(
        text_app(headers=[(b"vary", b"Accept-Encoding"), (b"x-total", b"3")]),
        allow_origins=[ORIGIN],
        expose_headers=["X-Total"],
    )
    response = request(cors, "GET", "/", headers={"origin": ORIGIN})
    assert response.text == "hello"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-expose-headers"] == "X-Total"
    assert response.headers["vary"] == "Accept-Encoding, Origin"


def test_simple_request_from_other_origin_gets_no_grant_but_varies() -> None:
    cors = CORSMiddleware(text_app(), allow_origins=[ORIGIN])
    response = request(cors, "GET", "/", headers={"origin": "https://evil.example"})
    assert response.status_code == 200  # the browser, not the server, withholds the body
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_request_without_origin_still_varies_when_the_policy_depends_on_it() -> None:
    response = request(CORSMiddleware(text_app(), allow_origins=[ORIGIN]), "GET", "/")
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers


def test_wildcard_without_credentials_sends_star_and_no_vary() -> None:
    cors = CORSMiddleware(text_app(), allow_origins=["*"])
    response = request(cors, "GET", "/", headers={"origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers
    assert "vary" not in request(cors, "GET", "/").headers


def test_credentials_echo_origin_and_name_exposed_headers() -> None:
    cors = CORSMiddleware(
        text_app(headers=[(b"x-total", b"3")]),
        allow_origins=[ORIGIN],
        allow_credentials=True,
        expose_headers=["*"],
    )
    response = request(cors, "GET", "/", headers={"origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == (
        "content-length, content-type, x-total"
    )
    assert response.headers["vary"] == "Origin"


def test_expose_star_without_credentials_is_a_wildcard() -> None:
    cors = CORSMiddleware(text_app(), allow_origins=["*"], expose_headers=["*"])
    response = request(cors, "GET", "/", headers={"origin": ORIGIN})
    assert response.headers["access-control-expose-headers"] == "*"


def test_origin_regex_matches_whole_origin() -> None:
    cors = CORSMiddleware(text_app(), allow_origin_regex=r"https://[a-z]+\.example\.com")
    ok = request(cors, "GET", "/", headers={"origin": "https://shop.example.com"})
    assert ok.headers["access-control-allow-origin"] == "https://shop.example.com"
    bad = request(cors, "GET", "/", headers={"origin": "https://shop.example.com.evil.net"})
    assert "access-control-allow-origin" not in bad.headers


def test_app_set_cors_headers_are_replaced_not_duplicated() -> None:
    app = text_app(headers=[(b"access-control-allow-origin", b"*")])
    response = request(CORSMiddleware(app, allow_origins=[ORIGIN]), headers={"origin": ORIGIN})
    assert response.headers.get_list("access-control-allow-origin") == [ORIGIN]


def test_trailing_slash_in_configured_origin_is_ignored() -> None:
    cors = CORSMiddleware(text_app(), allow_origins=[ORIGIN + "/"])
    assert cors.is_allowed_origin(ORIGIN)


def test_non_http_scopes_pass_through() -> None:
    seen = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope["type"])
        await send({"type": "websocket.close", "code": 1000})

    sent = run_asgi(
        CORSMiddleware(app, allow_origins=[ORIGIN]),
        {"type": "websocket", "headers": [(b"origin", b"https://evil.example")], "path": "/"},
    )
    assert seen == ["websocket"]
    assert sent == [{"type": "websocket.close", "code": 1000}]


def test_streaming_body_messages_pass_untouched() -> None:
    cors = CORSMiddleware(text_app(chunks=[b"a", b"b"]), allow_origins=[ORIGIN])
    sent = run_asgi(cors, http_scope(headers=[(b"origin", ORIGIN.encode())]))
    assert headers_of(sent[0])[b"access-control-allow-origin"] == ORIGIN.encode()
    assert [m.get("body") for m in sent[1:]] == [b"a", b"b", b""]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"allow_origins": "https://a.example"}, ConfigurationError),
        ({"max_age": -1}, ConfigurationError),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        CORSMiddleware(text_app(), **kwargs)  # type: ignore[arg-type]


def test_wildcard_with_credentials_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="allow_credentials=True"):
        CORSMiddleware(text_app(), allow_origins=["*"], allow_credentials=True)


def test_wildcard_with_credentials_is_refused_at_add_middleware() -> None:
    app = Covet()
    with pytest.raises(ConfigurationError, match="allow_credentials=True"):
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    with pytest.raises(ConfigurationError, match="allow_credentials=True"):
        Covet(
            middleware=[
                Middleware(CORSMiddleware, {"allow_origins": ["*"], "allow_credentials": True})
            ]
        )
    # Other mistakes are found at declaration too, not at the first request.
    with pytest.raises(ConfigurationError, match="allow_origin_regex"):
        app.add_middleware(CORSMiddleware, allow_origin_regex="(")
    with pytest.raises(TypeError):
        app.add_middleware(CORSMiddleware, allow_origin=["https://typo.example"])
    app.add_middleware(CORSMiddleware, allow_origins=["*"])


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origin_regex": ".*", "allow_credentials": True},
        {"allow_origin_regex": r"n.ll|https://.*", "allow_credentials": False},
        {"allow_origins": [ORIGIN], "allow_credentials": True},
    ],
    ids=["regex-any-credentials", "regex-matching-null", "listed-origins"],
)
def test_null_origin_is_never_reflected_unless_listed(options: dict[str, object]) -> None:
    cors = CORSMiddleware(text_app(), allow_methods=["*"], **options)  # type: ignore[arg-type]
    actual = request(cors, "GET", "/", headers={"origin": "null"})
    assert "access-control-allow-origin" not in actual.headers
    assert actual.headers["vary"] == "Origin"
    refused = preflight(cors, "GET", origin="null")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_null_origin_is_granted_when_listed_literally() -> None:
    cors = CORSMiddleware(text_app(), allow_origins=["null"], allow_credentials=True)
    response = request(cors, "GET", "/", headers={"origin": "null"})
    assert response.headers["access-control-allow-origin"] == "null"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_null_origin_under_the_public_wildcard_gets_only_the_star() -> None:
    cors = CORSMiddleware(text_app(), allow_origins=["*"])
    response = request(cors, "GET", "/", headers={"origin": "null"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
