from __future__ import annotations

from typing import Any

import pytest

from covet.exceptions import ConfigurationError
from covet.middleware import TrustedHostMiddleware
from tests.covet.middleware.helpers import (
    Message,
    Receive,
    Scope,
    Send,
    headers_of,
    http_scope,
    run_asgi,
    text_app,
)


def host_scope(host: bytes | None, **kw: Any) -> Scope:
    headers = [(b"host", host)] if host is not None else []
    return http_scope(headers=headers, **kw)


@pytest.mark.parametrize(
    "host",
    [b"example.com", b"EXAMPLE.com:8443", b"api.example.com", b"a.b.example.com", b"[::1]:80"],
)
def test_allowed_hosts_reach_the_app(host: bytes) -> None:
    app = TrustedHostMiddleware(text_app(b"ok"), ["example.com", "*.example.com", "[::1]"])
    sent = run_asgi(app, host_scope(host))
    assert sent[0]["status"] == 200


@pytest.mark.parametrize(
    "host", [b"evil.com", b"example.com.evil.com", b"notexample.com", b"", None, b"::1"]
)
def test_other_hosts_get_400(host: bytes | None) -> None:
    app = TrustedHostMiddleware(text_app(), ["example.com", "*.example.com"], www_redirect=False)
    sent = run_asgi(app, host_scope(host))
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Invalid host header"


def test_wildcard_subdomain_does_not_cover_the_bare_domain() -> None:
    app = TrustedHostMiddleware(text_app(), ["*.example.com"])
    sent = run_asgi(app, host_scope(b"example.com"))
    assert sent[0]["status"] == 400


def test_star_allows_everything_even_without_host() -> None:
    sent = run_asgi(TrustedHostMiddleware(text_app()), host_scope(None))
    assert sent[0]["status"] == 200


def test_www_redirect_keeps_port_path_and_query() -> None:
    app = TrustedHostMiddleware(text_app(), ["www.example.com"])
    scope = host_scope(b"example.com:8080", path="/a b", query_string=b"x=1", scheme="https")
    scope["raw_path"] = b"/a%20b"
    sent = run_asgi(app, scope)
    assert sent[0]["status"] == 308
    assert headers_of(sent[0])[b"location"] == b"https://www.example.com:8080/a%20b?x=1"


def test_www_redirect_can_be_disabled() -> None:
    app = TrustedHostMiddleware(text_app(), ["www.example.com"], www_redirect=False)
    assert run_asgi(app, host_scope(b"example.com"))[0]["status"] == 400


def _ws_app(log: list[str]):  # type: ignore[no-untyped-def]
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        log.append("called")
        await send({"type": "websocket.accept"})

    return app


def test_websocket_bad_host_is_closed_before_accept() -> None:
    log: list[str] = []
    scope: Scope = {"type": "websocket", "path": "/", "headers": [(b"host", b"evil.com")]}
    sent = run_asgi(TrustedHostMiddleware(_ws_app(log), ["example.com"]), scope)
    assert log == []
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_websocket_bad_host_uses_denial_response_when_offered() -> None:
    scope: Scope = {
        "type": "websocket",
        "path": "/",
        "headers": [(b"host", b"evil.com")],
        "extensions": {"websocket.http.response": {}},
    }
    sent: list[Message] = run_asgi(TrustedHostMiddleware(_ws_app([]), ["example.com"]), scope)
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Invalid host header"


def test_websocket_good_host_reaches_the_app() -> None:
    log: list[str] = []
    scope: Scope = {"type": "websocket", "path": "/", "headers": [(b"host", b"example.com")]}
    run_asgi(TrustedHostMiddleware(_ws_app(log), ["example.com"]), scope)
    assert log == ["called"]


def test_lifespan_passes_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "lifespan.startup.complete"})

    sent = run_asgi(TrustedHostMiddleware(app, ["example.com"]), {"type": "lifespan"})
    assert sent == [{"type": "lifespan.startup.complete"}]


@pytest.mark.parametrize("pattern", ["exa*mple.com", "*example.com", "*.*.example.com"])
def test_bad_patterns_are_refused_at_construction(pattern: str) -> None:
    with pytest.raises(ValueError, match="wildcard"):
        TrustedHostMiddleware(text_app(), [pattern])


def test_a_plain_string_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        TrustedHostMiddleware(text_app(), "example.com")


# Hosts a server that does not check Host (uvicorn passes it on as sent) lets through. Each
# would match `*.example.com` or the www redirect if the middleware only split off a port.
HOSTILE_HOSTS = [
    b"evil.com/.example.com",
    b"evil.com?.example.com",
    b"evil.com#.example.com",
    b"evil.com\\.example.com",
    b"evil.com@a.example.com",
    b"user@a.example.com",
    b"a.example.com:443@evil.example",
    b"evil.com%2f.example.com",
    b"a.example.com:80:80",
    b"a.example.com:http",
    b"a.example.com:99999",
    b"a b.example.com",
    b"a..example.com",
    b".example.com",
    b"[::1.example.com",
    b"[not-v6].example.com",
    b"a.example.com\x00",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_malformed_hosts_get_400_whatever_the_patterns(host: bytes) -> None:
    app = TrustedHostMiddleware(text_app(), ["example.com", "*.example.com"])
    sent = run_asgi(app, host_scope(host))
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Invalid host header"


@pytest.mark.parametrize(
    "host",
    [b"shop.test:443@evil.example", b"shop.test@evil.example", b"shop.test/evil.example"],
)
def test_www_redirect_is_never_built_from_a_malformed_host(host: bytes) -> None:
    app = TrustedHostMiddleware(text_app(), ["www.shop.test"])
    sent = run_asgi(app, host_scope(host))
    assert sent[0]["status"] == 400
    assert b"location" not in headers_of(sent[0])


def test_www_redirect_location_comes_from_the_parsed_host_only() -> None:
    app = TrustedHostMiddleware(text_app(), ["www.shop.test"])
    scope = host_scope(b" SHOP.test:443 ")
    # An absolute-form target lands whole in raw_path under some servers.
    scope["raw_path"] = b"http://evil.example/x"
    sent = run_asgi(app, scope)
    assert sent[0]["status"] == 308
    assert headers_of(sent[0])[b"location"] == b"http://www.shop.test:443/"


def test_www_redirect_quotes_a_path_given_without_raw_path() -> None:
    app = TrustedHostMiddleware(text_app(), ["www.shop.test"])
    scope = host_scope(b"shop.test", path="/a b\r\nx")
    del scope["raw_path"]
    sent = run_asgi(app, scope)
    assert headers_of(sent[0])[b"location"] == b"http://www.shop.test/a%20b%0D%0Ax"


@pytest.mark.parametrize(
    "host", [b"127.0.0.1:8000", b"[::1]", b"[2001:db8::1]:443", b"under_score.example.com:"]
)
def test_well_formed_ip_literals_and_names_are_matched(host: bytes) -> None:
    allowed = ["127.0.0.1", "[::1]", "[2001:db8::1]", "*.example.com"]
    sent = run_asgi(TrustedHostMiddleware(text_app(), allowed), host_scope(host))
    assert sent[0]["status"] == 200


def test_websocket_with_malformed_host_is_refused() -> None:
    log: list[str] = []
    scope: Scope = {"type": "websocket", "path": "/", "headers": [(b"host", HOSTILE_HOSTS[0])]}
    sent = run_asgi(TrustedHostMiddleware(_ws_app(log), ["*.example.com"]), scope)
    assert log == []
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
