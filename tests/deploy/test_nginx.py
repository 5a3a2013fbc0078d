"""The deployment guide, run: Debian's nginx with docs/deploy/nginx.conf in front of
`covet serve` started as docs/deploy/covet.service + covet.socket would start it (the socket
passed as fd 3 with LISTEN_PID/LISTEN_FDS), all on 127.0.0.1.

The test swaps only ports, file paths and the app for its own, and checks that each string it
swaps is in the guide's files, so the files cannot drift from what is tested. Clients connect
from 127.0.0.2, so an app that sees 127.0.0.2 can only have learnt it from nginx's headers.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.covet.server.deploy_support import (
    REPO,
    Certs,
    covet_command,
    covet_env,
    free_port,
    http_ready,
    make_certs,
    reap,
    tcp_ready,
    wait_until,
)

pytestmark = pytest.mark.needs_nginx

DEPLOY = REPO / "docs" / "deploy"
CLIENT = "127.0.0.2"
WS_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def _nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("nginx is not installed: ci/setup installs it (apt-get install nginx)")
    return found


def _swap(text: str, swaps: dict[str, str], name: str) -> str:
    for old, new in swaps.items():
        assert old in text, f"{name} no longer holds {old!r}: update this test with it"
        text = text.replace(old, new)
    return text


@dataclass
class Stack:
    folder: Path
    nginx: subprocess.Popen[bytes]
    covet: subprocess.Popen[bytes]
    nginx_command: list[str]
    http_port: int
    https_port: int
    certs: Certs
    marker: Path

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def client(self) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=CLIENT, verify=self.tls())
        return httpx.Client(transport=transport, timeout=10)

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certs.ca))

    def raw(self) -> ssl.SSLSocket:
        sock = socket.create_connection(
            ("127.0.0.1", self.https_port), timeout=10, source_address=(CLIENT, 0)
        )
        return self.tls().wrap_socket(sock, server_hostname="localhost")

    def seen(self) -> list[str]:
        return self.marker.read_text().split("\n") if self.marker.exists() else []


def _covet_argv(sock_fd: int) -> list[str]:
    """covet.service's ExecStart with our app and 2 workers, behind a systemd-like exec."""
    exec_start = next(
        line.partition("=")[2]
        for line in (DEPLOY / "covet.service").read_text().splitlines()
        if line.startswith("ExecStart=")
    )
    words = shlex.split(exec_start)
    options = words[words.index("serve") + 2 :]
    workers = options.index("--workers")
    options[workers + 1] = "2"
    inner = covet_command("scope_app", *options)
    script = (
        f"import os; os.dup2({sock_fd}, 3); os.environ['LISTEN_PID'] = str(os.getpid()); "
        f"os.environ['LISTEN_FDS'] = '1'; os.execv({inner[0]!r}, {inner!r})"
    )
    return [sys.executable, "-c", script]


@contextmanager
def running_stack(folder: Path) -> Iterator[Stack]:
    nginx = _nginx()
    certs = make_certs(folder)
    sock_path = folder / "covet.sock"
    socket_unit = (DEPLOY / "covet.socket").read_text()
    assert "ListenStream=/run/covet/covet.sock" in socket_unit
    http_port, https_port = free_port(), free_port()
    site = _swap(
        (DEPLOY / "nginx.conf").read_text(),
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "/run/covet/covet.sock": str(sock_path),
            "/etc/ssl/certs/example.com.pem": str(certs.cert),
            "/etc/ssl/private/example.com.key": str(certs.key),
        },
        "docs/deploy/nginx.conf",
    )
    (folder / "site.conf").write_text(site)
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the tmp socket
    (folder / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log info;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log {folder}/access.log;\n"
        + "".join(f"  {name}_temp_path {path};\n" for name, path in temp.items()).replace(
            "body_temp", "client_body_temp"
        )
        + f"  include {folder}/site.conf;\n}}\n"
    )
    # -e: the error log nginx opens before reading its config (not /var/log, unwritable
    # without root).
    nginx_command = [nginx, "-p", str(folder), "-e", str(folder / "error.log")]
    nginx_command += ["-c", str(folder / "nginx.conf")]
    marker = folder / "seen.txt"
    with ExitStack() as stack:
        listener = socket.socket(socket.AF_UNIX)
        stack.callback(listener.close)
        listener.bind(str(sock_path))
        listener.listen(128)
        covet = subprocess.Popen(
            _covet_argv(listener.fileno()),
            cwd=REPO,
            env=covet_env(COVET_TEST_MARKER=str(marker)),
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            pass_fds=(listener.fileno(),),
        )
        stack.callback(reap, covet)
        listener.close()
        transport = httpx.HTTPTransport(uds=str(sock_path))
        wait_until(
            lambda: covet.poll() is not None or http_ready("http://c/", transport=transport)()
        )
        assert covet.poll() is None, "covet serve did not start"
        proc = subprocess.Popen(
            nginx_command, stderr=subprocess.PIPE, start_new_session=True, cwd=folder
        )
        stack.callback(reap, proc, signal.SIGQUIT)
        wait_until(lambda: proc.poll() is not None or tcp_ready(https_port)())
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        marker.unlink(missing_ok=True)  # the readiness probe's visit
        yield Stack(folder, proc, covet, nginx_command, http_port, https_port, certs, marker)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("nginx")) as running:
        yield running


def test_client_address_scheme_and_host_come_from_nginx(stack: Stack) -> None:
    plain = httpx.get(f"http://127.0.0.1:{stack.http_port}/a?b=1")
    assert plain.status_code == 301 and plain.headers["location"] == "https://127.0.0.1/a?b=1"
    with stack.client() as client:
        spoof = {"X-Forwarded-For": "6.6.6.6", "Forwarded": "for=7.7.7.7;proto=http"}
        seen = client.get(f"{stack.https}/who", headers=spoof).json()
        assert seen["client"] == [CLIENT, 0]  # not 6.6.6.6, 7.7.7.7, nor the Unix socket's None
        assert seen["scheme"] == "https" and seen["host"] == "127.0.0.1"
        for _ in range(3):  # over nginx's keep-alive upstream connections
            assert client.post(f"{stack.https}/p", content=b"x" * 70_000).json()["body"] == 70_000
        assert client.get(f"{stack.https}/metrics").status_code == 403  # not from 127.0.0.2


def _ws_handshake(path: bytes, extra: bytes = b"") -> bytes:
    return (
        b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + WS_KEY + b"\r\n"
        b"Sec-WebSocket-Version: 13\r\n" + extra + b"\r\n"
    )


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_websocket_passes_through(stack: Stack) -> None:
    with stack.raw() as sock:
        sock.sendall(_ws_handshake(b"/ws/chat"))
        assert _read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 101 ")
        mask = b"\x0a\x0b\x0c\x0d"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"hello"))
        sock.sendall(b"\x81\x85" + mask + payload)
        frame = _read_until(sock, b"}")
        seen = json.loads(frame[frame.index(b"{") :])
        assert seen["text"] == "hello" and seen["scheme"] == "wss"
        assert seen["client"] == [CLIENT, 0] and seen["path"] == "/ws/chat"


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    sock.settimeout(1)  # a smuggled request would be answered (and marked) well before
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ssl.SSLError, ConnectionResetError):
        pass
    return data


@pytest.mark.parametrize(
    ("path", "upgrade"),
    [(b"/ws/x", b"websocket"), (b"/ws/x", b"h2c"), (b"/", b"websocket")],
    ids=["ws-location", "ws-location-h2c", "root-location"],
)
def test_upgrade_with_a_body_smuggles_nothing(stack: Stack, path: bytes, upgrade: bytes) -> None:
    hidden = b"GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
    head = (
        b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nUpgrade: " + upgrade + b"\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + WS_KEY + b"\r\n"
        b"Sec-WebSocket-Version: 13\r\nContent-Length: %d\r\n\r\n" % len(hidden)
    )
    with stack.raw() as sock:
        sock.sendall(head + hidden)
        answer = _read_all(sock)
    assert answer.count(b"HTTP/1.1 ") <= 1, answer
    with stack.client() as client:  # the stack still serves, and never saw /smuggled
        assert client.get(f"{stack.https}/after").status_code == 200
    assert "seen /smuggled" not in stack.seen()


def test_nginx_quit_and_covet_sigterm_drop_no_in_flight_request(tmp_path: Path) -> None:
    with running_stack(tmp_path) as running, running.client() as client:
        with ThreadPoolExecutor(4) as pool:
            slow = [pool.submit(client.get, f"{running.https}/{i}/slow") for i in range(4)]
            wait_until(lambda: sum(line.endswith("/slow") for line in running.seen()) == 4)
            subprocess.run([*running.nginx_command, "-s", "quit"], check=True, timeout=10)
            os.kill(running.covet.pid, signal.SIGTERM)
            answers = [future.result(timeout=30) for future in slow]
        assert [a.status_code for a in answers] == [200] * 4
        assert [a.json()["path"] for a in answers] == [f"/{i}/slow" for i in range(4)]
        assert running.nginx.wait(timeout=20) == 0
        assert running.covet.wait(timeout=40) == 0
