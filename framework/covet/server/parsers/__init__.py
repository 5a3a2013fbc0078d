"""HTTP/1.1 request parsers, registered by name; all feed the same request cycle.

parser_class = get_parser_class("python")     # or "httptools", or "auto"
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import cast

from covet.server.exceptions import ServerConfigError
from covet.server.parsers.base import ParserLimits, ParserOwner, RequestInfo, RequestParser

PARSERS: dict[str, str] = {
    "python": "covet.server.parsers.python:PythonParser",
    "httptools": "covet.server.parsers.httptools:HttptoolsParser",
}


def available_parsers() -> list[str]:
    """Names of the parsers importable here."""
    names = ["python"]
    if importlib.util.find_spec("httptools") is not None:
        names.append("httptools")
    return names


def get_parser_class(name: str) -> type[RequestParser]:
    """The parser class registered as `name`; `auto` prefers httptools when installed."""
    if name == "auto":
        name = available_parsers()[-1]
    try:
        module_name, attr = PARSERS[name].split(":")
    except KeyError:
        raise ServerConfigError(
            f"unknown parser {name!r}; choose from {', '.join(PARSERS)}"
        ) from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ServerConfigError(
            f"parser {name!r} needs a package that is not installed: {exc.name} "
            "(pip install 'covetpy[speed]')"
        ) from exc
    return cast(type[RequestParser], getattr(module, attr))


__all__ = [
    "PARSERS",
    "ParserLimits",
    "ParserOwner",
    "RequestInfo",
    "RequestParser",
    "available_parsers",
    "get_parser_class",
]
