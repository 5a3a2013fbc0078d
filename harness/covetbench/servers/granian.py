"""granian (Rust HTTP core) serving the app through its ASGI interface, WebSockets on."""

from __future__ import annotations

from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter, Invocation, switch


class GranianServer(CLIServerAdapter):
    """granian `--interface asgi` on uvloop, one runtime thread per worker, log level warning.

    granian's access log is off by default; `--no-access-log` is passed anyway so the command
    line says it.
    """

    name = "granian"
    root_path_option = "--url-path-prefix"  # granian's word for the ASGI root path
    distribution = "granian"
    module = "granian"
    tls_options = ("--ssl-certificate", "--ssl-keyfile")  # the key must be PKCS#8: it is
    defaults: ClassVar[dict[str, Any]] = {
        "interface": "asgi",
        "http": "auto",
        "loop": "uvloop",
        "runtime_threads": 1,
        "ws": True,
        "log_level": "warning",
    }

    def arguments(self, run: Invocation) -> list[str]:
        return [
            *run.long_options("interface"),
            *run.bind_options(),
            *run.long_options("http", "loop", "runtime_threads"),
            switch("ws", run.settings["ws"]),
            *run.long_options("log_level"),
            run.access_log_switch(),
            run.app.import_string,
        ]
