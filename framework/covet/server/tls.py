"""TLS for covet's server, with the stdlib `ssl` module: one server context from the config.

    context = ssl_context(config)     # None without --ssl-certfile

TLS 1.2 and later; ALPN offers `http/1.1` (the only protocol spoken, so an h2-capable client
does not wait to find out). `--ssl-ca-certs` asks every client for a certificate signed by those
CAs (mutual TLS) and refuses the handshake without one. Every file is checked before the
server starts, and an error names the option and the file: a certificate that cannot be read
is found at start-up, not by the first client.

A client that is not speaking TLS (plain HTTP on the TLS port) fails the handshake: the
connection is closed and nothing reaches the app. The handshake is bounded by
`--timeout-header`, so it cannot be held open for free.
"""

from __future__ import annotations

import os
import ssl

from covet.server.config import ServerConfig
from covet.server.exceptions import ServerConfigError, StartupError

__all__ = ["ALPN_PROTOCOLS", "ssl_context"]

ALPN_PROTOCOLS = ["http/1.1"]


def _readable(option: str, path: str) -> None:
    if not os.path.isfile(path):
        raise StartupError(f"--{option} {path}: no such file")
    if not os.access(path, os.R_OK):
        raise StartupError(f"--{option} {path}: not readable by this user")


def ssl_context(config: ServerConfig) -> ssl.SSLContext | None:
    """The server-side TLS context `config` asks for, or None for plain HTTP."""
    certfile = config.ssl_certfile
    if certfile is None:
        return None
    keyfile = config.ssl_keyfile
    _readable("ssl-certfile", certfile)
    if keyfile is not None:
        _readable("ssl-keyfile", keyfile)
    if config.ssl_ca_certs is not None:
        _readable("ssl-ca-certs", config.ssl_ca_certs)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    try:
        context.load_cert_chain(certfile, keyfile, config.ssl_keyfile_password)
    except ssl.SSLError as exc:
        files = certfile if keyfile is None else f"{certfile} / --ssl-keyfile {keyfile}"
        raise StartupError(
            f"--ssl-certfile {files}: not a PEM certificate chain with its key"
            f" (or a wrong --ssl-keyfile-password): {exc.reason or exc}"
        ) from exc
    if config.ssl_ca_certs is not None:
        try:
            context.load_verify_locations(config.ssl_ca_certs)
        except ssl.SSLError as exc:
            raise StartupError(
                f"--ssl-ca-certs {config.ssl_ca_certs}: not PEM CA certificates: {exc.reason}"
            ) from exc
        context.verify_mode = ssl.CERT_REQUIRED
    if config.ssl_ciphers is not None:
        try:
            context.set_ciphers(config.ssl_ciphers)
        except ssl.SSLError:
            raise ServerConfigError(
                f"--ssl-ciphers {config.ssl_ciphers!r}: no cipher matches"
            ) from None
    return context
