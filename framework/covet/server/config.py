"""One typed configuration object for covet's server; the command line is derived from it.

    config = ServerConfig(port=8080, http="python", access_log=False)
    parser = argparse.ArgumentParser()
    ServerConfig.add_arguments(parser)          # --host, --port, ... --access-log/--no-access-log
    config = ServerConfig.from_namespace(parser.parse_args(["--port", "9000"]))

Each field's metadata holds its help text; the flag is the field name with dashes, booleans
become `--x/--no-x`, `Literal[...]` fields become choices.

WebSocket deadlines: the app must answer the handshake (accept, close or deny) within
`timeout_ws_handshake` seconds of the upgrade request, or the client gets a 503; data the client
sends meanwhile is held up to 64 KiB, then reading pauses. An open connection with nothing
received for `ws_ping_interval` seconds is pinged, and closed with 1011 when nothing (the pong or
any other frame) arrives within `ws_ping_timeout` more; 0 disables either (a ping interval
without a timeout still pings, which keeps NAT and proxy state alive).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal

from covet.server.exceptions import ServerConfigError
from covet.server.proxy_headers import parse_networks
from covet.server.types import ASGIApp

HTTPImpl = Literal["auto", "httptools", "python"]
LoopImpl = Literal["auto", "uvloop", "asyncio"]
LifespanMode = Literal["auto", "on", "off"]
LogFormat = Literal["text", "json"]


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class ServerConfig:
    """Every option of covet's server. Invalid values raise `ServerConfigError`."""

    host: str = _opt("127.0.0.1", "interface to bind")
    port: int = _opt(8000, "port to bind (0: any free port)")
    workers: int = _opt(1, "worker processes sharing the port (SO_REUSEPORT)")
    http: HTTPImpl = _opt("auto", "HTTP parser; auto picks httptools when installed")
    loop: LoopImpl = _opt("auto", "event loop; auto picks uvloop when installed")
    lifespan: LifespanMode = _opt("auto", "ASGI lifespan; auto tolerates apps without it")
    root_path: str = _opt("", "ASGI root_path (mount point behind a proxy)")
    timeout_keep_alive: float = _opt(5.0, "seconds an idle keep-alive connection stays open")
    timeout_header: float = _opt(10.0, "seconds a client has to send a complete request head")
    timeout_body: float = _opt(
        30.0, "seconds a request body may go without a byte while the server waits for it"
    )
    timeout_graceful_shutdown: float = _opt(30.0, "seconds in-flight requests get on shutdown")
    limit_concurrency: int | None = _opt(None, "answer 503 above this many connections/requests")
    max_body: int = _opt(16 * 1024 * 1024, "largest request body in bytes (413 above)")
    max_header_size: int = _opt(16 * 1024, "largest request head in bytes (431 above)")
    max_request_line: int = _opt(8 * 1024, "longest request line in bytes (414 above)")
    max_pipeline: int = _opt(64, "pipelined requests buffered before reading pauses")
    ws_max_size: int = _opt(16 * 1024 * 1024, "largest WebSocket message in bytes (1009 above)")
    timeout_ws_handshake: float = _opt(10.0, "seconds the app has to accept a WebSocket (503)")
    ws_ping_interval: float | None = _opt(20.0, "seconds idle before a WebSocket ping (0: none)")
    ws_ping_timeout: float | None = _opt(20.0, "seconds to wait for the pong, then 1011 (0: none)")
    backlog: int = _opt(2048, "listen backlog")
    reuse_port: bool = _opt(False, "set SO_REUSEPORT (always on with --workers > 1)")
    access_log: bool = _opt(True, "log one line per request")
    server_header: bool = _opt(True, "send a 'server: covet' header")
    uds: str | None = _opt(None, "listen on this Unix domain socket path instead of host:port")
    fd: int | None = _opt(
        None, "serve on an inherited listening socket, file descriptor FD (systemd: LISTEN_FDS)"
    )
    ssl_certfile: str | None = _opt(None, "serve TLS with this certificate chain (PEM)")
    ssl_keyfile: str | None = _opt(None, "the certificate's private key (PEM; default: certfile)")
    ssl_keyfile_password: str | None = _opt(None, "password of an encrypted private key")
    ssl_ca_certs: str | None = _opt(None, "require client certificates signed by these CAs")
    ssl_ciphers: str | None = _opt(None, "OpenSSL cipher list for TLS 1.2 (default: Python's)")
    proxy_headers: bool = _opt(
        False, "take client address, scheme and host from X-Forwarded-* / Forwarded"
    )
    forwarded_allow_ips: str = _opt(
        "127.0.0.1", "comma-separated IPs or CIDRs (or *) whose proxy headers are trusted"
    )
    log_format: LogFormat = _opt("text", "access and error log lines as text or one JSON object")
    log_config: str | None = _opt(None, "logging dictConfig file (JSON or TOML); replaces ours")
    reload: bool = _opt(False, "DEVELOPMENT ONLY: restart when the app's .py files change")

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in fields(self):
            value = getattr(self, f.name)
            choices = _choices(hints[f.name])
            if choices and value not in choices:
                raise ServerConfigError(
                    f"{f.name} must be one of {', '.join(choices)}, not {value!r}"
                )
        if not 0 <= self.port <= 65535:
            raise ServerConfigError(f"port out of range: {self.port}")
        positive = ("workers", "max_body", "max_header_size", "max_request_line", "max_pipeline")
        for name in (*positive, "ws_max_size", "backlog"):
            if getattr(self, name) < 1:
                raise ServerConfigError(f"{name} must be at least 1")
        timeouts = ("timeout_keep_alive", "timeout_header", "timeout_body")
        for name in (*timeouts, "timeout_graceful_shutdown"):
            if getattr(self, name) < 0:
                raise ServerConfigError(f"{name} must not be negative")
        for name in ("timeout_ws_handshake", "ws_ping_interval", "ws_ping_timeout"):
            if (getattr(self, name) or 0) < 0:
                raise ServerConfigError(f"{name} must not be negative")
        if self.limit_concurrency is not None and self.limit_concurrency < 1:
            raise ServerConfigError("limit_concurrency must be at least 1")
        if self.uds is not None and self.fd is not None:
            raise ServerConfigError("uds and fd are exclusive: listen on one socket")
        if self.fd is not None and self.fd < 0:
            raise ServerConfigError(f"fd must not be negative, not {self.fd}")
        if self.ssl_certfile is None and (self.ssl_keyfile or self.ssl_ca_certs):
            raise ServerConfigError("ssl_keyfile and ssl_ca_certs need ssl_certfile")
        if self.reload and self.workers > 1:
            raise ServerConfigError("reload runs one worker: drop workers")
        parse_networks(self.forwarded_allow_ips)  # a typo fails here, not at the first request
        if self.root_path.endswith("/"):
            self.root_path = self.root_path.rstrip("/")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add one option per field to `parser` (defaults come from the dataclass)."""
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            flag = "--" + f.name.replace("_", "-")
            hint = hints[f.name]
            kwargs: dict[str, Any] = {"dest": f.name, "help": f.metadata.get("help")}
            kwargs["default"] = f.default if f.default is not MISSING else None
            if hint is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            elif choices := _choices(hint):
                kwargs["choices"] = choices
            else:
                kwargs["type"] = _scalar_type(hint)
                kwargs["metavar"] = f.name.upper()
            parser.add_argument(flag, **kwargs)

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace) -> ServerConfig:
        """Build a config from parsed arguments, ignoring attributes that are not fields."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in vars(namespace).items() if k in names})

    def http_impl(self) -> str:
        """The parser name `auto` resolves to: httptools when importable, else python."""
        if self.http != "auto":
            return self.http
        return "httptools" if importlib.util.find_spec("httptools") else "python"

    def loop_impl(self) -> str:
        """The loop name `auto` resolves to: uvloop when importable, else asyncio."""
        if self.loop != "auto":
            return self.loop
        return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def _choices(hint: Any) -> tuple[str, ...]:
    if typing.get_origin(hint) is Literal:
        return tuple(typing.get_args(hint))
    return ()


def _scalar_type(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def load_app(target: str) -> ASGIApp:
    """Import `module:attr` (attr may be dotted) from the working directory or PYTHONPATH."""
    module_name, sep, attrs = target.partition(":")
    if not sep or not module_name or not attrs:
        raise ServerConfigError(f"app must look like 'module:attribute', not {target!r}")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise
        raise ServerConfigError(f"cannot import module {module_name!r}") from exc
    for attr in attrs.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise ServerConfigError(
                f"attribute {attrs!r} not found in module {module_name!r}"
            ) from None
    if not callable(obj):
        raise ServerConfigError(f"{target!r} is not callable")
    return typing.cast(ASGIApp, obj)
