"""Path parameter convertors: ``{name}``, ``{name:int}``, ``{name:float}``, ``{name:path}``,
``{name:uuid}``.

A convertor is a regex for the raw text plus two functions between text and value. Register
your own with :func:`register_convertor` before declaring the routes that use it.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar

from covet.exceptions import ConfigurationError

__all__ = [
    "CONVERTOR_TYPES",
    "Convertor",
    "FloatConvertor",
    "IntegerConvertor",
    "PathConvertor",
    "StringConvertor",
    "UUIDConvertor",
    "register_convertor",
]


class Convertor:
    """Base class: ``regex`` matches the text, ``convert`` parses it, ``to_string`` renders it.

    ``convert`` may raise ``ValueError`` to reject text the regex let through: the path then
    does not match (404), exactly as if the regex had failed. ``regex`` must not contain
    named groups (use ``(?:...)``): it is embedded in the route's own pattern.
    """

    regex: ClassVar[str] = ""

    def convert(self, value: str) -> Any:
        return value

    def to_string(self, value: Any) -> str:
        return str(value)


class StringConvertor(Convertor):
    regex = "[^/]+"

    def to_string(self, value: Any) -> str:
        text = str(value)
        if not text or "/" in text:
            raise ValueError("a str path parameter must be non-empty and contain no '/'")
        return text


class PathConvertor(Convertor):
    regex = ".*"


class IntegerConvertor(Convertor):
    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: Any) -> str:
        number = int(value)
        if number < 0:
            raise ValueError("an int path parameter must not be negative")
        return str(number)


class FloatConvertor(Convertor):
    regex = r"[0-9]+(?:\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: Any) -> str:
        number = float(value)
        if number < 0 or not math.isfinite(number):
            raise ValueError("a float path parameter must be finite and not negative")
        return f"{number:.20f}".rstrip("0").rstrip(".")


class UUIDConvertor(Convertor):
    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: Any) -> str:
        return str(uuid.UUID(str(value)))


CONVERTOR_TYPES: dict[str, Convertor] = {
    "str": StringConvertor(),
    "path": PathConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
}


def register_convertor(name: str, convertor: Convertor) -> None:
    """Make ``{param:name}`` available to routes declared from now on.

    Example::

        class SlugConvertor(Convertor):
            regex = "[a-z0-9-]+"

        register_convertor("slug", SlugConvertor())
    """
    if not name.isidentifier():
        raise ConfigurationError(f"convertor name {name!r} must be an identifier")
    CONVERTOR_TYPES[name] = convertor
