"""FileResponse: a file from disk with validators, conditional requests and single ranges."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import quote

from covet.concurrency import run_in_threadpool
from covet.responses import Response, content_length
from covet.types import Receive, Scope, Send

__all__ = ["FileResponse"]

CHUNK_SIZE = 64 * 1024


class _RangeNotSatisfiable(Exception):
    pass


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte range asked for, ``None`` to serve the whole file.

    Only one ``bytes`` range is honoured; other units and multi-range requests get the full
    file (RFC 9110 lets a server ignore Range). Malformed or unsatisfiable ranges raise.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        raise _RangeNotSatisfiable
    first, last = first.strip(), last.strip()
    try:
        if not first:
            suffix = int(last)
            if suffix <= 0 or size == 0:
                raise _RangeNotSatisfiable
            return max(0, size - suffix), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        raise _RangeNotSatisfiable from None
    if start < 0 or start >= size or end < start:
        raise _RangeNotSatisfiable
    return start, min(end, size - 1)


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    weak = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == weak for tag in header.split(","))


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
            return _etag_matches(if_none_match, etag)
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
                    chosen = _parse_range(range_header, size)
                except _RangeNotSatisfiable:
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
