"""HTTP responses: each is an ASGI app that sends one start message and its body.

Example::

    return JSONResponse({"ok": True}, status_code=201, headers={"x-id": "7"})
"""

from __future__ import annotations

import hashlib
import http.cookies
import mimetypes
import os
import re
import stat
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import datetime
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from typing import Any, BinaryIO, ClassVar, Literal
from urllib.parse import quote

from covet._json import dumps
from covet._ranges import CHUNK_SIZE, RangeNotSatisfiable, etag_matches, parse_range
from covet.concurrency import iterate_in_threadpool, run_in_threadpool
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


class FileResponse(Response):
    """Send the file at ``path`` with Content-Length, ETag, Last-Modified and Accept-Ranges.

    Answers ``If-None-Match`` / ``If-Modified-Since`` with 304, a single ``Range`` with 206,
    an unsatisfiable range with 416, HEAD with the headers alone and a missing file with 404.

    Example::

        return FileResponse("report.pdf", filename="report.pdf")
    """

    chunk_size = CHUNK_SIZE

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = os.fspath(path)
        self.status_code = status_code
        self.filename = filename
        self.body = b""
        if media_type is None:
            media_type = mimetypes.guess_type(filename or self.path)[0] or "text/plain"
        super().__init__(None, status_code, headers, media_type)
        # Content-Length is set from the stat result at send time.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        if filename is not None:
            quoted = quote(filename)
            if quoted != filename:
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{filename}"'
            self.headers.setdefault("content-disposition", disposition)
        self.stat_result = stat_result

    def _set_validators(self, st: os.stat_result) -> str:
        headers = self.headers
        etag_base = f"{st.st_mtime}-{st.st_size}"
        etag = f'"{hashlib.md5(etag_base.encode(), usedforsecurity=False).hexdigest()}"'
        headers.setdefault("last-modified", formatdate(st.st_mtime, usegmt=True))
        headers.setdefault("etag", etag)
        headers.setdefault("accept-ranges", "bytes")
        return headers["etag"]

    def _not_modified(self, request_headers: dict[bytes, str], etag: str, mtime: float) -> bool:
        if_none_match = request_headers.get(b"if-none-match")
        if if_none_match is not None:
            return etag_matches(if_none_match, etag)
        if_modified_since = request_headers.get(b"if-modified-since")
        if if_modified_since is not None:
            try:
                since = parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                return False
            return int(mtime) <= since
        return False

    def _range_applies(self, request_headers: dict[bytes, str], etag: str) -> bool:
        if_range = request_headers.get(b"if-range")
        if if_range is None:
            return True
        return if_range.strip() == etag or if_range.strip() == self.headers.get("last-modified")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            st = self.stat_result or await run_in_threadpool(os.stat, self.path)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            await Response(b"Not Found", 404, media_type="text/plain")(scope, receive, send)
            return
        etag = self._set_validators(st)
        method = scope.get("method", "GET")
        request_headers = {k: v.decode("latin-1") for k, v in scope.get("headers", ())}
        size = st.st_size
        status_code = self.status_code
        start, end = 0, size - 1
        if status_code == 200 and method in ("GET", "HEAD"):
            if self._not_modified(request_headers, etag, st.st_mtime):
                await self._send_headers(send, 304, exclude=(b"content-type",))
                await send({"type": "http.response.body", "body": b""})
                return
            range_header = request_headers.get(b"range")
            if range_header is not None and self._range_applies(request_headers, etag):
                try:
                    chosen = parse_range(range_header, size)
                except RangeNotSatisfiable:
                    self.headers["content-range"] = f"bytes */{size}"
                    self.headers["content-length"] = "0"
                    await self._send_headers(send, 416)
                    await send({"type": "http.response.body", "body": b""})
                    return
                if chosen is not None:
                    start, end = chosen
                    status_code = 206
                    self.headers["content-range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        self.raw_headers.append((b"content-length", content_length(length)))
        await self._send_headers(send, status_code)
        if method == "HEAD" or length == 0:
            await send({"type": "http.response.body", "body": b""})
            return
        handle: BinaryIO = await run_in_threadpool(open, self.path, "rb")
        try:
            if start:
                await run_in_threadpool(handle.seek, start)
            remaining = length
            while remaining > 0:
                chunk = await run_in_threadpool(handle.read, min(self.chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": remaining > 0}
                )
            if remaining > 0:  # the file shrank while we were sending it
                await send({"type": "http.response.body", "body": b""})
        finally:
            await run_in_threadpool(handle.close)

    async def _send_headers(self, send: Send, status: int, exclude: tuple[bytes, ...] = ()) -> None:
        headers = [(k, v) for k, v in self.raw_headers if k not in exclude]
        await send({"type": "http.response.start", "status": status, "headers": headers})
