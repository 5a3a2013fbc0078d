"""HTTP responses: each is an ASGI app that sends one start message and its body.

Example::

    return JSONResponse({"ok": True}, status_code=201, headers={"x-id": "7"})
"""

from __future__ import annotations

import http.cookies
import re
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from covet._json import dumps
from covet.concurrency import iterate_in_threadpool
from covet.datastructures import URL, MutableHeaders
from covet.types import Receive, Scope, Send

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]

_CONTENT_TYPES: dict[str, bytes] = {}
# Pre-encoded Content-Length values for small bodies: the common case costs a list index.
_LENGTHS = [str(n).encode("ascii") for n in range(4096)]


# RFC 6265 section 4.1.1: an attribute value is any US-ASCII but CTLs and ";". The attributes
# are not quoted as the value is, so a ";" or CRLF there would add attributes (or headers).
_COOKIE_ATTRIBUTE = re.compile(r"[ -:<-~]*")
_COOKIE_DOMAIN = re.compile(r"\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def _cookie_attribute(name: str, value: str) -> str:
    if not _COOKIE_ATTRIBUTE.fullmatch(value):
        raise ValueError(f"cookie {name} {value!r}: no ';', control or non-ASCII characters")
    return value


def content_length(size: int) -> bytes:
    """``size`` as a Content-Length header value."""
    return _LENGTHS[size] if size < 4096 else str(size).encode("ascii")


def _content_type(media_type: str, charset: str) -> bytes:
    key = media_type + charset
    value = _CONTENT_TYPES.get(key)
    if value is None:
        text = media_type
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            text += f"; charset={charset}"
        value = _CONTENT_TYPES[key] = text.encode("latin-1")
    return value


def _has_no_body(status_code: int) -> bool:
    return status_code < 200 or status_code in (204, 304)


class Response:
    """A response with a complete body.

    ``content`` may be ``bytes``, ``str`` (encoded with ``charset``) or ``None``; subclasses
    override :meth:`render`. Content-Length and Content-Type are filled in unless ``headers``
    sets them.
    """

    media_type: ClassVar[str | None] = None
    charset: ClassVar[str] = "utf-8"
    # The class's own Content-Type header, encoded once per class rather than per response.
    _type_header: ClassVar[tuple[bytes, bytes] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        media = cls.media_type
        cls._type_header = (
            None if media is None else (b"content-type", _content_type(media, cls.charset))
        )

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body = self.render(content)
        if (
            headers is None
            and media_type is None
            and status_code >= 200
            and status_code != 204
            and status_code != 304
        ):
            size = len(body)
            length = (b"content-length", _LENGTHS[size] if size < 4096 else content_length(size))
            type_header = self._type_header
            self.raw_headers = [length] if type_header is None else [length, type_header]
            return
        media = media_type if media_type is not None else self.media_type
        if headers is None:
            raw: list[tuple[bytes, bytes]] = []
            if not _has_no_body(status_code):
                raw.append((b"content-length", content_length(len(self.body))))
            if media is not None:
                raw.append((b"content-type", _content_type(media, self.charset)))
        else:
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            names = {k for k, _ in raw}
            if b"content-length" not in names and not _has_no_body(status_code):
                raw.append((b"content-length", content_length(len(self.body))))
            if media is not None and b"content-type" not in names:
                raw.append((b"content-type", _content_type(media, self.charset)))
        self.raw_headers = raw

    def render(self, content: Any) -> bytes:
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, bytes):
            return content
        if content is None:
            return b""
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be bytes or str, not {type(content).__name__}"
        )

    @property
    def headers(self) -> MutableHeaders:
        """The response headers, editable in place."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Append a ``Set-Cookie`` header.

        The value is quoted when it needs to be; a name that is not a token, or a path,
        domain or ``expires`` that could add attributes of its own (``;``, CR/LF, controls)
        raises ``ValueError``.

        Example::

            response.set_cookie("session", token, max_age=3600, httponly=True, secure=True)
        """
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        try:
            # SimpleCookie refuses a key that is not a token and quotes a value that needs it.
            cookie[key] = value
        except http.cookies.CookieError as exc:
            raise ValueError(f"cookie name {key!r}: {exc}") from None
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = str(int(max_age))
        if expires is not None:
            if isinstance(expires, datetime):
                morsel["expires"] = format_datetime(expires, usegmt=True)
            elif isinstance(expires, int):
                morsel["expires"] = expires  # type: ignore[assignment]
            else:
                morsel["expires"] = _cookie_attribute("expires", expires)
        if path is not None:
            morsel["path"] = _cookie_attribute("path", path)
        if domain is not None:
            if not _COOKIE_DOMAIN.fullmatch(domain):
                raise ValueError(f"cookie domain {domain!r} is not a host name")
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError("samesite must be 'strict', 'lax' or 'none'")
            morsel["samesite"] = samesite
        self.raw_headers.append((b"set-cookie", morsel.OutputString().encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Tell the client to drop cookie ``key`` (an expired, empty ``Set-Cookie``)."""
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code})"


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class JSONResponse(Response):
    """Serializes ``content`` to JSON (orjson when installed, else the stdlib, compact)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class RedirectResponse(Response):
    """Redirect to ``url`` (307 by default, which keeps the method and body)."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers)
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")
        self.headers["location"] = location


class StreamingResponse(Response):
    """A body produced piece by piece by an (async) iterable of ``bytes`` or ``str``.

    Example::

        async def numbers():
            for n in range(3):
                yield f"{n}\\n"

        return StreamingResponse(numbers(), media_type="text/plain")
    """

    def __init__(
        self,
        content: AsyncIterable[str | bytes] | Iterable[str | bytes],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = b""
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[str | bytes] = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        media = media_type if media_type is not None else self.media_type
        raw = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]
        if media is not None and not any(k == b"content-type" for k, _ in raw):
            raw.append((b"content-type", _content_type(media, self.charset)))
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope.get("method") != "HEAD":
            charset = self.charset
            async for chunk in self.body_iterator:
                data = chunk.encode(charset) if isinstance(chunk, str) else chunk
                await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


# Imported last: the file response builds on Response.
from covet._fileresponse import FileResponse  # noqa: E402
