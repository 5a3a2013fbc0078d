"""Reading a suite's TOML tables with positions: tomllib reports no line for a value, and
every suite error must name file, line and field (`quick.toml:7: field 'trials': ...`).

    locator = Locator(text)
    reader = TableReader(path, locator, table, variant=None)
    trials = reader.integer("trials", minimum=1)

It also holds the small builders of `SuiteOverrides` fields (`override`, `comma_list`), which
say how the command line reads each value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from covetbench.exceptions import SuiteError


class Locator:
    """Finds the line of a key in TOML text: tomllib reports no positions for values."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _section_bounds(self, variant: int | None) -> tuple[int, int]:
        headers = [
            i for i, line in enumerate(self.lines) if re.match(r"^\s*\[", line.split("#")[0])
        ]
        variants = [i for i in headers if re.match(r"^\s*\[\[\s*variant\s*\]\]", self.lines[i])]
        if variant is None:
            return 0, headers[0] if headers else len(self.lines)
        if variant >= len(variants):
            return 0, len(self.lines)
        start = variants[variant]
        after = [i for i in headers if i > start]
        return start, after[0] if after else len(self.lines)

    def line(self, key: str, variant: int | None = None, value: str | None = None) -> int | None:
        """1-based line of `key = ...` (of the string `value` inside it, when given)."""
        start, end = self._section_bounds(variant)
        if key == "variant" and variant is not None:
            return start + 1
        pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                if value is not None:
                    for j in range(i, end):
                        if f'"{value}"' in self.lines[j] or f"'{value}'" in self.lines[j]:
                            return j + 1
                return i + 1
        return None


def where(key: str, variant: int | None) -> str:
    """How an error names a field: `trials`, or `variant[0].scenarios` inside a variant."""
    return key if variant is None else f"variant[{variant}].{key}"


class TableReader:
    """Type-checks one table of a suite, raising SuiteError at the offending key's line."""

    def __init__(self, path: Path, locator: Locator, table: dict[str, Any], variant: int | None):
        self.path = path
        self.locator = locator
        self.table = table
        self.variant = variant

    def fail(self, key: str, message: str, value: str | None = None) -> SuiteError:
        field = where(key, self.variant)
        line = self.locator.line(key, self.variant, value)
        if line is None and self.variant is not None:
            line = self.locator.line("variant", self.variant)
        return SuiteError(str(self.path), line, field, message)

    def check_keys(self, allowed: Sequence[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown key; valid keys: {', '.join(allowed)}")

    def names(self, key: str) -> tuple[str, ...] | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a non-empty list of names")
        for item in value:
            if not isinstance(item, str) or not item:
                raise self.fail(key, f"expected names (strings), got {item!r}")
        return tuple(dict.fromkeys(value))

    def integer(self, key: str, minimum: int) -> int | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def integers(self, key: str, minimum: int) -> tuple[int, ...] | None:
        if key not in self.table:
            return None
        value = self.table[key]
        values = [value] if isinstance(value, int) else value
        if not isinstance(values, list) or not values:
            raise self.fail(key, "expected a whole number or a non-empty list of them")
        for item in values:
            if isinstance(item, bool) or not isinstance(item, int) or item < minimum:
                raise self.fail(key, f"expected whole numbers >= {minimum}, got {item!r}")
        return tuple(dict.fromkeys(values))

    def number(self, key: str, minimum: float) -> float | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= minimum:
            raise self.fail(key, f"expected a number > {minimum}, got {value!r}")
        return float(value)

    def text(self, key: str) -> str | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def flag(self, key: str) -> bool | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value


def comma_list(kind: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    """An argparse `type` turning `a,b,c` into a list of `kind` values."""

    def parse(text: str) -> list[Any]:
        return [kind(part.strip()) for part in text.split(",") if part.strip()]

    parse.__name__ = f"comma-separated {kind.__name__}"
    return parse


def override(
    description: str,
    parse: Callable[[str], Any],
    minimum: int | None = None,
    metavar: str | None = None,
    *,
    flag: bool = False,
) -> Any:
    """A `SuiteOverrides` field: None by default, described for the command line (`flag`: an
    option without a value, which sets True)."""
    metadata: dict[str, Any] = {"help": description, "parse": parse, "flag": flag}
    if metavar is not None:
        metadata["metavar"] = metavar
    if minimum is not None:
        metadata["minimum"] = minimum
    return field(default=None, metadata=metadata)
