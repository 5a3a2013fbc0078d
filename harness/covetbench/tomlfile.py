"""Reading the harness's TOML inputs (suites, the claims ledger, conformance cases, the parser
corpus) with one error shape: `SuiteError` naming the file and, for bad TOML, the line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from covetbench.exceptions import SuiteError

_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of `path` and its parsed tables; the text lets callers name an entry's line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(str(path), None, None, f"cannot read: {exc.strerror}") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _AT_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        raise SuiteError(str(path), line, None, f"not valid TOML: {exc}") from None
