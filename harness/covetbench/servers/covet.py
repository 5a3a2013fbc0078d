"""covet's own server, launched like any other: `python -m covet serve MODULE:ATTR ...`.

The harness never imports covet: `is_installed()` looks for the `covet.server` package on disk
(`importlib.util.find_spec` on `covet`, then a path search for `server` inside it) without
executing any of covet's code.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter, Invocation
from covetbench.servers.base import ServerOptions

_PARSER_LINE = re.compile(r"covet serving on \S+ \((\w+) parser")


def covet_server_available() -> bool:
    """True when `covet.server` could be imported, checked without importing covet."""
    try:
        spec = importlib.util.find_spec("covet")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    found = importlib.machinery.PathFinder.find_spec(
        "covet.server", list(spec.submodule_search_locations)
    )
    return found is not None


class CovetServer(CLIServerAdapter):
    """covet's server with its automatic parser choice (httptools when installed)."""

    name = "covet"
    distribution = "covetpy"
    module = "covet"
    tls_options = ("--ssl-certfile", "--ssl-keyfile")
    defaults: ClassVar[dict[str, Any]] = {"http": "auto", "loop": "auto"}
    install_hint: ClassVar[str] = (
        "covet's server lives in this repo (framework/covet/server): pip install -e ."
    )

    def is_installed(self) -> bool:
        return self.version() is not None and covet_server_available()

    def parser(self, options: ServerOptions, log_text: str = "") -> str | None:
        """The `--http` setting; `auto` resolved from the server's start line in its log
        ("covet serving on ... (httptools parser, ...)")."""
        setting = str(self.settings(options)["http"])
        if setting == "auto":
            found = _PARSER_LINE.search(log_text)
            return found.group(1) if found else setting
        return setting

    def arguments(self, run: Invocation) -> list[str]:
        return [
            "serve",
            run.app.import_string,
            *run.bind_options(),
            *run.long_options("http", "loop"),
            run.access_log_switch(),
        ]


class CovetPythonServer(CovetServer):
    """covet's server with its pure-Python HTTP parser."""

    name = "covet-python"
    defaults: ClassVar[dict[str, Any]] = {**CovetServer.defaults, "http": "python"}
