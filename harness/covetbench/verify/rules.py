"""Verify rules by name: what a scenario's answer must look like.

An HTTP rule gets the response to the scenario's request (the general header checks have run)
and checks the body; a WebSocket rule opens its own connection. A new scenario's rule is
registered with `register_rule`:

    @register_rule("db", kind="http", content_type=CONTENT_TYPE_JSON)
    def _db(ctx: RuleContext) -> None:
        row = ctx.json()
        ...

`ctx.fetch(path)` makes further requests (queries=0, foo, 501 ...) with the same client.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from covetbench.exceptions import UnknownNameError
from covetbench.scenarios import (
    JOURNEY_STEPS,
    KIND_HTTP,
    KIND_WEBSOCKET,
    ScenarioSpec,
    get_scenario,
)
from covetbench.verify.checks import (
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_PLAINTEXT,
    Outcome,
    check_headers,
)

PLAINTEXT_BODY = b"Hello, World!"
JSON_BODY: dict[str, Any] = {"message": "Hello, World!"}
WS_TEXT = "Hello, World! \u00e9\u2713"
WS_BYTES = b"\x00\x01Hello\xff\xfe"
WS_TIMEOUT_S = 5.0


#: requests per query-count window, TechEmpower's figure
COUNT_REQUESTS = 512
COUNT_CONCURRENCY = 32


@dataclass(frozen=True)
class DatabaseCheck:
    """The database the app under test uses, for rules that look into it (updates written,
    query counts); `count_requests` requests per query-count window."""

    url: str
    count_requests: int = COUNT_REQUESTS
    count_concurrency: int = COUNT_CONCURRENCY
    #: longest wait for counts still unpublished (PostgreSQL publishes an idle backend's
    #: leftovers within 10 s; a shorter wait may fail an app that is merely unlucky)
    count_deadline_s: float = 11.0


@dataclass
class RuleContext:
    """What a rule sees: the scenario, the response (HTTP rules), a client and the outcome;
    `database` when the run names one (the database rules check less without it)."""

    spec: ScenarioSpec
    base_url: str
    client: httpx.Client
    outcome: Outcome
    response: httpx.Response | None = None
    database: DatabaseCheck | None = None
    #: what trusts the run's own certificate, over TLS (None: plain, or the system's CAs)
    tls_context: ssl.SSLContext | None = None

    def fail(self, reason: str) -> None:
        self.outcome.fail(reason)

    def warn(self, reason: str) -> None:
        self.outcome.warn(reason)

    def json(self) -> Any:
        """The response body parsed as JSON; records a failure and returns None if it is not."""
        if self.response is None:
            return None
        try:
            return json.loads(self.response.content)
        except ValueError as exc:
            self.fail(f"body is not JSON ({exc}): {self.response.content[:80]!r}")
            return None

    def fetch(
        self, path: str, content_type: re.Pattern[str] | None = None
    ) -> httpx.Response | None:
        """GET another path; general header checks applied; None (and a failure) on error."""
        try:
            response = self.client.get(self.base_url.rstrip("/") + path)
        except httpx.HTTPError as exc:
            self.fail(f"GET {path} failed: {type(exc).__name__}: {exc}")
            return None
        check_headers(response, content_type, self.outcome)
        return response


RuleCheck = Callable[[RuleContext], None]


@dataclass(frozen=True)
class VerifyRule:
    """A named check: `kind` http (run on the scenario's response) or websocket."""

    name: str
    kind: str
    check: RuleCheck
    #: Content-Type pattern the response must match (HTTP rules)
    content_type: re.Pattern[str] | None = None


RULES: dict[str, VerifyRule] = {}


def register_rule(
    name: str, kind: str = KIND_HTTP, content_type: re.Pattern[str] | None = None
) -> Callable[[RuleCheck], RuleCheck]:
    """Decorator adding a rule to `RULES` under `name` (replacing one of that name)."""

    def decorate(check: RuleCheck) -> RuleCheck:
        RULES[name] = VerifyRule(name, kind, check, content_type)
        return check

    return decorate


def get_rule(name: str) -> VerifyRule:
    try:
        return RULES[name]
    except KeyError:
        raise UnknownNameError("verify rule", name, RULES) from None


@register_rule("plaintext", content_type=CONTENT_TYPE_PLAINTEXT)
def _plaintext(ctx: RuleContext) -> None:
    body = ctx.response.content if ctx.response is not None else b""
    if PLAINTEXT_BODY not in body:
        ctx.fail(f"body {body[:80]!r} does not contain {PLAINTEXT_BODY!r}")
    elif body != PLAINTEXT_BODY:
        ctx.warn(f"body {body[:80]!r} holds more than {PLAINTEXT_BODY!r}")


def _as_object(ctx: RuleContext, data: Any) -> dict[str, Any] | None:
    """`data` when it is a JSON object, else None: a failure is recorded unless `data` is None
    (what `ctx.json()` returns for a body that is not JSON, having recorded that already)."""
    if isinstance(data, dict):
        return data
    if data is not None:
        ctx.fail(f"body is {type(data).__name__}, expected an object")
    return None


@register_rule("json", content_type=CONTENT_TYPE_JSON)
def _json(ctx: RuleContext) -> None:
    data = _as_object(ctx, ctx.json())
    if data is None:
        return
    if data.get("message") != JSON_BODY["message"]:
        ctx.fail(f"body {data!r} does not equal {JSON_BODY!r}")
    elif data != JSON_BODY:
        ctx.warn(f"body {data!r} has keys beyond {JSON_BODY!r}")


def _expected_user_id(path: str) -> int | None:
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isascii() and tail.isdigit() else None


def _check_user(ctx: RuleContext, body: Any, expected: int) -> None:
    data = _as_object(ctx, body)
    if data is None:
        return
    got = data.get("id")
    if isinstance(got, bool) or not isinstance(got, int):
        ctx.fail(f"'id' is {got!r}, expected the integer {expected}")
    elif got != expected:
        ctx.fail(f"'id' is {got}, expected {expected} (the path parameter)")
    elif len(data) > 1:
        ctx.warn(f"body {data!r} has keys beyond 'id'")


@register_rule("users", content_type=CONTENT_TYPE_JSON)
def _users(ctx: RuleContext) -> None:
    expected = _expected_user_id(ctx.spec.path)
    if expected is None:
        ctx.fail(f"scenario path {ctx.spec.path!r} does not end in an integer id")
        return
    _check_user(ctx, ctx.json(), expected)
    # A second id catches an endpoint that ignores its path parameter.
    other = expected + 1295
    prefix = ctx.spec.path.rstrip("/").rsplit("/", 1)[0]
    response = ctx.fetch(f"{prefix}/{other}", CONTENT_TYPE_JSON)
    if response is not None:
        try:
            data = json.loads(response.content)
        except ValueError:
            ctx.fail(f"GET {prefix}/{other}: body is not JSON")
            return
        _check_user(ctx, data, other)


@register_rule("echo", content_type=CONTENT_TYPE_JSON)
def _echo(ctx: RuleContext) -> None:
    data = ctx.json()
    if data is None:
        return
    sent = json.loads(ctx.spec.body)
    if data != sent:
        ctx.fail(f"echoed {data!r}, sent {sent!r}")


@register_rule("journey", content_type=CONTENT_TYPE_PLAINTEXT)
def _journey(ctx: RuleContext) -> None:
    """Every step of the journey, each checked by its own scenario's rule; the scenario's own
    request is the first step. A failing step fails the journey, its reasons prefixed."""
    for name in JOURNEY_STEPS:
        spec = get_scenario(name)
        rule = get_rule(spec.verify_rule)
        step = RuleContext(spec, ctx.base_url, ctx.client, Outcome(), tls_context=ctx.tls_context)
        if spec.path == ctx.spec.path and spec.method == ctx.spec.method:
            step.response = ctx.response
        else:
            try:
                step.response = ctx.client.request(
                    spec.method,
                    spec.url(ctx.base_url),
                    headers=spec.headers,
                    content=spec.body or None,
                )
            except httpx.HTTPError as exc:
                ctx.fail(f"step {name}: {spec.method} {spec.path}: {type(exc).__name__}: {exc}")
                continue
            check_headers(step.response, rule.content_type, step.outcome)
        rule.check(step)
        for reason in step.outcome.fails:
            ctx.fail(f"step {name}: {reason}")
        for reason in step.outcome.warns:
            ctx.warn(f"step {name}: {reason}")


@register_rule("ws", kind=KIND_WEBSOCKET)
def _ws(ctx: RuleContext) -> None:
    # Imported here: websockets is only needed when a WebSocket scenario is verified.
    try:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect
    except ImportError:
        ctx.fail("the websockets package is missing: pip install 'covetpy[bench]'")
        return
    url = ctx.spec.url(ctx.base_url)
    try:
        with connect(
            url,
            open_timeout=WS_TIMEOUT_S,
            close_timeout=2.0,
            proxy=None,
            compression=None,
            ssl=ctx.tls_context,
        ) as ws:
            ws.send(WS_TEXT)
            got = ws.recv(timeout=WS_TIMEOUT_S)
            if got != WS_TEXT:
                ctx.fail(f"text message echoed as {got!r}, sent {WS_TEXT!r}")
            ws.send(WS_BYTES)
            got = ws.recv(timeout=WS_TIMEOUT_S)
            if got != WS_BYTES:
                ctx.fail(f"binary message echoed as {got!r}, sent {WS_BYTES!r}")
    except (OSError, TimeoutError, WebSocketException) as exc:
        ctx.fail(f"WebSocket {url}: {type(exc).__name__}: {exc}")
