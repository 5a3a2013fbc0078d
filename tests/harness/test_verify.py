"""Verify: the TechEmpower header rules on hand-made responses, then real servers serving
deliberately broken apps, each failure named in the record's reasons."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest

from covetbench.exceptions import UnknownNameError
from covetbench.scenarios import SCENARIOS, ScenarioSpec, scenario_names
from covetbench.servers import free_port
from covetbench.verify import (
    CONTENT_TYPE_HTML,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_PLAINTEXT,
    RULES,
    Outcome,
    RuleContext,
    check_headers,
    get_rule,
    parse_date,
    register_rule,
    verify_server,
)
from tests.harness.conftest import LaunchServer, MakeApp

GOOD_HEADERS = {
    "server": "test",
    "date": "Fri, 27 Nov 2026 10:00:00 GMT",
    "content-type": "text/plain; charset=utf-8",
}

# Each endpoint breaks one rule: wrong Content-Type, wrong JSON, a path parameter ignored,
# an echo that forgets the body, and a WebSocket that is refused.
BROKEN_APP = """
import json

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1000})
        return
    path = scope["path"]
    if path == "/plaintext":
        ctype, body = b"text/html", b"Hello, World!"
    elif path == "/json":
        ctype, body = b"application/json", b'{"message": "Hello"}'
    elif path.startswith("/users/"):
        ctype, body = b"application/json", b'{"id": 42}'
    else:
        while (await receive()).get("more_body"):
            pass
        ctype, body = b"application/json", b"{}"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", ctype)]})
    await send({"type": "http.response.body", "body": body})
"""

# A Date fixed at import: stale once a second has passed (uvicorn runs with --no-date-header).
STALE_DATE_APP = """
from email.utils import formatdate

DATE = formatdate(usegmt=True).encode()

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/plain"), (b"date", DATE)]})
    await send({"type": "http.response.body", "body": b"Hello, World!"})
"""


def _response(headers: dict[str, str], content: bytes = b"Hello, World!") -> httpx.Response:
    if headers.get("content-encoding") == "gzip":
        content = gzip.compress(content)
    return httpx.Response(200, headers=headers, content=content)


def test_parse_date() -> None:
    assert parse_date("Fri, 27 Nov 2026 10:00:00 GMT") is not None
    for bad in [
        "Fri, 27 Nov 2026 10:00:00 UTC",
        "2026-11-27T10:00:00Z",
        "Fri, 7 Nov 2026 10:00:00 GMT",
    ]:
        assert parse_date(bad) is None
    assert parse_date("Mon, 31 Feb 2026 10:00:00 GMT") is None


def test_content_type_patterns() -> None:
    assert CONTENT_TYPE_JSON.match("application/json")
    assert CONTENT_TYPE_JSON.match("application/json; charset=utf-8")
    assert not CONTENT_TYPE_JSON.match("text/json")
    assert CONTENT_TYPE_PLAINTEXT.match("text/plain;charset=UTF-8")
    assert CONTENT_TYPE_HTML.match("text/html; charset=utf-8")
    assert not CONTENT_TYPE_HTML.match("text/html")


def test_good_headers_pass() -> None:
    outcome = Outcome()
    check_headers(_response(GOOD_HEADERS), CONTENT_TYPE_PLAINTEXT, outcome)
    assert outcome.fails == []  # the fixed Date only drifts: a warning at most
    assert outcome.status in ("pass", "warn")


@pytest.mark.parametrize(
    ("drop", "override", "reason"),
    [
        ("server", {}, "no Server header"),
        ("date", {}, "no Date header"),
        ("content-type", {}, "no Content-Type header"),
        (None, {"content-type": "text/html"}, "Content-Type 'text/html' does not match"),
        (None, {"date": "yesterday"}, "is not in the format"),
        (None, {"content-encoding": "gzip"}, "compressed responses are not allowed"),
    ],
)
def test_header_failures(drop: str | None, override: dict[str, str], reason: str) -> None:
    headers = {k: v for k, v in GOOD_HEADERS.items() if k != drop} | override
    outcome = Outcome()
    check_headers(_response(headers), CONTENT_TYPE_PLAINTEXT, outcome)
    assert outcome.status == "fail"
    assert any(reason in r for r in outcome.fails), outcome.fails


def test_status_and_framing_failures() -> None:
    outcome = Outcome()
    response = httpx.Response(500, headers=GOOD_HEADERS, content=b"")
    response.headers.pop("content-length", None)
    check_headers(response, None, outcome)
    assert "status 500, expected 200" in outcome.fails
    assert "empty body" in outcome.fails
    assert "neither Content-Length nor Transfer-Encoding" in outcome.fails


def test_outcome_reasons() -> None:
    outcome = Outcome()
    assert outcome.status == "pass"
    outcome.warn("w")
    assert outcome.status == "warn"
    outcome.fail("f")
    outcome.fail("f")
    assert outcome.status == "fail" and outcome.reasons == ["fail: f", "warn: w"]


def test_rules_registry() -> None:
    assert {"plaintext", "json", "users", "echo", "ws"} <= set(RULES)
    assert all(spec.verify_rule in RULES for spec in SCENARIOS.values())
    with pytest.raises(UnknownNameError, match="plaintext"):
        get_rule("fortunes-v2")


def test_register_rule_slots_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("covetbench.verify.rules.RULES", dict(RULES))
    from covetbench.verify import rules

    @register_rule("demo", content_type=re.compile("^text/plain"))
    def _demo(ctx: RuleContext) -> None:
        ctx.warn("demo ran")

    assert rules.RULES["demo"].kind == "http"
    assert "demo" not in RULES


def test_unknown_scenario_raises_before_any_request() -> None:
    with pytest.raises(UnknownNameError):
        verify_server("http://127.0.0.1:1", "raw", "uvicorn", ["plaintext", "nope"])


def test_nothing_listening_fails_every_scenario() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    names = scenario_names(database=False)
    records = verify_server(url, "raw", "none", names)
    assert [r.status for r in records] == ["fail"] * len(names)
    assert all(r.app == "raw" and r.server == "none" for r in records)
    assert "ConnectError" in records[0].reasons[0]


def test_broken_app_fails_with_reasons(launch_server: LaunchServer, make_app: MakeApp) -> None:
    server = launch_server("uvicorn", make_app("broken", BROKEN_APP))
    names = scenario_names(database=False)
    records = verify_server(server.base_url, "broken", "uvicorn", names)
    by_scenario = {r.scenario: r for r in records}
    expected = {
        "plaintext": "Content-Type 'text/html' does not match",
        "json": "does not equal",
        "users": "expected 1337 (the path parameter)",
        "echo": "echoed {}",
        "ws": "WebSocket",
        "journey": "step echo: echoed {}",
    }
    for scenario, reason in expected.items():
        record = by_scenario[scenario]
        assert record.status == "fail", record
        assert any(reason in r for r in record.reasons), record.reasons


def test_journey_checks_every_step(launch_server: LaunchServer) -> None:
    server = launch_server("covet", "covet")
    [record] = verify_server(server.base_url, "covet", "covet", ["journey"], date_refresh_wait_s=0)
    assert record.status == "warn", record  # only the Date refresh, which was not waited for
    assert all("Date refresh" in reason for reason in record.reasons), record.reasons


def test_missing_date_fails(launch_server: LaunchServer) -> None:
    server = launch_server("uvicorn", "raw", extra={"args": ["--no-date-header"]})
    [record] = verify_server(server.base_url, "raw", "uvicorn", ["plaintext"])
    assert record.status == "fail"
    assert "fail: no Date header" in record.reasons


def test_stale_date_fails(launch_server: LaunchServer, make_app: MakeApp) -> None:
    target = make_app("stale", STALE_DATE_APP)
    server = launch_server("uvicorn", target, extra={"args": ["--no-date-header"]})
    [record] = verify_server(server.base_url, "stale", "uvicorn", ["plaintext"])
    assert record.status == "fail"
    assert any("stale Date" in r for r in record.reasons), record.reasons


def test_daphne_sends_no_date(launch_server: LaunchServer) -> None:
    # A documented divergence: daphne omits the Date header TechEmpower requires.
    server = launch_server("daphne", "raw")
    records = verify_server(server.base_url, "raw", "daphne", ["plaintext", "ws"])
    assert [r.status for r in records] == ["fail", "pass"]
    assert "fail: no Date header" in records[0].reasons


def test_users_rule_needs_an_integer_path() -> None:
    spec = ScenarioSpec("u", "http", "GET", "/users/me", "users")
    outcome = Outcome()
    with httpx.Client() as client:
        ctx = RuleContext(spec, "http://127.0.0.1:1", client, outcome, _response(GOOD_HEADERS))
        get_rule("users").check(ctx)
    assert outcome.status == "fail"
