"""Form bodies: `application/x-www-form-urlencoded` and `multipart/form-data`, streamed.

    form = await request.form(max_files=5, max_file_size=10 * 1024 * 1024)
    avatar = form["avatar"]                  # an UploadFile
    data = await avatar.read()
    await form.close()                       # removes the temporary files

`parse_form` reads the body chunk by chunk as it arrives and never holds a whole multipart body:
file parts go straight into `UploadFile`s (spooled to a temporary file past `spool_size`), and
only field values are kept in memory, each bounded by `max_part_size`. Every limit in
`FormLimits` answers `413` when exceeded, a malformed body `400`, and a content type that is not
a form `415`, all as `covet.exceptions.HTTPException`. Upload files already created are closed
when parsing fails.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import IO, Any, Protocol
from urllib.parse import unquote_to_bytes

from covet._multipart import PART_BEGIN, PART_DATA, MultipartError, MultipartParser
from covet.concurrency import run_in_threadpool
from covet.datastructures import Headers
from covet.exceptions import ConfigurationError, HTTPException

__all__ = ["FormData", "FormLimits", "UploadFile", "parse_form"]

_KiB = 1024
_MiB = 1024 * 1024
# Part headers are a few hundred bytes in practice; this only stops a body that never ends them.
_MAX_PART_HEADERS = 16 * _KiB
# Whitespace allowed after a boundary before its CRLF (RFC 2046 "transport padding").
_MAX_PADDING = 256


@dataclass(frozen=True)
class FormLimits:
    """How much of a form `parse_form` accepts; going over any limit answers 413.

    `max_fields`/`max_files` count parts; `max_part_size` bounds one field value (in memory);
    `max_file_size` one uploaded file; `max_total_size` the whole body. `spool_size` is how
    much of an upload stays in memory before it moves to a temporary file.
    """

    max_fields: int = 1000
    max_files: int = 1000
    max_part_size: int = 1 * _MiB
    max_file_size: int | None = None
    max_total_size: int | None = None
    spool_size: int = 1 * _MiB

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | FormLimits | None) -> FormLimits:
        """`FormLimits` from keyword options such as `request.form(max_files=5)`."""
        if options is None:
            return _DEFAULT_LIMITS
        if isinstance(options, FormLimits):
            return options
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ConfigurationError(
                f"unknown form limit(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
            )
        return cls(**options)


_DEFAULT_LIMITS = FormLimits()


class UploadFile:
    """An uploaded file: `filename`, `content_type`, part `headers`, `size`, and the data.

        data = await upload.read()
        await upload.seek(0)
        await upload.close()

    The data lives in a `SpooledTemporaryFile`: in memory while small, on disk past the spool
    size, in which case reads and writes run in a thread so the event loop never blocks.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        size: int = 0,
    ) -> None:
        self.file = file
        self.filename = filename
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers()
        self.size = size

    @property
    def _in_memory(self) -> bool:
        # SpooledTemporaryFile keeps a BytesIO until it rolls over; any other file is real I/O.
        return not getattr(self.file, "_rolled", True)

    async def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._in_memory:
            self.file.write(data)
        else:
            await run_in_threadpool(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size}, "
            f"content_type={self.content_type!r})"
        )


FormValue = str | UploadFile


class FormData(Mapping[str, FormValue]):
    """The parsed form: a multi-dict of field values (`str`) and files (`UploadFile`).

    `form["tag"]` is the last value sent under that name, `form.getlist("tag")` all of them.
    """

    __slots__ = ("_list", "_dict")

    def __init__(self, items: list[tuple[str, FormValue]] | None = None) -> None:
        self._list: list[tuple[str, FormValue]] = items if items is not None else []
        self._dict: dict[str, FormValue] = dict(self._list)

    def getlist(self, key: str) -> list[FormValue]:
        return [value for name, value in self._list if name == key]

    def multi_items(self) -> list[tuple[str, FormValue]]:
        return list(self._list)

    async def close(self) -> None:
        """Close every uploaded file (and so remove its temporary file)."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()

    def __getitem__(self, key: str) -> FormValue:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FormData):
            return self._list == other._list
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FormData({self._list!r})"


class _HasStream(Protocol):
    def stream(self) -> AsyncIterator[bytes]: ...


async def parse_form(
    source: _HasStream | AsyncIterable[bytes],
    content_type: str,
    limits: Mapping[str, Any] | FormLimits | None = None,
) -> FormData:
    """Parse a form body read from `source` (a `Request`, or any async iterable of bytes).

    `content_type` is the request's Content-Type header value; `limits` are `FormLimits` or
    its field names as a mapping (what `request.form(**limits)` passes on).

        form = await parse_form(request, request.headers.get("content-type", ""), {})
    """
    config = FormLimits.from_options(limits)
    media_type, params = parse_options_header(content_type)
    chunks = source.stream() if hasattr(source, "stream") else source
    if media_type == "application/x-www-form-urlencoded":
        return await _parse_urlencoded(_limit_total(chunks, config), config)
    if media_type == "multipart/form-data":
        boundary = params.get("boundary", "")
        if not boundary or len(boundary) > 70:
            raise HTTPException(400, "Missing or invalid multipart boundary")
        return await _parse_multipart(
            _limit_total(chunks, config), boundary.encode("latin-1"), config
        )
    raise HTTPException(
        415,
        f"Unsupported form content type {media_type or '(none)'}; expected "
        "application/x-www-form-urlencoded or multipart/form-data",
    )


def parse_options_header(value: str, escapes: bool = True) -> tuple[str, dict[str, str]]:
    """Split `text/plain; charset="utf-8"` into ("text/plain", {"charset": "utf-8"}).

    The media type and parameter names come out lowercase; quoted values are unquoted, with
    backslash escapes unless `escapes` is False (form-data part headers: browsers send a
    backslash in a filename as is and escape only `"`, CR and LF, as %22, %0D, %0A).
    """
    media_type, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for key, param_value in _iter_params(rest, escapes):
        params.setdefault(key, param_value)
    return media_type.strip().lower(), params


def _iter_params(text: str, escapes: bool) -> Iterator[tuple[str, str]]:
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t;":
            i += 1
        eq = text.find("=", i)
        semi = text.find(";", i)
        if eq == -1 or (semi != -1 and semi < eq):
            i = n if semi == -1 else semi + 1  # a parameter without a value: skip it
            continue
        key = text[i:eq].strip().lower()
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            chars: list[str] = []
            i += 1
            while i < n and text[i] != '"':
                if escapes and text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            i += 1
            param_value = "".join(chars)
        else:
            end = text.find(";", i)
            end = n if end == -1 else end
            param_value = text[i:end].strip()
            i = end
        if key:
            yield key, param_value


async def _limit_total(chunks: AsyncIterable[bytes], limits: FormLimits) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if limits.max_total_size is not None and received > limits.max_total_size:
            raise HTTPException(413, "Form body too large")
        if chunk:
            yield chunk


async def _parse_urlencoded(chunks: AsyncIterator[bytes], limits: FormLimits) -> FormData:
    items: list[tuple[str, FormValue]] = []
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"&")
        for pair in complete:
            _add_pair(items, pair, limits)
        if len(pending) > limits.max_part_size:
            raise HTTPException(413, "Form field too large")
    _add_pair(items, pending, limits)
    return FormData(items)


def _add_pair(items: list[tuple[str, FormValue]], pair: bytes, limits: FormLimits) -> None:
    if not pair:
        return
    if len(pair) > limits.max_part_size:
        raise HTTPException(413, "Form field too large")
    if len(items) >= limits.max_fields:
        raise HTTPException(413, f"Too many form fields (limit {limits.max_fields})")
    name, _, value = pair.partition(b"=")
    items.append((_unquote_plus(name), _unquote_plus(value)))


def _unquote_plus(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


async def _parse_multipart(
    chunks: AsyncIterator[bytes], boundary: bytes, limits: FormLimits
) -> FormData:
    parser = MultipartParser(boundary, _MAX_PART_HEADERS, _MAX_PADDING)
    collector = _MultipartCollector(limits)
    try:
        async for chunk in chunks:
            for kind, data in parser.feed(chunk):
                if kind == PART_DATA:
                    await collector.data(data)
                elif kind == PART_BEGIN:
                    collector.begin(data)
                else:
                    await collector.end()
        parser.close()
    except BaseException as exc:
        for upload in collector.files:
            await upload.close()
        if isinstance(exc, MultipartError):
            raise HTTPException(413 if exc.too_large else 400, str(exc)) from None
        raise
    return FormData(collector.items)


class _MultipartCollector:
    """Turns parser events into form items, enforcing the limits as the bytes arrive."""

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, FormValue]] = []
        self.files: list[UploadFile] = []
        self.fields = 0
        self.name = ""
        self.charset = "utf-8"
        self.upload: UploadFile | None = None
        self.value = bytearray()

    def begin(self, headers: list[tuple[bytes, bytes]]) -> None:
        limits = self.limits
        self.name, filename, content_type = _describe_part(headers)
        if filename is None:
            self.fields += 1
            if self.fields > limits.max_fields:
                raise HTTPException(413, f"Too many form fields (limit {limits.max_fields})")
            self.charset = parse_options_header(content_type)[1].get("charset", "utf-8")
            self.value = bytearray()
            return
        if len(self.files) >= limits.max_files:
            raise HTTPException(413, f"Too many files (limit {limits.max_files})")
        self.upload = UploadFile(
            tempfile.SpooledTemporaryFile(max_size=limits.spool_size),
            filename=filename,
            content_type=content_type or "application/octet-stream",
            headers=Headers(raw=headers),
        )
        self.files.append(self.upload)

    async def data(self, data: bytes) -> None:
        upload = self.upload
        if upload is None:
            self.value += data
            if len(self.value) > self.limits.max_part_size:
                raise HTTPException(413, f"Form field {self.name!r} too large")
            return
        max_file_size = self.limits.max_file_size
        if max_file_size is not None and upload.size + len(data) > max_file_size:
            raise HTTPException(413, f"Uploaded file {self.name!r} too large")
        await upload.write(data)

    async def end(self) -> None:
        if self.upload is None:
            self.items.append((self.name, _decode(bytes(self.value), self.charset)))
            return
        await self.upload.seek(0)
        self.items.append((self.name, self.upload))
        self.upload = None


def _describe_part(headers: list[tuple[bytes, bytes]]) -> tuple[str, str | None, str]:
    """(name, filename or None, content type) from a part's headers."""
    disposition = content_type = b""
    for key, value in headers:
        if key == b"content-disposition":
            disposition = value
        elif key == b"content-type":
            content_type = value
    kind, params = parse_options_header(_header_text(disposition), escapes=False)
    if kind != "form-data" or "name" not in params:
        raise MultipartError("Multipart part without Content-Disposition: form-data; name=...")
    filename = params.get("filename")
    extended = params.get("filename*")
    if extended is not None and "'" in extended:
        encoding, _, rest = extended.partition("'")
        filename = _decode(unquote_to_bytes(rest.partition("'")[2]), encoding or "utf-8")
    elif filename is not None:
        filename = _html_unescape(filename)
    return _html_unescape(params["name"]), filename, _header_text(content_type)


def _html_unescape(value: str) -> str:
    # Browsers escape these three in names and filenames (HTML "multipart/form-data encoding").
    if "%" not in value:
        return value
    return value.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


def _header_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")  # browsers send non-ASCII filenames as raw UTF-8
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode(raw: bytes, charset: str) -> str:
    try:
        return raw.decode(charset, "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")
