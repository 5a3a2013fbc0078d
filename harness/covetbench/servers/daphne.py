"""daphne (Twisted): one process, no workers and no ASGI lifespan."""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

from covetbench.servers._cli import CLIServerAdapter, Invocation
from covetbench.servers.tls import TLSFiles


def _endpoint_value(value: object) -> str:
    """A value inside a Twisted endpoint string: `:` and `=` separate fields, so escaped."""
    return str(value).replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


class DaphneServer(CLIServerAdapter):
    """daphne `-b HOST -p PORT -v 0`: verbosity 0 turns its stdout access log off.

    daphne has no worker option (workers > 1 is a UsageError) and never sends lifespan events.
    Over TLS it listens on a Twisted `ssl:` endpoint (`-e`) in place of `-b`/`-p`, which needs
    pyOpenSSL.
    """

    name = "daphne"
    distribution = "daphne"
    module = "daphne"
    supports_lifespan = False
    supports_workers = False
    defaults: ClassVar[dict[str, Any]] = {"verbosity": 0}

    def tls_unsupported(self) -> str | None:
        if importlib.util.find_spec("OpenSSL") is None:
            return "daphne serves TLS through Twisted, which needs pyOpenSSL (not installed)"
        return None

    def tls_arguments(self, tls: TLSFiles, host: str, port: int) -> list[str]:
        fields = {
            "port": port,
            "interface": host,
            "privateKey": tls.keyfile,
            "certKey": tls.certfile,
        }
        endpoint = ":".join(f"{key}={_endpoint_value(value)}" for key, value in fields.items())
        return ["-e", f"ssl:{endpoint}"]

    def arguments(self, run: Invocation) -> list[str]:
        verbosity = int(run.settings["verbosity"])
        # over TLS the `-e ssl:` endpoint is its only listener: `-b`/`-p` would add plain HTTP
        argv = [] if run.options.tls else ["-b", run.host, "-p", str(run.port)]
        argv += ["-v", str(verbosity)]
        if run.options.access_log:
            argv += ["--access-log", "-"]
        return [*argv, run.app.import_string]
