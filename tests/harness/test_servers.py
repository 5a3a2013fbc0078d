"""Server adapters: every registered server launches a real process on 127.0.0.1, serves the raw
app, records its options and leaves no process behind; failures carry the server's log tail."""

from __future__ import annotations

import importlib
import socket
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from covetbench.apps import builtin_apps
from covetbench.exceptions import ServerStartError, UnknownNameError, UsageError
from covetbench.servers import SERVERS, ServerAdapter, ServerOptions, get_server, server_names
from covetbench.servers.covet import covet_server_available
from tests.harness.conftest import LaunchServer, MakeApp

CONTRACT_NAMES = [
    "uvicorn",
    "uvicorn-h11",
    "hypercorn",
    "granian",
    "daphne",
    "covet",
    "covet-python",
]
ADAPTERS = list(SERVERS.values())
IDS = list(SERVERS)


def _installed(adapter: ServerAdapter) -> None:
    if not adapter.is_installed():
        reason = "covet.server is not importable yet" if adapter.name.startswith("covet") else ""
        pytest.skip(f"{adapter.name} is not installed {reason}".strip())


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _assert_gone(procs: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(procs, timeout=5)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"left running: {alive}"


def test_registry_holds_the_contract_names() -> None:
    assert server_names() == CONTRACT_NAMES
    assert get_server("granian") is SERVERS["granian"]


def test_unknown_server_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_server("gunicorn")
    assert "uvicorn" in str(info.value) and "granian" in str(info.value)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_serves_plaintext_and_stops_clean(
    adapter: ServerAdapter, launch_server: LaunchServer
) -> None:
    _installed(adapter)
    server = launch_server(adapter.name, "raw")
    response = httpx.get(server.base_url + "/plaintext", trust_env=False)
    assert response.status_code == 200
    assert response.content == b"Hello, World!"
    procs = _tree(server.pid)
    server.stop()
    assert not server.alive()
    _assert_gone(procs)


@pytest.mark.parametrize("name", ["uvicorn", "hypercorn", "granian"])
def test_workers_are_started_and_reaped(name: str, launch_server: LaunchServer) -> None:
    server = launch_server(name, "raw", workers=2)
    assert httpx.get(server.base_url + "/plaintext", trust_env=False).status_code == 200
    procs = _tree(server.pid)
    assert len(procs) >= 3  # a supervisor and two workers
    server.stop()
    _assert_gone(procs)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_start_failure_carries_log_tail(
    adapter: ServerAdapter, make_app: MakeApp, tmp_path: Path
) -> None:
    _installed(adapter)
    target = make_app("broken_import", "raise RuntimeError('boom-at-import')\n")
    with pytest.raises(ServerStartError) as info:
        adapter.launch(target, ServerOptions(), tmp_path / "log.txt", ready_timeout=30)
    assert adapter.name in str(info.value)
    assert "boom-at-import" in info.value.log_tail


def test_busy_port_takes_another(launch_server: LaunchServer) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        server = launch_server("uvicorn", "raw", port=taken)
        assert server.port != taken
        assert httpx.get(server.base_url + "/plaintext", trust_env=False).status_code == 200


def test_options_are_recorded(launch_server: LaunchServer) -> None:
    server = launch_server("uvicorn", "raw", extra={"loop": "asyncio"})
    used = server.options_used()
    assert used["server"] == "uvicorn"
    assert used["version"] == get_server("uvicorn").version()
    assert used["workers"] == 1 and used["access_log"] is False
    assert used["settings"]["loop"] == "asyncio"
    assert used["settings"]["http"] == "httptools"
    assert used["loop"] == "asyncio"
    command = used["command"]
    assert command[command.index("--loop") + 1] == "asyncio"
    assert "--no-access-log" in command


@pytest.mark.parametrize(
    ("name", "values", "flags"),
    [
        ("uvicorn", {"--loop": "uvloop", "--http": "httptools"}, ["--no-access-log"]),
        ("uvicorn-h11", {"--loop": "uvloop", "--http": "h11"}, ["--no-access-log"]),
        ("hypercorn", {"-k": "uvloop", "-b": "127.0.0.1:8123", "-w": "3"}, []),
        ("granian", {"--interface": "asgi", "--port": "8123"}, ["--ws", "--no-access-log"]),
        ("daphne", {"-b": "127.0.0.1", "-p": "8123", "-v": "0"}, []),
        ("covet", {"--http": "auto", "--workers": "3"}, ["serve", "--no-access-log"]),
        ("covet-python", {"--http": "python", "--host": "127.0.0.1"}, ["--no-access-log"]),
    ],
)
def test_command_lines(name: str, values: dict[str, str], flags: list[str]) -> None:
    adapter = get_server(name)
    target = builtin_apps()["raw"]
    workers = 1 if name == "daphne" else 3
    argv = adapter.command(target, "127.0.0.1", 8123, ServerOptions(workers=workers))
    assert argv[:3] == [sys.executable, "-m", adapter.module]  # type: ignore[attr-defined]
    assert target.import_string in argv
    for flag, value in values.items():
        assert argv[argv.index(flag) + 1] == value, argv
    assert all(flag in argv for flag in flags), argv


def test_access_log_and_extra_args() -> None:
    target = builtin_apps()["raw"]
    options = ServerOptions(access_log=True, extra={"args": ["--timeout-keep-alive", "7"]})
    argv = get_server("uvicorn").command(target, "::1", 8123, options)
    assert "--access-log" in argv and argv[-2:] == ["--timeout-keep-alive", "7"]
    assert "[::1]:8123" in get_server("hypercorn").command(target, "::1", 8123, options)
    with pytest.raises(UsageError):
        get_server("uvicorn").command(target, "h", 1, ServerOptions(extra={"args": "--x"}))


def test_daphne_has_no_workers() -> None:
    with pytest.raises(UsageError):
        get_server("daphne").command(builtin_apps()["raw"], "h", 1, ServerOptions(workers=2))
    assert get_server("daphne").supports_lifespan is False


def test_covet_detection_never_imports_covet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "covet"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('covet was imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "covet", raising=False)
    monkeypatch.delitem(sys.modules, "covet.server", raising=False)
    importlib.invalidate_caches()
    assert covet_server_available() is False
    (package / "server").mkdir()
    (package / "server" / "__init__.py").write_text("")
    importlib.invalidate_caches()
    assert covet_server_available() is True
    assert "covet" not in sys.modules
