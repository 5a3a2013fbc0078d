"""Value types for the parts of a request: URL, query parameters, headers, state.

Everything here parses lazily from the raw ASGI values and never copies more than it must.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence, ValuesView
from typing import Any, NamedTuple
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from covet.types import Scope

__all__ = [
    "URL",
    "Address",
    "Headers",
    "ImmutableMultiDict",
    "MutableHeaders",
    "QueryParams",
    "State",
]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class Address(NamedTuple):
    """The client or server end of a connection."""

    host: str
    port: int


class URL:
    """A parsed URL, built from a string or from an ASGI scope.

    Example::

        url = URL("https://example.com/a?b=1")
        url.path, url.query, url.replace(path="/c")
    """

    __slots__ = ("_url", "_split")

    def __init__(self, url: str = "", *, scope: Scope | None = None) -> None:
        if scope is not None:
            url = _url_from_scope(scope)
        self._url = url
        self._split: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        if self._split is None:
            self._split = urlsplit(self._url)
        return self._split

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **kwargs: Any) -> URL:
        """A copy with components replaced (``scheme``, ``netloc``, ``path``, ``query``...)."""
        if {"hostname", "port"} & kwargs.keys():
            hostname = kwargs.pop("hostname", None) or self.hostname or ""
            port = kwargs.pop("port", self.port)
            kwargs["netloc"] = hostname if port is None else f"{hostname}:{port}"
        return URL(self.components._replace(**kwargs).geturl())

    def include_query_params(self, **params: Any) -> URL:
        query = QueryParams(self.query)
        items = [(k, v) for k, v in query.multi_items() if k not in params]
        items.extend((k, str(v)) for k, v in params.items())
        return self.replace(query=urlencode(items))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"


def _url_from_scope(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    server = scope.get("server")
    path = scope["path"]
    query_string = scope.get("query_string", b"")
    host = None
    for key, value in scope.get("headers", ()):
        if key == b"host":
            host = value.decode("latin-1")
            break
    if host is not None:
        url = f"{scheme}://{host}{path}"
    elif server is None:
        url = path
    else:
        name, port = server
        if _DEFAULT_PORTS.get(scheme) == port:
            url = f"{scheme}://{name}{path}"
        else:
            url = f"{scheme}://{name}:{port}{path}"
    if query_string:
        url += "?" + query_string.decode("latin-1")
    return url


class ImmutableMultiDict(Mapping[str, str]):
    """A mapping that keeps every value of repeated keys; ``d[key]`` gives the last one."""

    __slots__ = ("_list", "_dict")

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        if isinstance(items, Mapping):
            if isinstance(items, ImmutableMultiDict):
                pairs = list(items.multi_items())
            else:
                pairs = list(items.items())
        else:
            pairs = list(items)
        self._list = pairs
        self._dict = dict(pairs)

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key`` in order (empty list when absent)."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._list)

    def keys(self) -> KeysView[str]:
        return self._dict.keys()

    def values(self) -> ValuesView[str]:
        return self._dict.values()

    def items(self) -> ItemsView[str, str]:
        return self._dict.items()

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImmutableMultiDict):
            return NotImplemented
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(ImmutableMultiDict):
    """Query-string parameters, multi-valued.

    Example::

        QueryParams("a=1&a=2").getlist("a") == ["1", "2"]
    """

    __slots__ = ()

    def __init__(
        self, query: str | bytes | Iterable[tuple[str, str]] | Mapping[str, str] = ()
    ) -> None:
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        if isinstance(query, str):
            super().__init__(parse_qsl(query, keep_blank_values=True))
        else:
            super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._list)


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued request or response headers over the raw ASGI list.

    ``headers["Content-Type"]`` gives the first value; ``getlist`` gives all of them.
    """

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: Scope | None = None,
    ) -> None:
        if headers is not None:
            self._list: list[tuple[bytes, bytes]] = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]
        elif raw is not None:
            self._list = raw
        elif scope is not None:
            # Mutations through MutableHeaders(scope=message) must reach the message itself.
            if not isinstance(scope["headers"], list):
                scope["headers"] = list(scope["headers"])
            self._list = scope["headers"]
        else:
            self._list = []

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._list

    def keys(self) -> list[str]:  # type: ignore[override]
        return [k.decode("latin-1") for k, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [v.decode("latin-1") for _, v in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._list]

    def getlist(self, key: str) -> list[str]:
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self._list if k == name]

    def get(self, key: str, default: Any = None) -> Any:
        name = key.lower().encode("latin-1")
        for k, v in self._list:
            if k == name:
                return v.decode("latin-1")
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1")
        return any(k == name for k, _ in self._list)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items()!r})"


_MISSING = object()


class MutableHeaders(Headers):
    """Headers that can be changed in place; the raw list is shared, not copied."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Replace every value of ``key`` with one ``value``."""
        name = key.lower().encode("latin-1")
        encoded = value.encode("latin-1")
        found = [i for i, (k, _) in enumerate(self._list) if k == name]
        for i in reversed(found[1:]):
            del self._list[i]
        if found:
            self._list[found[0]] = (name, encoded)
        else:
            self._list.append((name, encoded))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self._list[:] = [(k, v) for k, v in self._list if k != name]

    def append(self, key: str, value: str) -> None:
        """Add a value without removing existing ones (e.g. ``set-cookie``)."""
        self._list.append((key.lower().encode("latin-1"), value.encode("latin-1")))

    def setdefault(self, key: str, value: str) -> str:
        current = self.get(key)
        if current is None:
            self.append(key, value)
            return value
        return current  # type: ignore[no-any-return]

    def update(self, other: Mapping[str, str] | Sequence[tuple[str, str]]) -> None:
        pairs = other.items() if isinstance(other, Mapping) else other
        for key, value in pairs:
            self[key] = value

    def add_vary_header(self, vary: str) -> None:
        existing = self.get("vary")
        self["vary"] = f"{existing}, {vary}" if existing else vary


class State:
    """Attribute access over a dict: ``request.state.db`` reads ``scope["state"]["db"]``."""

    __slots__ = ("_state",)

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._state[name]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._state[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._state[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._state

    def __repr__(self) -> str:
        return f"State({self._state!r})"
