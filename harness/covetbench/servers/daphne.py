"""daphne (Twisted): one process, no workers and no ASGI lifespan."""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter
from covetbench.servers.base import AppTarget, ServerOptions


class DaphneServer(CLIServerAdapter):
    """daphne `-b HOST -p PORT -v 0`: verbosity 0 turns its stdout access log off.

    daphne has no worker option (workers > 1 is a UsageError) and never sends lifespan events.
    """

    name = "daphne"
    distribution = "daphne"
    module = "daphne"
    supports_lifespan = False
    supports_workers = False
    defaults: ClassVar[dict[str, Any]] = {"verbosity": 0}

    def arguments(
        self,
        app: AppTarget,
        host: str,
        port: int,
        options: ServerOptions,
        settings: dict[str, Any],
    ) -> list[str]:
        verbosity = int(settings["verbosity"])
        argv = ["-b", host, "-p", str(port), "-v", str(verbosity)]
        if options.access_log:
            argv += ["--access-log", "-"]
        return [*argv, app.import_string]
