"""Shared shape of the adapters that start a server as `python -m <module> ...`.

Each adapter declares its production `defaults` (event loop, parser, log level...); a key of the
same name in `ServerOptions.extra` overrides one for a run, and `extra["args"]` (a list of
strings) is appended verbatim. `settings()` is what `command()` applied, so it is recorded.
An adapter writes only its `arguments`, from an `Invocation` that renders the common pieces:

    def arguments(self, run: Invocation) -> list[str]:
        return [run.app.import_string, *run.bind_options(), *run.long_options("loop")]
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from covetbench.exceptions import UsageError
from covetbench.servers.base import AppTarget, ServerAdapter, ServerOptions


@dataclass(frozen=True)
class Invocation:
    """What one command line is made of: the app, its bind, the run's options, the settings."""

    app: AppTarget
    host: str
    port: int
    options: ServerOptions
    settings: dict[str, Any]

    def bind_options(self) -> list[str]:
        """`--host H --port P --workers N`, as uvicorn, granian and covet spell them."""
        return [
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.options.workers),
        ]

    def long_options(self, *keys: str) -> list[str]:
        """`--key-name value` for each setting in `keys`, in that order (`_` becomes `-`)."""
        return [part for key in keys for part in (_long_flag(key), str(self.settings[key]))]

    def access_log_switch(self) -> str:
        return switch("access-log", self.options.access_log)


class CLIServerAdapter(ServerAdapter):
    """A server run as `sys.executable -m <module>` with options from `defaults`."""

    #: module run with `python -m`
    module: ClassVar[str]
    #: production settings, overridable per run through `ServerOptions.extra`
    defaults: ClassVar[dict[str, Any]] = {}
    #: what to run when `is_installed()` is False
    install_hint: ClassVar[str] = "pip install 'covetpy[bench]' (ci/setup installs every extra)"

    def settings(self, options: ServerOptions) -> dict[str, Any]:
        merged = dict(self.defaults)
        for key in self.defaults:
            if key in options.extra:
                merged[key] = options.extra[key]
        return merged

    def command(self, app: AppTarget, host: str, port: int, options: ServerOptions) -> list[str]:
        if options.workers < 1:
            raise UsageError(f"{self.name}: workers must be >= 1, got {options.workers}")
        if options.workers > 1 and not self.supports_workers:
            raise UsageError(f"{self.name} has no worker processes: run it with workers=1")
        extra_args = options.extra.get("args", [])
        if not isinstance(extra_args, list) or not all(isinstance(a, str) for a in extra_args):
            raise UsageError(f"{self.name}: extra 'args' must be a list of strings")
        run = Invocation(app, host, port, options, self.settings(options))
        tls = self.tls_arguments(options.tls, host, port) if options.tls else []
        return [self.python(), "-m", self.module, *self.arguments(run), *tls, *extra_args]

    @abstractmethod
    def arguments(self, run: Invocation) -> list[str]:
        """The arguments after `python -m <module>`."""


def switch(name: str, on: object) -> str:
    """`--name` when `on` is truthy, else `--no-name`."""
    return f"--{name}" if on else f"--no-{name}"


def _long_flag(key: str) -> str:
    return "--" + key.replace("_", "-")
