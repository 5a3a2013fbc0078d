"""hypercorn with its uvloop worker class (`-k uvloop`), HTTP/1.1 and h2c on one bind."""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter, bind_host
from covetbench.servers.base import AppTarget, ServerOptions


class HypercornServer(CLIServerAdapter):
    """hypercorn `-k uvloop`, error log at warning, no access log (its default)."""

    name = "hypercorn"
    distribution = "hypercorn"
    module = "hypercorn"
    defaults: ClassVar[dict[str, Any]] = {
        "worker_class": "uvloop",
        "log_level": "warning",
        "keep_alive": 5,
    }

    def arguments(
        self,
        app: AppTarget,
        host: str,
        port: int,
        options: ServerOptions,
        settings: dict[str, Any],
    ) -> list[str]:
        argv = [
            "-k",
            str(settings["worker_class"]),
            "-b",
            f"{bind_host(host)}:{port}",
            "-w",
            str(options.workers),
            "--log-level",
            str(settings["log_level"]),
            "--keep-alive",
            str(settings["keep_alive"]),
        ]
        if options.access_log:
            argv += ["--access-logfile", "-"]
        return [*argv, app.import_string]
