from __future__ import annotations

import logging
import re

import pytest

from covet.middleware import RequestIDLogFilter, RequestIDMiddleware
from covet.middleware.requestid import ACCESS_LOGGER, REQUEST_ID
from tests.covet.middleware.helpers import (
    Receive,
    Scope,
    Send,
    headers_of,
    http_scope,
    run_asgi,
    text_app,
)

HEX32 = re.compile(rb"[0-9a-f]{32}")


def test_fresh_id_in_scope_contextvar_and_header() -> None:
    seen: dict[str, object] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["scope"] = scope["request_id"]
        seen["var"] = REQUEST_ID.get()
        await text_app()(scope, receive, send)

    sent = run_asgi(RequestIDMiddleware(app, access_log=False), http_scope())
    rid = headers_of(sent[0])[b"x-request-id"]
    assert HEX32.fullmatch(rid)
    assert seen == {"scope": rid.decode(), "var": rid.decode()}
    assert REQUEST_ID.get() is None


def test_valid_incoming_id_is_reused_and_not_duplicated() -> None:
    app = RequestIDMiddleware(text_app(headers=[(b"x-request-id", b"app-set")]), access_log=False)
    sent = run_asgi(app, http_scope(headers=[(b"X-Request-ID", b"abc-123.x:y")]))
    assert [v for k, v in sent[0]["headers"] if k == b"x-request-id"] == [b"abc-123.x:y"]


@pytest.mark.parametrize("incoming", [b"", b"a b", b"x" * 129, b'"; drop', b"line\nbreak"])
def test_suspicious_incoming_ids_are_replaced(incoming: bytes) -> None:
    sent = run_asgi(
        RequestIDMiddleware(text_app(), access_log=False),
        http_scope(headers=[(b"x-request-id", incoming)]),
    )
    assert HEX32.fullmatch(headers_of(sent[0])[b"x-request-id"])


def test_incoming_ids_can_be_distrusted_and_header_renamed() -> None:
    app = RequestIDMiddleware(
        text_app(), header_name="X-Correlation-ID", trust_incoming=False, access_log=False
    )
    sent = run_asgi(app, http_scope(headers=[(b"x-correlation-id", b"abc")]))
    assert HEX32.fullmatch(headers_of(sent[0])[b"x-correlation-id"])


def test_access_log_line_and_structured_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    scope = http_scope("POST", "/users/42", query_string=b"x=1")
    run_asgi(RequestIDMiddleware(text_app(b"12345", status=201)), scope)
    (record,) = caplog.records
    assert record.name == "covet.access"
    message = record.getMessage()
    assert message.startswith('127.0.0.1:50000 "POST /users/42?x=1 HTTP/1.1" 201 5B ')
    assert message.endswith(f"id={scope['request_id']}")
    assert record.status == 201  # type: ignore[attr-defined]
    assert record.bytes == 5  # type: ignore[attr-defined]
    assert record.path == "/users/42?x=1"  # type: ignore[attr-defined]
    assert record.request_id == scope["request_id"]  # type: ignore[attr-defined]


def test_access_log_can_be_turned_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    run_asgi(RequestIDMiddleware(text_app(), access_log=False), http_scope())
    assert caplog.records == []


def test_failing_app_is_logged_as_500_and_reraised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_asgi(RequestIDMiddleware(app), http_scope())
    assert caplog.records[0].status == 500  # type: ignore[attr-defined]


def test_log_filter_adds_request_id_during_the_request(caplog: pytest.LogCaptureFixture) -> None:
    app_logger = logging.getLogger("tests.requestid.app")
    caplog.set_level(logging.INFO, logger="tests.requestid.app")
    caplog.handler.addFilter(RequestIDLogFilter())

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        app_logger.info("inside")
        await text_app()(scope, receive, send)

    scope = http_scope()
    run_asgi(RequestIDMiddleware(app, access_log=False), scope)
    app_logger.info("outside")
    inside, outside = caplog.records
    assert inside.request_id == scope["request_id"]  # type: ignore[attr-defined]
    assert outside.request_id == "-"  # type: ignore[attr-defined]


def test_websocket_accept_carries_the_id_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-a", b"1")]})
        await send({"type": "websocket.close", "code": 1000})

    scope: Scope = {"type": "websocket", "path": "/ws", "headers": [], "http_version": "1.1"}
    sent = run_asgi(RequestIDMiddleware(app), scope, [{"type": "websocket.connect"}])
    assert headers_of(sent[0])[b"x-request-id"] == scope["request_id"].encode()
    assert headers_of(sent[0])[b"x-a"] == b"1"
    assert caplog.records[0].status == 101  # type: ignore[attr-defined]
    assert caplog.records[0].method == "WEBSOCKET"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ({"type": "websocket.close", "code": 1008}, 403),
        ({"type": "websocket.http.response.start", "status": 401, "headers": []}, 401),
    ],
)
def test_websocket_refusals_are_logged(
    caplog: pytest.LogCaptureFixture, message: dict[str, object], status: int
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(dict(message))

    run_asgi(RequestIDMiddleware(app), {"type": "websocket", "path": "/ws", "headers": []})
    assert caplog.records[0].status == status  # type: ignore[attr-defined]


def test_lifespan_passes_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "request_id" not in scope
        await send({"type": "lifespan.startup.complete"})

    assert run_asgi(RequestIDMiddleware(app), {"type": "lifespan"}) == [
        {"type": "lifespan.startup.complete"}
    ]


def test_decoded_newline_in_the_path_cannot_forge_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    # What a server hands over for GET /a%0a6.6.6.6:1%20%22GET%20/admin%20HTTP/1.1%22%20200
    forged = '/a\n6.6.6.6:1 "GET /admin HTTP/1.1" 200 0B 0.01ms id=x'
    scope = http_scope(path=forged, query_string=b'q="\\')
    scope["client"] = ("10.0.0.1\r\n", 5)
    run_asgi(RequestIDMiddleware(text_app()), scope)
    (record,) = caplog.records
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    path = "/a\\x0a6.6.6.6:1 \\x22GET /admin HTTP/1.1\\x22 200 0B 0.01ms id=x?q=\\x22\\x5c"
    assert message.startswith(f'10.0.0.1\\x0d\\x0a:5 "GET {path} HTTP/1.1" 200 5B ')
    assert record.path == path  # type: ignore[attr-defined]
    assert record.client == "10.0.0.1\\x0d\\x0a:5"  # type: ignore[attr-defined]


def test_a_forged_incoming_id_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    scope = http_scope(headers=[(b"x-request-id", b"x\n1.2.3.4 fake")])
    run_asgi(RequestIDMiddleware(text_app()), scope)
    assert HEX32.fullmatch(scope["request_id"].encode())
    assert caplog.records[0].getMessage().endswith(f"id={scope['request_id']}")


def test_websocket_path_is_escaped_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": 1008})

    run_asgi(RequestIDMiddleware(app), {"type": "websocket", "path": "/ws\nx", "headers": []})
    assert caplog.records[0].path == "/ws\\x0ax"  # type: ignore[attr-defined]
