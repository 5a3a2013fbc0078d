from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covet._multipart import PART_BEGIN, PART_DATA, PART_END, MultipartError, MultipartParser
from covet.exceptions import ConfigurationError, HTTPException
from covet.formparsers import FormData, FormLimits, UploadFile, parse_form, parse_options_header

T = TypeVar("T")
URLENCODED = "application/x-www-form-urlencoded"
BOUNDARY = "covet-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def chunked(body: bytes, size: int | None = None) -> AsyncIterator[bytes]:
    size = size or max(len(body), 1)
    for i in range(0, len(body), size):
        yield body[i : i + size]
    yield b""


def parse(body: bytes, content_type: str, size: int | None = None, **limits: Any) -> FormData:
    return run(parse_form(chunked(body, size), content_type, limits))


def status_of(body: bytes, content_type: str, **limits: Any) -> int:
    with pytest.raises(HTTPException) as info:
        parse(body, content_type, **limits)
    return info.value.status_code


def multipart(*parts: tuple[str, bytes], boundary: str = BOUNDARY) -> bytes:
    """Assemble a body from (header block, content) pairs."""
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def field(name: str, value: bytes) -> tuple[str, bytes]:
    return (f'Content-Disposition: form-data; name="{name}"', value)


def encoded_by_httpx(data: dict[str, Any], files: dict[str, Any]) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://testserver/", data=data, files=files)
    return request.read(), request.headers["content-type"]


# -- urlencoded -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, None])
def test_urlencoded_multi_values_and_escapes_in_any_chunking(size: int | None) -> None:
    body = b"a=1&b=x+y%26z&a=2&empty=&flag&&euro=%E2%82%AC&caf%C3%A9=ok"
    form = parse(body, URLENCODED, size)
    assert form.multi_items() == [
        ("a", "1"),
        ("b", "x y&z"),
        ("a", "2"),
        ("empty", ""),
        ("flag", ""),
        ("euro", "€"),
        ("café", "ok"),
    ]
    assert form["a"] == "2"
    assert form.getlist("a") == ["1", "2"]
    assert len(form) == 6 and "café" in form and list(form)[0] == "a"


def test_urlencoded_charset_parameter_and_bad_utf8_are_tolerated() -> None:
    form = parse(b"x=%FF", URLENCODED + "; charset=UTF-8")
    assert form["x"] == "\ufffd"


def test_empty_urlencoded_body() -> None:
    assert parse(b"", URLENCODED) == FormData()


@pytest.mark.parametrize(
    ("body", "limits"),
    [
        (b"a=1&b=2&c=3", {"max_fields": 2}),
        (b"a=" + b"x" * 50, {"max_part_size": 20}),
        (b"a=" + b"x" * 50 + b"&b=1", {"max_part_size": 20}),
        (b"a=1&b=2&c=3", {"max_total_size": 5}),
    ],
)
def test_urlencoded_limits_answer_413(body: bytes, limits: dict[str, int]) -> None:
    assert status_of(body, URLENCODED, **limits) == 413


def test_urlencoded_overlong_field_is_refused_before_the_body_ends() -> None:
    reads = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal reads
        while True:
            reads += 1
            yield b"x" * 1024

    with pytest.raises(HTTPException) as info:
        run(parse_form(endless(), URLENCODED, {"max_part_size": 10_000}))
    assert info.value.status_code == 413
    assert reads < 20


# -- multipart ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 7, 64, None])
def test_multipart_fields_and_files_in_any_chunking(size: int | None) -> None:
    body, content_type = encoded_by_httpx(
        {"name": "Ada", "tags": ["a", "b"]},
        {"doc": ("report.txt", b"line 1\r\n--not-a-boundary\r\nline 3", "text/plain")},
    )
    form = parse(body, content_type, size)
    assert form["name"] == "Ada"
    assert form.getlist("tags") == ["a", "b"]
    doc = form["doc"]
    assert isinstance(doc, UploadFile)
    assert doc.filename == "report.txt"
    assert doc.content_type == "text/plain"
    assert doc.headers["content-type"] == "text/plain"
    content = b"line 1\r\n--not-a-boundary\r\nline 3"
    assert doc.size == len(content)
    assert run(doc.read()) == content
    run(form.close())


def test_multipart_order_is_kept_and_last_value_wins() -> None:
    body = multipart(field("a", b"1"), field("b", b"2"), field("a", b"3"))
    form = parse(body, MULTIPART)
    assert form.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert form["a"] == "3"


def test_multipart_preamble_epilogue_padding_and_quoted_boundary() -> None:
    body = b"This is the preamble.\r\n" + multipart(field("x", b"1")).replace(
        b"--\r\n", b"--   \r\nepilogue", 1
    )
    body = body.replace(f"--{BOUNDARY}\r\n".encode(), f"--{BOUNDARY} \t\r\n".encode(), 1)
    form = parse(body, f'multipart/form-data; boundary="{BOUNDARY}"')
    assert form["x"] == "1"


def test_multipart_names_and_filenames_with_escapes_and_utf8() -> None:
    body = multipart(
        ('Content-Disposition: form-data; name="a%22b"; filename="caf\u00e9 %22x%22.txt"', b"1"),
        ("Content-Disposition: form-data; name=f; filename*=UTF-8''%E2%82%AC.bin", b"2"),
        ('Content-Disposition: form-data; name="empty"; filename=""', b""),
        ('Content-Disposition: form-data; name="win"; filename="C:\\dir\\a.txt"', b"3"),
    )
    form = parse(body, MULTIPART)
    first, euro, empty, win = (value for _, value in form.multi_items())
    assert isinstance(win, UploadFile) and win.filename == "C:\\dir\\a.txt"
    assert isinstance(first, UploadFile) and first.filename == 'café "x".txt'
    assert form.multi_items()[0][0] == 'a"b'
    assert isinstance(euro, UploadFile) and euro.filename == "€.bin"
    assert isinstance(empty, UploadFile) and empty.filename == "" and empty.size == 0
    assert empty.content_type == "application/octet-stream"
    run(form.close())


def test_multipart_field_charset() -> None:
    latin = (
        'Content-Disposition: form-data; name="x"\r\nContent-Type: text/plain; charset=latin-1',
        "é".encode("latin-1"),
    )
    unknown = (
        'Content-Disposition: form-data; name="y"\r\nContent-Type: text/plain; charset=nope',
        b"ok",
    )
    form = parse(multipart(latin, unknown), MULTIPART)
    assert form["x"] == "é"
    assert form["y"] == "ok"


def test_large_upload_spools_to_disk_and_reads_back() -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    body = multipart(('Content-Disposition: form-data; name="f"; filename="big.bin"', data))
    form = parse(body, MULTIPART, 65536, spool_size=1024)
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert not upload._in_memory
    assert run(upload.read(10)) == data[:10]
    run(upload.seek(0))
    assert run(upload.read()) == data
    run(form.close())
    assert upload.file.closed


def test_small_upload_stays_in_memory() -> None:
    body = multipart(('Content-Disposition: form-data; name="f"; filename="s.txt"', b"hi"))
    form = parse(body, MULTIPART)
    upload = form["f"]
    assert isinstance(upload, UploadFile) and upload._in_memory
    assert "s.txt" in repr(upload)
    run(form.close())


@pytest.mark.parametrize(
    ("parts", "limits"),
    [
        ([field("a", b"1"), field("b", b"2")], {"max_fields": 1}),
        ([field("a", b"x" * 100)], {"max_part_size": 99}),
        (
            [('Content-Disposition: form-data; name="f"; filename="a"', b"1")] * 2,
            {"max_files": 1},
        ),
        (
            [('Content-Disposition: form-data; name="f"; filename="a"', b"x" * 100)],
            {"max_file_size": 99},
        ),
        ([field("a", b"x" * 100)], {"max_total_size": 100}),
        ([("Content-Disposition: form-data; name=a\r\nX-Pad: " + "p" * 20_000, b"1")], {}),
    ],
)
def test_multipart_limits_answer_413(
    parts: list[tuple[str, bytes]], limits: dict[str, int]
) -> None:
    assert status_of(multipart(*parts), MULTIPART, **limits) == 413


def test_limit_failure_closes_files_already_created() -> None:
    created: list[UploadFile] = []
    original = UploadFile.__init__

    def spy(self: UploadFile, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        created.append(self)

    body = multipart(
        ('Content-Disposition: form-data; name="f"; filename="a"', b"1"),
        ('Content-Disposition: form-data; name="g"; filename="b"', b"x" * 100),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(UploadFile, "__init__", spy)
        assert status_of(body, MULTIPART, max_file_size=50) == 413
    assert len(created) == 2 and all(upload.file.closed for upload in created)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (multipart(field("a", b"1")), "multipart/form-data"),
        (multipart(field("a", b"1")), "multipart/form-data; boundary=" + "b" * 71),
        (multipart(field("a", b"1"))[:-12], MULTIPART),
        (b"no boundary anywhere", MULTIPART),
        (multipart(("Content-Disposition: form-data", b"1")), MULTIPART),
        (multipart(('Content-Disposition: attachment; name="a"', b"1")), MULTIPART),
        (multipart(("", b"1")), MULTIPART),
        (multipart(("Content-Disposition form-data", b"1")), MULTIPART),
        (f"--{BOUNDARY}junk\r\n".encode(), MULTIPART),
        (f"--{BOUNDARY}".encode() + b" " * 300, MULTIPART),
    ],
)
def test_malformed_multipart_answers_400(body: bytes, content_type: str) -> None:
    assert status_of(body, content_type) == 400


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "", "multipart/mixed"])
def test_unsupported_content_types_answer_415(content_type: str) -> None:
    assert status_of(b"{}", content_type) == 415


def test_unknown_limit_names_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="max_filez"):
        parse(b"", URLENCODED, max_filez=1)
    assert FormLimits.from_options(FormLimits(max_files=2)).max_files == 2


# -- the push parser: streamed, never buffering a part ----------------------------------------


def test_parser_emits_part_data_as_it_arrives() -> None:
    parser = MultipartParser(b"xyz")
    events = parser.feed(b'--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\n')
    assert events == [(PART_BEGIN, [(b"content-disposition", b'form-data; name="f"')])]
    emitted = 0
    for _ in range(100):
        for kind, data in parser.feed(b"a" * 10_000):
            assert kind == PART_DATA
            emitted += len(data)
    # All but a possible partial delimiter (len("\r\n--xyz") - 1 bytes) is already out.
    assert emitted == 1_000_000 - 6
    assert parser.feed(b"\r\n--xyz--") == [(PART_DATA, b"a" * 6), (PART_END, b"")]
    parser.close()
    assert parser.feed(b"ignored epilogue") == []


def test_parser_close_before_end_raises() -> None:
    parser = MultipartParser(b"xyz")
    parser.feed(b"--xyz\r\n\r\nabc")
    with pytest.raises(MultipartError):
        parser.close()


def test_request_form_passes_limits_and_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = pytest.importorskip("covet.requests")
    body = multipart(('Content-Disposition: form-data; name="f"; filename="a.txt"', b"data"))
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": body[10:]},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", MULTIPART.encode())],
    }

    async def go() -> None:
        request = requests.Request(scope, receive)
        form = await request.form(max_files=1)
        upload = form["f"]
        assert await upload.read() == b"data"
        await request.close()
        assert upload.file.closed

    run(go())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text/plain", ("text/plain", {})),
        ('Text/HTML; Charset="utf-8"; q', ("text/html", {"charset": "utf-8"})),
        (r'a/b; x="q\"uote;d"; y=2', ("a/b", {"x": 'q"uote;d', "y": "2"})),
        ("", ("", {})),
    ],
)
def test_parse_options_header(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_options_header(value) == expected


# -- property: any content, any chunking, same result ------------------------------------------

_content = st.binary(max_size=300).map(lambda b: b.replace(b"covet-boundary", b"x"))


@settings(max_examples=60, deadline=None, database=None)
@given(
    parts=st.lists(st.tuples(st.booleans(), _content), min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=8),
)
def test_multipart_property_any_content_any_chunking(
    parts: list[tuple[bool, bytes]], cuts: list[int]
) -> None:
    body = multipart(
        *(
            (
                f'Content-Disposition: form-data; name="p{i}"'
                + (f'; filename="f{i}.bin"' if is_file else ""),
                data,
            )
            for i, (is_file, data) in enumerate(parts)
        )
    )

    async def split() -> AsyncIterator[bytes]:
        position, turn = 0, 0
        while position < len(body):
            size = cuts[turn % len(cuts)]
            yield body[position : position + size]
            position += size
            turn += 1

    async def go() -> list[tuple[str, Any]]:
        form = await parse_form(split(), MULTIPART)
        out: list[tuple[str, Any]] = []
        for name, value in form.multi_items():
            out.append((name, await value.read() if isinstance(value, UploadFile) else value))
        await form.close()
        return out

    expected = [
        (f"p{i}", data if is_file else data.decode("utf-8", "replace"))
        for i, (is_file, data) in enumerate(parts)
    ]
    assert run(go()) == expected
