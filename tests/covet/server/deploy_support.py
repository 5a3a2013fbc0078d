"""Helpers for the deployment tests: certificates made on the spot, `covet serve` launched in a
subprocess with any listening options, readiness polled, the process group always reaped."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.covet.server.test_server_socket import REPO, free_port, wait_until

__all__ = ["Certs", "Launched", "launch", "make_certs", "free_port", "wait_until", "REPO"]


@dataclass
class Certs:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_certs(folder: Path) -> Certs:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate, as PEM."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("covet test CA"))
        .issuer_name(_name("covet test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(common: str, sans: list[x509.GeneralName]) -> tuple[x509.Certificate, object]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    server, server_key = issue(
        "localhost",
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client, client_key = issue("covet test client", [])
    certs = Certs(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "client.pem",
        folder / "client.key",
    )
    certs.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certs.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    certs.client_cert.write_bytes(client.public_bytes(serialization.Encoding.PEM))
    _write_key(server_key, certs.key)  # type: ignore[arg-type]
    _write_key(client_key, certs.client_key)  # type: ignore[arg-type]
    return certs


@dataclass
class Launched:
    proc: subprocess.Popen[bytes]
    port: int

    def stderr_text(self) -> str:
        """What the server wrote to stderr (only once it has exited)."""
        return self.proc.stderr.read().decode() if self.proc.stderr else ""


def tcp_ready(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    return ready


def http_ready(url: str, **client: object) -> Callable[[], bool]:
    """Ready once a GET is answered: a listening socket alone proves nothing when the test
    itself created it (connections queue in its backlog before the server accepts)."""

    def ready() -> bool:
        try:
            with httpx.Client(timeout=0.5, **client) as http:  # type: ignore[arg-type]
                http.get(url)
            return True
        except httpx.HTTPError:
            return False

    return ready


def covet_command(app: str, *options: str) -> list[str]:
    return [sys.executable, "-m", "covet", "serve", f"tests.covet.server.deploy_apps:{app}"] + [
        *options
    ]


def covet_env(**extra: str) -> dict[str, str]:
    pythonpath = os.pathsep.join([str(REPO), str(REPO / "framework")])
    return {**os.environ, "PYTHONPATH": pythonpath, **extra}


def reap(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop `proc`'s process group (SIGTERM, then SIGKILL after 20 s) and wait for it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.stderr:
        proc.stderr.close()


@contextmanager
def launch(
    app: str,
    *options: str,
    ready: Callable[[], bool] | None = None,
    env: dict[str, str] | None = None,
    pass_fds: tuple[int, ...] = (),
    command: list[str] | None = None,
) -> Iterator[Launched]:
    """`covet serve` on a free port (`--port` added unless `ready` is given), until ready."""
    port = free_port()
    if ready is None:
        options = ("--port", str(port), *options)
        ready = tcp_ready(port)
    proc = subprocess.Popen(
        command or covet_command(app, *_quiet(options)),
        cwd=REPO,
        env=covet_env(**(env or {})),
        stderr=subprocess.PIPE,
        start_new_session=True,
        pass_fds=pass_fds,
    )
    try:
        wait_until(lambda: proc.poll() is not None or ready())
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        yield Launched(proc, port)
    finally:
        reap(proc)


def _quiet(options: tuple[str, ...]) -> tuple[str, ...]:
    """`options` plus --no-access-log unless they ask for the access log."""
    return options if "--access-log" in options else ("--no-access-log", *options)


def start_error(app: str, *options: str) -> tuple[int, str]:
    """Run `covet serve` expecting it to fail at start-up: (exit code, stderr)."""
    done = subprocess.run(
        covet_command(app, *options),
        cwd=REPO,
        env=covet_env(),
        capture_output=True,
        timeout=30,
    )
    return done.returncode, done.stderr.decode()
