"""hypercorn with its uvloop worker class (`-k uvloop`), HTTP/1.1 and h2c on one bind."""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter, Invocation
from covetbench.servers.base import bind_host


class HypercornServer(CLIServerAdapter):
    """hypercorn `-k uvloop`, error log at warning, no access log (its default)."""

    name = "hypercorn"
    distribution = "hypercorn"
    module = "hypercorn"
    tls_options = ("--certfile", "--keyfile")
    defaults: ClassVar[dict[str, Any]] = {
        "worker_class": "uvloop",
        "log_level": "warning",
        "keep_alive": 5,
    }

    def arguments(self, run: Invocation) -> list[str]:
        argv = [
            "-k",
            str(run.settings["worker_class"]),
            "-b",
            f"{bind_host(run.host)}:{run.port}",
            "-w",
            str(run.options.workers),
            *run.long_options("log_level", "keep_alive"),
        ]
        if run.options.access_log:
            argv += ["--access-logfile", "-"]
        return [*argv, run.app.import_string]
