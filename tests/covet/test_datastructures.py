from __future__ import annotations

from typing import Any

import pytest

from covet.datastructures import (
    URL,
    Headers,
    ImmutableMultiDict,
    MutableHeaders,
    QueryParams,
    State,
)


def test_url_from_string() -> None:
    url = URL("https://user@example.com:8443/a/b?x=1&y=2#frag")
    assert (url.scheme, url.netloc, url.path) == ("https", "user@example.com:8443", "/a/b")
    assert (url.query, url.fragment, url.hostname, url.port) == (
        "x=1&y=2",
        "frag",
        "example.com",
        8443,
    )
    assert url.is_secure
    assert str(url.replace(path="/c")) == "https://user@example.com:8443/c?x=1&y=2#frag"
    assert str(URL("http://a.com:1/").replace(hostname="b.com")) == "http://b.com:1/"
    assert str(URL("http://a.com/").replace(port=81)) == "http://a.com:81/"
    assert str(URL("http://a/p?x=1&y=2").include_query_params(x=3)) == "http://a/p?y=2&x=3"
    assert url == str(url)
    assert hash(url) == hash(URL(str(url)))
    assert repr(URL("/x")) == "URL('/x')"


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"scheme": "http", "server": ("h", 80), "path": "/p", "headers": []}, "http://h/p"),
        (
            {"scheme": "https", "server": ("h", 8443), "path": "/p", "headers": []},
            "https://h:8443/p",
        ),
        ({"path": "/p", "headers": [], "query_string": b"a=1"}, "/p?a=1"),
        (
            {"scheme": "ws", "server": ("h", 1), "path": "/p", "headers": [(b"host", b"x.org")]},
            "ws://x.org/p",
        ),
    ],
    ids=["default-port", "custom-port", "no-server", "host-header"],
)
def test_url_from_scope(scope: dict[str, object], expected: str) -> None:
    assert str(URL(scope=scope)) == expected


def test_query_params() -> None:
    query = QueryParams("a=1&a=2&b=&c=%20x")
    assert query["a"] == "2"
    assert query.getlist("a") == ["1", "2"]
    assert query["b"] == ""
    assert query["c"] == " x"
    assert query.getlist("missing") == []
    assert "a" in query and "z" not in query
    assert list(query) == ["a", "b", "c"]
    assert len(query) == 3
    assert list(query.keys()) == ["a", "b", "c"]
    assert list(query.values()) == ["2", "", " x"]
    assert dict(query.items()) == {"a": "2", "b": "", "c": " x"}
    assert str(query) == "a=1&a=2&b=&c=+x"
    assert QueryParams(b"a=1") == QueryParams([("a", "1")]) == QueryParams({"a": "1"})
    assert QueryParams("a=1") != QueryParams("a=2")
    assert QueryParams("a=1").__eq__(object()) is NotImplemented
    assert ImmutableMultiDict(QueryParams("a=1&a=2")).getlist("a") == ["1", "2"]
    assert "a" in repr(query)


def test_headers() -> None:
    headers = Headers(raw=[(b"content-type", b"text/plain"), (b"x-a", b"1"), (b"x-a", b"2")])
    assert headers["Content-Type"] == "text/plain"
    assert headers.get("X-A") == "1"
    assert headers.getlist("x-a") == ["1", "2"]
    assert headers.get("missing") is None
    assert "X-A" in headers and "nope" not in headers
    assert not headers.__contains__(1)
    assert headers.keys() == ["content-type", "x-a", "x-a"]
    assert headers.values() == ["text/plain", "1", "2"]
    assert len(headers) == 3
    assert list(headers) == ["content-type", "x-a", "x-a"]
    with pytest.raises(KeyError):
        headers["missing"]
    assert Headers({"X-B": "v"}).raw == [(b"x-b", b"v")]
    assert Headers() == Headers(raw=[])
    assert Headers().__eq__(1) is NotImplemented
    assert "content-type" in repr(headers)


def test_mutable_headers() -> None:
    message: dict[str, Any] = {"headers": ((b"a", b"1"), (b"b", b"2"), (b"b", b"3"))}
    headers = MutableHeaders(scope=message)
    headers["B"] = "4"
    assert message["headers"] == [(b"a", b"1"), (b"b", b"4")]
    headers["c"] = "5"
    headers.append("c", "6")
    assert headers.getlist("c") == ["5", "6"]
    del headers["c"]
    assert "c" not in headers
    assert headers.setdefault("a", "x") == "1"
    assert headers.setdefault("d", "x") == "x"
    headers.update({"a": "9"})
    headers.update([("e", "1")])
    assert headers["a"] == "9" and headers["e"] == "1"
    headers.add_vary_header("Origin")
    headers.add_vary_header("Accept")
    assert headers["vary"] == "Origin, Accept"


def test_state() -> None:
    state = State()
    state.x = 1
    assert state.x == 1
    assert "x" in state
    del state.x
    with pytest.raises(AttributeError):
        state.x  # noqa: B018
    with pytest.raises(AttributeError):
        del state.x
    shared: dict[str, object] = {"y": 2}
    assert State(shared).y == 2
    assert repr(State(shared)) == "State({'y': 2})"
