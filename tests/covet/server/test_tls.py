"""TLS end to end: `covet serve --ssl-*` on 127.0.0.1 with a certificate made by the test, and
real TLS clients (the ssl module, httpx)."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from covet.server.parsers import available_parsers
from tests.covet.server.deploy_support import Certs, Launched, launch, make_certs, start_error
from tests.covet.server.test_server_socket import read_to_eof, recv_until


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def _client_context(certs: Certs, with_cert: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs.ca))
    context.set_alpn_protocols(["h2", "http/1.1"])
    if with_cert:
        context.load_cert_chain(str(certs.client_cert), str(certs.client_key))
    return context


def _tls_options(certs: Certs) -> tuple[str, ...]:
    return ("--ssl-certfile", str(certs.cert), "--ssl-keyfile", str(certs.key))


def _tls_connect(port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname="localhost")


# Each parser once, on each event loop (asyncio's and uvloop's TLS are separate code).
_STACKS = (
    [("python", "asyncio"), ("httptools", "auto")]
    if len(available_parsers()) > 1
    else [
        ("python", "asyncio"),
        ("python", "auto"),
    ]
)


@pytest.fixture(params=_STACKS, ids=["-".join(s) for s in _STACKS])
def tls_served(request: pytest.FixtureRequest, certs: Certs) -> Iterator[Launched]:
    http, loop = request.param
    with launch("scope_app", "--http", http, "--loop", loop, *_tls_options(certs)) as served:
        yield served


@pytest.fixture
def tls_server(tls_served: Launched) -> int:
    return tls_served.port


def test_https_scope_alpn_and_keep_alive(tls_server: int, certs: Certs) -> None:
    with _tls_connect(tls_server, _client_context(certs)) as sock:
        assert sock.selected_alpn_protocol() == "http/1.1"
        for _ in range(2):  # two requests on one TLS connection
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head, _, body = recv_until(sock, b"}").partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert json.loads(body)["scheme"] == "https"
    with httpx.Client(verify=_client_context(certs)) as client:
        answer = client.post(f"https://127.0.0.1:{tls_server}/y", content=b"z" * 100_000)
        assert answer.json()["scheme"] == "https" and answer.json()["body"] == 100_000


def test_websocket_over_tls_is_wss(tls_server: int, certs: Certs) -> None:
    with _tls_connect(tls_server, _client_context(certs)) as sock:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        assert recv_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 101 ")
        mask = b"\x01\x02\x03\x04"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"hi"))
        sock.sendall(b"\x81\x82" + mask + payload)
        frame = recv_until(sock, b"}")
        assert json.loads(frame[frame.index(b"{") :])["scheme"] == "wss"


def test_plain_http_on_the_tls_port_is_closed_and_the_server_stays_up(
    tls_served: Launched, certs: Certs
) -> None:
    tls_server = tls_served.port
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", tls_server), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            try:
                data = read_to_eof(sock)
            except ConnectionResetError:
                data = b""
            assert not data.startswith(b"HTTP/")  # at most a TLS alert, then the close
    with httpx.Client(verify=_client_context(certs)) as client:
        assert client.get(f"https://127.0.0.1:{tls_server}/").json()["scheme"] == "https"
    os.killpg(tls_served.proc.pid, signal.SIGTERM)
    assert tls_served.proc.wait(timeout=20) == 0
    log = tls_served.stderr_text()
    assert "Traceback" not in log and "ERROR" not in log, log  # a failed handshake is not news


def test_client_certificates_are_required_with_ca_certs(certs: Certs) -> None:
    options = (*_tls_options(certs), "--ssl-ca-certs", str(certs.ca), "--workers", "2")
    with launch("scope_app", *options) as served:
        with _tls_connect(served.port, _client_context(certs, with_cert=True)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert recv_until(sock, b"}").startswith(b"HTTP/1.1 200 ")
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            with _tls_connect(served.port, _client_context(certs)) as sock:
                # TLS 1.3 reports the refusal at the first read, not in the handshake.
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if not sock.recv(100):
                    raise ConnectionResetError("closed without an answer")


def test_missing_or_unusable_certificate_is_a_startup_error_naming_the_file(
    certs: Certs, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.pem"
    code, err = start_error("scope_app", "--ssl-certfile", str(missing))
    assert code == 1 and f"--ssl-certfile {missing}: no such file" in err, err
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    code, err = start_error("scope_app", "--ssl-certfile", str(garbage))
    assert code == 1 and str(garbage) in err and "Traceback" not in err, err
    code, err = start_error("scope_app", "--ssl-certfile", str(certs.cert))  # no key
    assert code == 1 and str(certs.cert) in err, err
    code, err = start_error(
        "scope_app", *_tls_options(certs), "--ssl-ciphers", "NO-SUCH-CIPHER", "--workers", "2"
    )
    assert code == 1 and "--ssl-ciphers 'NO-SUCH-CIPHER'" in err, err
