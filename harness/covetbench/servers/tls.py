"""TLS for a run: one throw-away self-signed certificate, made by the `openssl` CLI.

A `--tls` run (suite key `tls = true`) serves every server over https with the same
certificate, so a figure measures the servers' TLS, not different keys. The certificate names
`localhost`, 127.0.0.1 and ::1 (the only addresses the harness binds), lives in a temporary
directory deleted when the run ends, and is trusted only where the harness talks to its own
servers (`client_context`: the certificate itself as the CA, never verification turned off).
wrk does not verify certificates, so it loads the https URL as is.

    with ThrowawayCertificate() as cert:
        options = ServerOptions(tls=cert.files)
        httpx.get(url, verify=client_context(cert.files))

The `openssl` CLI rather than the `cryptography` package: Debian always has it, and the harness
gains no dependency for a certificate nobody keeps.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from covetbench.exceptions import BenchError

#: what the certificate is issued to: every name and address the harness serves on
SUBJECT = "/CN=localhost"
SUBJECT_ALT_NAMES = "DNS:localhost,IP:127.0.0.1,IP:::1"
#: days it is valid: a run never lasts that long, and nobody keeps it
VALID_DAYS = 2
_OPENSSL_TIMEOUT_S = 30.0


class CertificateError(BenchError):
    """The throw-away certificate could not be made (no `openssl`, or it failed)."""


@dataclass(frozen=True)
class TLSFiles:
    """A certificate and its unencrypted PKCS#8 private key (granian takes no other format)."""

    certfile: Path
    keyfile: Path


def make_self_signed(directory: Path) -> TLSFiles:
    """Write `cert.pem` and `key.pem` (ECDSA P-256, self-signed) into `directory`."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise CertificateError("--tls needs the openssl command: apt-get install openssl")
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(directory / "cert.pem", directory / "key.pem")
    argv = [
        openssl,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        str(files.keyfile),
        "-out",
        str(files.certfile),
        "-days",
        str(VALID_DAYS),
        "-subj",
        SUBJECT,
        "-addext",
        f"subjectAltName={SUBJECT_ALT_NAMES}",
    ]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=_OPENSSL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CertificateError(f"openssl req failed: {exc}") from None
    if done.returncode != 0 or not files.certfile.is_file() or not files.keyfile.is_file():
        raise CertificateError(f"openssl req failed ({done.returncode}): {done.stderr.strip()}")
    files.keyfile.chmod(0o600)
    return files


def client_context(files: TLSFiles) -> ssl.SSLContext:
    """A client context that trusts this certificate alone (hostname checked as usual)."""
    return ssl.create_default_context(cafile=str(files.certfile))


class ThrowawayCertificate:
    """A self-signed certificate in a temporary directory, deleted by `close()`."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="covetbench-tls-")
        try:
            self.files = make_self_signed(Path(self._directory.name))
        except BaseException:
            self._directory.cleanup()
            raise

    def close(self) -> None:
        self._directory.cleanup()

    def __enter__(self) -> ThrowawayCertificate:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
