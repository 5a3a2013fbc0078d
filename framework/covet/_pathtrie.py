"""Path templates and the per-segment trie that matches dynamic routes.

A template such as ``/users/{user_id:int}/posts`` is split at ``/``. Literal segments become
dict keys, segments holding parameters become one precompiled regex each, and a ``path``
parameter turns the rest of the template into one regex over the rest of the path. Matching
walks the segments once, so its cost grows with the depth of the path, not with the number
of routes: 100 routes cost about what 1 does. Literal children are tried before parameters,
so ``/users/me`` wins over ``/users/{name}`` whatever the declaration order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from covet.convertors import CONVERTOR_TYPES, Convertor
from covet.exceptions import ConfigurationError, UnknownConvertorError

__all__ = ["PathTemplate", "PathTrie"]

_PARAM = re.compile(r"{([^{}:]*)(?::([^{}]*))?}")

T = TypeVar("T")

_Params = tuple[tuple[str, Convertor], ...]


class PathTemplate:
    """A parsed route path: its parameters, its static-ness and how to render it back."""

    __slots__ = ("path", "convertors", "is_static", "segments", "_format")

    def __init__(self, path: str) -> None:
        if not path.startswith("/"):
            raise ConfigurationError(f"route path {path!r} must start with '/'")
        self.path = path
        self.convertors: dict[str, Convertor] = {}
        self._format = ""
        last = 0
        for match in _PARAM.finditer(path):
            name, kind = match.group(1), match.group(2) or "str"
            if not name.isidentifier():
                raise ConfigurationError(
                    f"route path {path!r}: parameter name {name!r} is not an identifier"
                )
            if name in self.convertors:
                raise ConfigurationError(f"route path {path!r}: parameter {name!r} appears twice")
            convertor = CONVERTOR_TYPES.get(kind)
            if convertor is None:
                known = ", ".join(sorted(CONVERTOR_TYPES))
                raise UnknownConvertorError(
                    f"route path {path!r}: unknown convertor {kind!r} for {name!r} (known: {known})"
                )
            self.convertors[name] = convertor
            self._format += path[last : match.start()] + "{" + name + "}"
            last = match.end()
        self._format += path[last:]
        leftover = _PARAM.sub("", path)
        if "{" in leftover or "}" in leftover:
            raise ConfigurationError(f"route path {path!r} has an unbalanced brace")
        self.is_static = not self.convertors
        self.segments = path[1:].split("/")

    def render(self, params: Mapping[str, Any]) -> str:
        """The concrete path for ``params`` (which must name exactly this template's ones)."""
        return self._format.format_map(
            {name: conv.to_string(params[name]) for name, conv in self.convertors.items()}
        )


def _segment_regex(template: str) -> tuple[re.Pattern[str], _Params]:
    pattern = ""
    params: list[tuple[str, Convertor]] = []
    last = 0
    for match in _PARAM.finditer(template):
        name, kind = match.group(1), match.group(2) or "str"
        convertor = CONVERTOR_TYPES[kind]
        pattern += re.escape(template[last : match.start()]) + f"(?P<{name}>{convertor.regex})"
        params.append((name, convertor))
        last = match.end()
    pattern += re.escape(template[last:])
    return re.compile(pattern, re.DOTALL), tuple(params)


class _Node(Generic[T]):
    __slots__ = ("static", "dynamic", "tails", "leaf")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        # (segment template, regex, params, child), in declaration order
        self.dynamic: list[tuple[str, re.Pattern[str], _Params, _Node[T]]] = []
        # (rest template, regex, params, leaf holder) for templates with a ``path`` parameter
        self.tails: list[tuple[str, re.Pattern[str], _Params, _Node[T]]] = []
        self.leaf: T | None = None


def _convert(match: re.Match[str], params: _Params, out: dict[str, Any]) -> bool:
    for name, convertor in params:
        try:
            out[name] = convertor.convert(match.group(name))
        except ValueError:
            return False
    return True


class PathTrie(Generic[T]):
    """Maps dynamic path templates to values of type ``T`` (a route or a method table)."""

    __slots__ = ("_root",)

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()

    def setdefault(self, template: PathTemplate, factory: type[T]) -> T:
        """The value stored for ``template``, creating it with ``factory()`` when absent."""
        node = self._root
        segments = template.segments
        for index, segment in enumerate(segments):
            if "{" not in segment:
                node = node.static.setdefault(segment, _Node())
                continue
            if any(
                CONVERTOR_TYPES[m.group(2) or "str"].spans_segments
                for m in _PARAM.finditer("/".join(segments[index:]))
            ):
                node = self._child(node.tails, "/".join(segments[index:]))
                break
            node = self._child(node.dynamic, segment)
        if node.leaf is None:
            node.leaf = factory()
        return node.leaf

    @staticmethod
    def _child(
        children: list[tuple[str, re.Pattern[str], _Params, _Node[T]]], template: str
    ) -> _Node[T]:
        for existing, _, _, child in children:
            if existing == template:
                return child
        regex, params = _segment_regex(template)
        child = _Node[T]()
        children.append((template, regex, params, child))
        return child

    def match(self, path: str) -> tuple[T, dict[str, Any]] | None:
        """The value and converted parameters for ``path``, or ``None``."""
        if not path.startswith("/"):
            return None
        params: dict[str, Any] = {}
        leaf = self._walk(self._root, path[1:].split("/"), 0, params)
        return None if leaf is None else (leaf, params)

    def _walk(
        self, node: _Node[T], segments: list[str], index: int, out: dict[str, Any]
    ) -> T | None:
        if index == len(segments):
            return node.leaf
        segment = segments[index]
        child = node.static.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, out)
            if found is not None:
                return found
        for _, regex, params, child in node.dynamic:
            match = regex.fullmatch(segment)
            if match is None:
                continue
            values: dict[str, Any] = {}
            if not _convert(match, params, values):
                continue
            found = self._walk(child, segments, index + 1, out)
            if found is not None:
                out.update(values)
                return found
        if node.tails:
            rest = "/".join(segments[index:])
            for _, regex, params, child in node.tails:
                match = regex.fullmatch(rest)
                values = {}
                if match is not None and child.leaf is not None and _convert(match, params, values):
                    out.update(values)
                    return child.leaf
        return None
