"""Shared shape of the adapters that start a server as `python -m <module> ...`.

Each adapter declares its production `defaults` (event loop, parser, log level...); a key of the
same name in `ServerOptions.extra` overrides one for a run, and `extra["args"]` (a list of
strings) is appended verbatim. `settings()` is what `command()` applied, so it is recorded.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from covetbench.exceptions import UsageError
from covetbench.servers.base import AppTarget, ServerAdapter, ServerOptions


class CLIServerAdapter(ServerAdapter):
    """A server run as `sys.executable -m <module>` with options from `defaults`."""

    #: module run with `python -m`
    module: ClassVar[str]
    #: production settings, overridable per run through `ServerOptions.extra`
    defaults: ClassVar[dict[str, Any]] = {}
    #: False where the server has no worker processes of its own (daphne)
    supports_workers: ClassVar[bool] = True
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
        argv = [self.python(), "-m", self.module]
        argv += self.arguments(app, host, port, options, self.settings(options))
        return argv + list(extra_args)

    @abstractmethod
    def arguments(
        self,
        app: AppTarget,
        host: str,
        port: int,
        options: ServerOptions,
        settings: dict[str, Any],
    ) -> list[str]:
        """The arguments after `python -m <module>`."""


def bind_host(host: str) -> str:
    """`host` as it appears in a `host:port` bind string (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host
