"""Issue 10's middleware findings, attacked over raw sockets against real server processes.

A server that does not check `Host` itself (uvicorn hands it on as sent) leaves TrustedHost as
the only line of defence, so its host checks and www redirect are tried under uvicorn (both of
its parsers) as well as covet's server. The access-log forging attack (`%0a` in the path) is
tried against covet's server, whose access log and RequestID's are both written to the
server's log file. Servers come from the harness's adapters on a free 127.0.0.1 port and are
always reaped.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from covetbench.servers import AppTarget, RunningServer, ServerOptions, get_server

APP = AppTarget("covet-hostile", "hostile_app:app", str(Path(__file__).parent))
TIMEOUT_S = 10.0

pytestmark = pytest.mark.slow


def _launch(name: str, tmp: Path, access_log: bool = False) -> RunningServer:
    adapter = get_server(name)
    if not adapter.is_installed():
        pytest.fail(f"{name} is not installed (ci/setup installs it)")
    return adapter.launch(APP, ServerOptions(access_log=access_log), tmp / f"{name}.log")


def exchange(server: RunningServer, request: bytes) -> bytes:
    """Send one raw request (which asks for `connection: close`) and read to EOF."""
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT_S) as sock:
        sock.sendall(request)
        received = b""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def get(path: bytes, host: bytes) -> bytes:
    return b"GET %b HTTP/1.1\r\nhost: %b\r\nconnection: close\r\n\r\n" % (path, host)


def status_and_headers(response: bytes) -> tuple[int, dict[bytes, bytes]]:
    head, _, _ = response.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


@pytest.fixture(scope="module", params=["uvicorn", "uvicorn-h11", "covet"])
def host_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    server = _launch(request.param, tmp_path_factory.mktemp(request.param))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    "host",
    [
        b"evil.com/.example.com",
        b"evil.com?.example.com",
        b"evil.com#.example.com",
        b"user@api.example.com",
        b"api.example.com:443@evil.example",
        b"api.example.com:http",
    ],
)
def test_hostile_hosts_are_refused_under_every_server(
    host_server: RunningServer, host: bytes
) -> None:
    status, _ = status_and_headers(exchange(host_server, get(b"/", host)))
    assert status == 400


def test_allowed_host_reaches_the_app(host_server: RunningServer) -> None:
    response = exchange(host_server, get(b"/x", b"api.example.com:8080"))
    assert status_and_headers(response)[0] == 200
    assert response.endswith(b"ok")


def test_www_redirect_stays_on_the_site(host_server: RunningServer) -> None:
    status, headers = status_and_headers(exchange(host_server, get(b"/cart?x=1", b"shop.test")))
    assert (status, headers[b"location"]) == (308, b"http://www.shop.test/cart?x=1")
    hostile = exchange(host_server, get(b"/cart", b"shop.test:443@evil.example"))
    status, headers = status_and_headers(hostile)
    assert status == 400
    assert b"location" not in headers


@pytest.mark.parametrize("name", ["covet", "covet-python"])
def test_a_decoded_newline_cannot_forge_access_log_lines(name: str, tmp_path: Path) -> None:
    server = _launch(name, tmp_path, access_log=True)
    try:
        forged = b"/a%0aFORGED%20line%0d%0aFORGED%22again"
        response = exchange(server, get(forged, b"api.example.com"))
        assert status_and_headers(response)[0] == 200
        lines: list[str] = []
        deadline = time.monotonic() + TIMEOUT_S
        # Two access lines are due: the server's and RequestID's; poll, bounded, for both.
        while time.monotonic() < deadline:
            lines = server.log_path.read_text(errors="replace").splitlines()
            if sum("FORGED" in line for line in lines) >= 2:
                break
            time.sleep(0.05)
    finally:
        server.stop()
    logged = [line for line in lines if "FORGED" in line]
    assert len(logged) == 2, lines
    assert not any(line.startswith("FORGED") for line in lines)
    for line in logged:
        assert "/a\\x0aFORGED line\\x0d\\x0aFORGED\\x22again" in line
