from __future__ import annotations

from covetbench.conformance.matcher import matches
from covetbench.net.rawclient import RawExchange, parse_responses


def test_parse_interim_chunked_and_content_length() -> None:
    buf = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop"
    )
    finals, interim, rest = parse_responses(buf, closed=False)
    assert [r.status for r in interim] == [100]
    assert [r.status for r in finals] == [200, 404]
    assert finals[0].chunked and finals[0].body == b"hello"
    assert finals[0].trailers == [("X-T", "1")]
    assert finals[1].body == b"nop" and rest == b""


def test_head_and_close_delimited_bodies() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    finals, _, _ = parse_responses(head + head + b"hello", False, bodiless={0})
    assert [r.body for r in finals] == [b"", b"hello"]
    open_ended = b"HTTP/1.0 200 OK\r\n\r\nstream"
    assert parse_responses(open_ended, closed=False)[0] == []
    assert parse_responses(open_ended, closed=True)[0][0].body == b"stream"


def test_incomplete_body_is_kept_when_closed() -> None:
    finals, _, _ = parse_responses(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\npart", True)
    assert finals[0].body == b"part" and not finals[0].complete


def _exchange(buf: bytes, closed: bool) -> RawExchange:
    ex = RawExchange(sent=b"", received=buf, closed=closed)
    ex.responses, ex.interim, ex.leftover = parse_responses(buf, closed)
    return ex


def test_matcher_conditions() -> None:
    body = b'{"scope": {"http_version": "1.1", "headers": [[{"b64": "eC1h"}, {"b64": "MQ=="}]]}}'
    buf = (
        b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nSet-Cookie: a\r\n"
        b"Set-Cookie: b\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    ex = _exchange(buf, closed=True)
    assert matches({"status": "2xx", "closed": True, "responses": 1}, ex)
    assert matches({"header": {"date": "GMT$"}, "header_count": {"set-cookie": 2}}, ex)
    assert matches({"json": {"scope.http_version": {"equals": "1.1"}}}, ex)
    assert matches({"scope_header": {"x-a": ["1"]}, "scope_headers_lowercase": True}, ex)
    assert not matches({"status": 400}, ex)
    assert not matches({"closed": False}, ex)
    assert not matches({"json": {"scope.client": {"present": True}}}, ex)
    assert not matches({"header_absent": ["date"]}, ex)
    assert matches({"header_order": ["date", "set-cookie"]}, ex)
    assert not matches({"header_order": ["set-cookie", "date"]}, ex)
    assert not matches({"received_not_contains": "http_version"}, ex)
