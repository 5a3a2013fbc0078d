"""TLS runs: the throw-away certificate, each adapter's TLS options, the suite key and flag,
the skip of a server without TLS, and a real https run of covet's server and uvicorn with wrk."""

from __future__ import annotations

import argparse
import dataclasses
import json
import socket
import ssl
import sys
import threading
from pathlib import Path

import pytest

from covetbench.apps import builtin_apps
from covetbench.commands._common import add_suite_overrides, suite_overrides
from covetbench.exceptions import ServerStartError, SuiteError
from covetbench.results.store import load_results
from covetbench.run.runner import Runner, RunOptions
from covetbench.run.schedule import build_plan
from covetbench.run.suite import Suite, SuiteEntry, SuiteOverrides, apply_overrides, load_suite
from covetbench.servers import SERVERS, ServerOptions, get_server, server_names
from covetbench.servers.tls import (
    CertificateError,
    ThrowawayCertificate,
    TLSFiles,
    client_context,
)
from covetbench.verify import verify_server
from tests.harness.conftest import ArgvServer, LaunchServer

CERT = TLSFiles(Path("/certs/cert.pem"), Path("/certs/key.pem"))


def _handshake(files: TLSFiles, server_hostname: str) -> bytes:
    """A real TLS handshake over a socket pair, the server holding `files`; what it read."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.certfile, files.keyfile)
    received: list[bytes] = []
    left, right = socket.socketpair()
    with left, right:
        left.settimeout(5.0)
        right.settimeout(5.0)

        def serve() -> None:
            try:
                with server_ctx.wrap_socket(left, server_side=True) as tls:
                    received.append(tls.recv(16))
            except (ssl.SSLError, OSError):
                pass  # the client refused the certificate: what the test looks at

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with client_context(files).wrap_socket(right, server_hostname=server_hostname) as tls:
                tls.sendall(b"hello")
        finally:
            right.close()
            thread.join(10.0)
    return b"".join(received)


def test_certificate_is_trusted_for_loopback_only_and_deleted_on_close() -> None:
    with ThrowawayCertificate() as cert:
        files = cert.files
        assert files.keyfile.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
        assert files.keyfile.stat().st_mode & 0o077 == 0
        for name in ("127.0.0.1", "localhost"):
            assert _handshake(files, name) == b"hello"
        with pytest.raises(ssl.SSLCertVerificationError):
            _handshake(files, "example.com")
    assert not files.certfile.exists() and not files.keyfile.parent.exists()


def test_certificate_without_openssl_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no openssl on it
    with pytest.raises(CertificateError, match="openssl"):
        ThrowawayCertificate()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("uvicorn", ["--ssl-certfile", "/certs/cert.pem", "--ssl-keyfile", "/certs/key.pem"]),
        ("uvicorn-h11", ["--ssl-certfile", "/certs/cert.pem", "--ssl-keyfile", "/certs/key.pem"]),
        ("hypercorn", ["--certfile", "/certs/cert.pem", "--keyfile", "/certs/key.pem"]),
        ("granian", ["--ssl-certificate", "/certs/cert.pem", "--ssl-keyfile", "/certs/key.pem"]),
        ("covet", ["--ssl-certfile", "/certs/cert.pem", "--ssl-keyfile", "/certs/key.pem"]),
        ("covet-python", ["--ssl-certfile", "/certs/cert.pem", "--ssl-keyfile", "/certs/key.pem"]),
        (
            "daphne",
            [
                "-e",
                "ssl:port=8123:interface=127.0.0.1:privateKey=/certs/key.pem:certKey=/certs/cert.pem",
            ],
        ),
    ],
)
def test_command_lines_with_tls(name: str, expected: list[str]) -> None:
    adapter = get_server(name)
    if not adapter.is_installed():
        pytest.skip(f"server {name!r} is not installed")
    assert adapter.tls_unsupported() is None
    target = builtin_apps()["raw"]
    argv = adapter.command(target, "127.0.0.1", 8123, ServerOptions(tls=CERT))
    start = argv.index(expected[0])
    assert argv[start : start + len(expected)] == expected, argv
    plain = adapter.command(target, "127.0.0.1", 8123, ServerOptions())
    assert expected[0] not in plain
    if name == "daphne":  # its TLS endpoint is its only listener: no plain -b/-p beside it
        assert "-b" not in argv and "-p" not in argv and "-b" in plain


def test_daphne_endpoint_escapes_colons() -> None:
    files = TLSFiles(Path("/a:b/cert.pem"), Path("/a=b/key.pem"))
    argv = get_server("daphne").tls_arguments(files, "::1", 8123)
    assert argv == [
        "-e",
        r"ssl:port=8123:interface=\:\:1:privateKey=/a\=b/key.pem:certKey=/a\:b/cert.pem",
    ]


def test_every_registered_server_says_whether_it_serves_tls() -> None:
    for name in server_names():
        reason = get_server(name).tls_unsupported()
        assert reason is None or name in reason


def _suite(servers: tuple[str, ...], tls: bool) -> Suite:
    entry = SuiteEntry("", ("raw",), servers, ("plaintext",), (16,))
    return Suite(
        name="tls", entries=(entry,), duration_s=1, warmup_s=0, trials=1, retries=0, tls=tls
    )


def test_server_without_tls_is_skipped_never_run_in_plain_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(SERVERS, "plain", ArgvServer("plain", [sys.executable, "-c", "pass"]))
    plan = build_plan(_suite(("plain", "uvicorn"), tls=True))
    [skipped] = plan.skipped
    assert (skipped.server, skipped.stage) == ("plain", "skip")
    assert "--tls" in skipped.reason and "plain has no TLS options" in skipped.reason
    assert [p.server for p in plan.pairs] == ["uvicorn"]
    assert build_plan(_suite(("plain",), tls=False)).skipped == []
    with pytest.raises(ServerStartError, match="cannot serve TLS"):
        SERVERS["plain"].launch(builtin_apps()["raw"], ServerOptions(tls=CERT), tmp_path / "l")


def test_tls_suite_key_and_run_flag(tmp_path: Path) -> None:
    base = 'servers = ["uvicorn"]\nscenarios = ["plaintext"]\nconcurrency = [16]\n'
    path = tmp_path / "s.toml"
    path.write_text(base)
    assert load_suite(path).tls is False
    path.write_text(base + "tls = true\n")
    suite = load_suite(path)
    assert suite.tls is True and suite.to_dict()["tls"] is True
    path.write_text(base + 'tls = "yes"\n')
    with pytest.raises(SuiteError, match=r"s\.toml:4: field 'tls': expected true or false"):
        load_suite(path)

    parser = argparse.ArgumentParser()
    add_suite_overrides(parser)
    assert suite_overrides(parser.parse_args([])).tls is None
    overrides = suite_overrides(parser.parse_args(["--tls"]))
    assert overrides.tls is True
    plain = dataclasses.replace(suite, tls=False)
    assert apply_overrides(plain, overrides).tls is True
    assert apply_overrides(suite, SuiteOverrides()).tls is True


def test_verify_over_https_and_wss_trusts_the_run_certificate(
    launch_server: LaunchServer,
) -> None:
    with ThrowawayCertificate() as cert:
        server = launch_server("uvicorn", "raw", tls=cert.files)
        assert server.base_url.startswith("https://") and server.ws_url.startswith("wss://")
        records = verify_server(
            server.base_url,
            "raw",
            "uvicorn",
            ["plaintext", "ws"],
            date_refresh_wait_s=0,
            tls=cert.files,
        )
        assert [(r.scenario, r.status) for r in records] == [("plaintext", "warn"), ("ws", "pass")]
        # without the run's certificate as the CA, the self-signed one is refused
        [untrusted] = verify_server(
            server.base_url, "raw", "uvicorn", ["plaintext"], date_refresh_wait_s=0
        )
        assert untrusted.status == "fail" and "CERTIFICATE_VERIFY_FAILED" in untrusted.reasons[0]


@pytest.mark.slow
@pytest.mark.needs_wrk
def test_tls_run_end_to_end(tmp_path: Path) -> None:
    servers = tuple(name for name in ("covet", "uvicorn") if get_server(name).is_installed())
    if len(servers) < 2:
        pytest.skip("needs covet's server and uvicorn")
    out = tmp_path / "out"
    options = RunOptions(out_dir=out, lock_path=tmp_path / "lock", idle_timeout_s=2.0)
    Runner(build_plan(_suite(servers, tls=True)), options).run()

    data = load_results(out)
    assert data["failures"] == []
    assert {(v["server"], v["status"]) for v in data["verify"]} == {(s, "pass") for s in servers}
    trials = {t["server"]: t for t in data["runs"]}
    assert set(trials) == set(servers)
    for server in servers:
        assert trials[server]["rps"] > 0 and trials[server]["error_rate"] == 0
        raw = (out / trials[server]["raw_output_file"]).read_text()
        assert "https://127.0.0.1:" in raw.splitlines()[0]  # wrk loaded the https URL
        used = json.loads((out / "logs" / f"raw-{server}.options.json").read_text())
        assert used["tls"] is True and used["base_url"].startswith("https://127.0.0.1:")
        assert data["meta"]["server_options"][server]["tls"] is True
    assert data["meta"]["suite_config"]["tls"] is True
    assert "Transport" in (out / "report.html").read_text()
    assert "TLS (https)" in (out / "summary.md").read_text()
    # the certificate was the run's alone: gone with it
    command = used["command"]
    assert not Path(command[command.index("--ssl-certfile") + 1]).exists()
