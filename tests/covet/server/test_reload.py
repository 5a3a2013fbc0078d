"""`covet serve --reload` (development only): a change to the app's package restarts the
worker, which imports the new code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from covet.server import run
from covet.server.exceptions import ServerConfigError
from tests.covet.server.deploy_support import REPO, free_port, reap, tcp_ready, wait_until


def _write_app(folder: Path, version: str) -> None:
    source = (
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n"
        "        return\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        f"    await send({{'type': 'http.response.body', 'body': b'{version}'}})\n"
    )
    module = folder / "reloadapp" / "views.py"
    module.write_text(source)
    stamp = time.time() + (1 if version == "v2" else 0)
    os.utime(module, (stamp, stamp))  # a later mtime whatever the file system's granularity


def _get(port: int) -> str:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
    except httpx.HTTPError:
        return ""


def test_a_change_restarts_the_worker(tmp_path: Path) -> None:
    (tmp_path / "reloadapp").mkdir()
    (tmp_path / "reloadapp" / "__init__.py").write_text("from reloadapp.views import app\n")
    _write_app(tmp_path, "v1")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO / "framework")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "covet", "serve", "reloadapp:app", "--reload"]
        + ["--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "2"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_until(lambda: proc.poll() is not None or tcp_ready(port)())
        wait_until(lambda: _get(port) == "v1")
        _write_app(tmp_path, "v2")
        wait_until(lambda: _get(port) == "v2")
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        err = proc.stderr.read().decode() if proc.stderr else ""
        assert "for development only" in err and "reloading:" in err and "views.py" in err
    finally:
        reap(proc)


def test_reload_needs_an_import_string_and_one_worker() -> None:
    with pytest.raises(ServerConfigError, match="reload runs one worker"):
        run("m:app", reload=True, workers=2)

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("never served")

    with pytest.raises(ServerConfigError, match="module:attr"):
        run(app, reload=True)  # type: ignore[arg-type]
