"""daphne (Twisted): one process, no workers and no ASGI lifespan."""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter, Invocation


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

    def arguments(self, run: Invocation) -> list[str]:
        verbosity = int(run.settings["verbosity"])
        argv = ["-b", run.host, "-p", str(run.port), "-v", str(verbosity)]
        if run.options.access_log:
            argv += ["--access-log", "-"]
        return [*argv, run.app.import_string]
