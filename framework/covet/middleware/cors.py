"""CORS: answer preflight requests and mark actual responses, per the Fetch standard.

    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://app.example.com"],
        allow_methods=["GET", "POST"],
        allow_headers=["authorization"],
        allow_credentials=True,
    )

A preflight is an `OPTIONS` request carrying `Origin` and `Access-Control-Request-Method`; it is
answered here and never reaches the app (200 when allowed, 400 naming what was refused). Every
other request goes to the app; when its origin is allowed the response gets
`Access-Control-Allow-Origin` and friends. Whenever the answer depends on the origin, responses
carry `Vary: Origin`, also those to requests without one, so that shared caches never hand one
origin's response to another (Fetch, "CORS protocol and HTTP caches").

`allow_origins=["*"]` with `allow_credentials=True` is refused with a `ConfigurationError` where
it is declared (`add_middleware`), as rack-cors refuses it: echoing every origin with
credentials lets any site read any user's responses. The origin `null` (sandboxed iframes,
`file:` pages, some redirects) is one any site can give itself, so it is granted only when the
literal `"null"` is in `allow_origins`: `allow_origin_regex` never matches it, and `"*"` answers
it with the public `*` only.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Collection
from typing import Any

from covet._asgi import (
    ASGIApp,
    Message,
    RawHeaders,
    Receive,
    Scope,
    Send,
    add_vary,
    get_header,
    merge_vary,
    send_plain,
)
from covet.exceptions import ConfigurationError

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# Allowed without being listed; content-type is listed because browsers preflight it whenever
# its value is not one of the three form types, and a JSON API always needs it.
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
_PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
_CORS_RESPONSE_HEADERS = (
    b"access-control-allow-origin",
    b"access-control-allow-credentials",
    b"access-control-expose-headers",
)


def _check_config(
    allow_origins: Collection[str],
    allow_methods: Collection[str],
    allow_credentials: bool,
    allow_origin_regex: str | None,
    max_age: int,
) -> None:
    if isinstance(allow_origins, str) or isinstance(allow_methods, str):
        raise ConfigurationError("allow_origins and allow_methods take lists, not a str")
    if max_age < 0:
        raise ConfigurationError(f"max_age must be >= 0, got {max_age}")
    if allow_credentials and "*" in allow_origins:
        raise ConfigurationError(
            'allow_origins=["*"] with allow_credentials=True would let every website read '
            "responses with its visitors' cookies: list the trusted origins (or give "
            "allow_origin_regex) instead"
        )
    if allow_origin_regex is not None:
        try:
            re.compile(allow_origin_regex)
        except re.error as exc:
            raise ConfigurationError(f"allow_origin_regex {allow_origin_regex!r}: {exc}") from None


class CORSMiddleware:
    """Cross-Origin Resource Sharing for an ASGI app.

    `allow_origins` lists exact origins (`"https://a.example"`) or holds `"*"`;
    `allow_origin_regex` matches whole origins (`r"https://.*\\.example\\.com"`, never `null`).
    With `allow_credentials=True` the wildcard `"*"` is never sent (browsers reject it): the
    request's origin, method and headers are echoed instead, and `allow_origins` may not hold
    `"*"`.
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        _check_config(allow_origins, allow_methods, allow_credentials, allow_origin_regex, max_age)
        self.app = app
        self.allow_all_origins = "*" in allow_origins
        self.origins = frozenset(origin.rstrip("/") for origin in allow_origins if origin != "*")
        self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.allow_all_methods = "*" in allow_methods
        self.methods = frozenset(method.upper() for method in allow_methods if method != "*")
        self.allow_all_headers = "*" in allow_headers
        self.headers = SAFELISTED_HEADERS | {h.lower() for h in allow_headers if h != "*"}
        self.allow_credentials = allow_credentials
        self.expose_all = "*" in expose_headers
        self.expose_headers = ", ".join(h for h in expose_headers if h != "*")
        self.max_age = max_age
        # "*" answers every origin alike: nothing varies, nothing to echo. (With credentials
        # "*" is refused above: echoing every origin is exactly what must not happen.)
        self._wildcard = self.allow_all_origins
        self._static_grant: RawHeaders = []
        if allow_credentials:
            self._static_grant.append((b"access-control-allow-credentials", b"true"))
        if self.expose_headers and not self.expose_all:
            exposed = self.expose_headers.encode("latin-1")
            self._static_grant.append((b"access-control-expose-headers", exposed))

    @classmethod
    def check_options(cls, **options: Any) -> None:
        """Refuse a wrong configuration at `add_middleware` time, before any request."""
        bound = inspect.signature(cls).bind(None, **options)
        bound.apply_defaults()
        args = bound.arguments
        _check_config(
            args["allow_origins"],
            args["allow_methods"],
            args["allow_credentials"],
            args["allow_origin_regex"],
            args["max_age"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: RawHeaders = scope["headers"]
        origin_raw = get_header(headers, b"origin")
        if origin_raw is None:
            if self._wildcard:
                await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, self._vary_only(send))
            return
        origin = origin_raw.decode("latin-1")
        if scope["method"] == "OPTIONS":
            requested = get_header(headers, b"access-control-request-method")
            if requested is not None:
                await self._preflight(send, origin, requested.decode("latin-1"), headers)
                return
        await self.app(scope, receive, self._actual(send, origin))

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether `origin` (an `Origin` header value) may read responses."""
        if self.allow_all_origins or origin in self.origins:
            return True
        if self.origin_regex is None or origin == "null":
            return False
        return self.origin_regex.fullmatch(origin) is not None

    def _allow_origin_value(self, origin: str) -> bytes:
        return b"*" if self._wildcard else origin.encode("latin-1")

    async def _preflight(
        self, send: Send, origin: str, method: str, request_headers: RawHeaders
    ) -> None:
        requested_raw = get_header(request_headers, b"access-control-request-headers") or b""
        requested = [
            h.strip().lower() for h in requested_raw.decode("latin-1").split(",") if h.strip()
        ]
        refused: list[str] = []
        if not self.is_allowed_origin(origin):
            refused.append("origin")
        if not self.allow_all_methods and method.upper() not in self.methods:
            refused.append("method")
        if not self.allow_all_headers and any(h not in self.headers for h in requested):
            refused.append("headers")

        out: RawHeaders = [(b"vary", _PREFLIGHT_VARY.encode("latin-1"))]
        if refused:
            # Leaving out Access-Control-Allow-Origin is what makes the browser fail the
            # preflight; the status and text are only there for whoever reads the logs.
            body = ("Disallowed CORS " + ", ".join(refused)).encode("latin-1")
            await send_plain(send, 400, body, out)
            return
        out.append((b"access-control-allow-origin", self._allow_origin_value(origin)))
        if self.allow_all_methods:
            allow_methods = method
        else:
            allow_methods = ", ".join(sorted(self.methods))
        out.append((b"access-control-allow-methods", allow_methods.encode("latin-1")))
        if self.allow_all_headers:
            if requested:
                out.append((b"access-control-allow-headers", ", ".join(requested).encode()))
        else:
            out.append((b"access-control-allow-headers", ", ".join(sorted(self.headers)).encode()))
        if self.allow_credentials:
            out.append((b"access-control-allow-credentials", b"true"))
        out.append((b"access-control-max-age", str(self.max_age).encode("latin-1")))
        await send_plain(send, 200, b"OK", out)

    def _expose_all(self, headers: RawHeaders) -> bytes:
        if not self.allow_credentials:
            return b"*"
        # "*" only means "every header" for requests without credentials: name them.
        names = sorted({key.decode("latin-1").lower() for key, _ in headers})
        return ", ".join(names).encode("latin-1")

    def _vary_only(self, send: Send) -> Send:
        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = add_vary(list(message.get("headers", [])), "Origin")
            await send(message)

        return send_with_vary

    def _actual(self, send: Send, origin: str) -> Send:
        if not self.is_allowed_origin(origin):
            return send if self._wildcard else self._vary_only(send)

        grant = [(b"access-control-allow-origin", self._allow_origin_value(origin))]
        grant += self._static_grant

        async def send_with_cors(message: Message) -> None:
            if message["type"] != "http.response.start":
                await send(message)
                return
            headers: RawHeaders = []
            vary: list[bytes] = []
            for key, value in message.get("headers", ()):
                name = key.lower()
                if name == b"vary":
                    vary.append(value)
                elif name not in _CORS_RESPONSE_HEADERS:
                    headers.append((key, value))
            if self.expose_all:
                headers.append((b"access-control-expose-headers", self._expose_all(headers)))
            headers += grant
            if not self._wildcard:
                headers.append((b"vary", merge_vary(vary, "Origin")))
            elif vary:
                headers.append((b"vary", b", ".join(vary)))
            message["headers"] = headers
            await send(message)

        return send_with_cors
