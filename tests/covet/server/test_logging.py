"""`--log-format json` and `--log-config FILE` under `covet serve`: every line parsed back."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from covet.server.exceptions import ServerConfigError
from covet.server.logconfig import load_log_config
from tests.covet.server.deploy_support import launch, start_error


def _stop_and_read(served: Any) -> str:
    os.killpg(served.proc.pid, signal.SIGTERM)
    served.proc.wait(timeout=20)
    return str(served.proc.stderr.read().decode())


def test_json_lines_with_request_ids() -> None:
    with launch("metrics_app", "--log-format", "json", "--access-log") as served:
        base = f"http://127.0.0.1:{served.port}"
        assert httpx.get(f"{base}/users/7", headers={"X-Request-ID": "req-7"}).status_code == 200
        assert httpx.get(f"{base}/boom", headers={"X-Request-ID": "req-boom"}).status_code == 500
        assert httpx.get(f"{base}/users/1%0aforged").status_code == 404
        err = _stop_and_read(served)
    records = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"].startswith("covet serving on http://") for r in records)
    access = [r for r in records if r["logger"] == "covet.access"]
    seven = [r for r in access if r.get("path") == "/users/7"]
    assert len(seven) == 2  # the server's line and RequestIDMiddleware's
    assert all(r["request_id"] == "req-7" and r["status"] == 200 for r in seven)
    assert all(r["client"].startswith("127.0.0.1:") and r["method"] == "GET" for r in seven)
    failure = [r for r in records if r["level"] == "ERROR"]
    assert failure and failure[0]["request_id"] == "req-boom"
    assert "RuntimeError: boom" in failure[0]["exception"]
    assert any(r.get("path") == "/users/1\\x0aforged" for r in access)


def test_text_is_the_default() -> None:
    with launch("scope_app", "--access-log") as served:
        httpx.get(f"http://127.0.0.1:{served.port}/t")
        err = _stop_and_read(served)
    assert "INFO: 127.0.0.1:" in err and '"GET /t HTTP/1.1" 200' in err


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_log_config_file(tmp_path: Path, suffix: str) -> None:
    log = tmp_path / "access.log"
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "covet.server.logconfig.JSONFormatter"}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(log), "formatter": "json"}
        },
        "loggers": {"covet.access": {"handlers": ["file"], "level": "INFO", "propagate": False}},
    }
    path = tmp_path / f"logging{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(config))
    else:
        path.write_text(
            "version = 1\ndisable_existing_loggers = false\n"
            '[formatters.json]\n"()" = "covet.server.logconfig.JSONFormatter"\n'
            f'[handlers.file]\nclass = "logging.FileHandler"\nfilename = "{log}"\n'
            'formatter = "json"\n'
            '[loggers."covet.access"]\nhandlers = ["file"]\nlevel = "INFO"\npropagate = false\n'
        )
    with launch("scope_app", "--access-log", "--log-config", str(path)) as served:
        httpx.get(f"http://127.0.0.1:{served.port}/logged")
        _stop_and_read(served)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["path"] for r in lines] == ["/logged"]


def test_bad_log_config_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("version = [\n")
    code, err = start_error("scope_app", "--log-config", str(bad))
    assert code == 1 and f"--log-config {bad}: not valid" in err, err
    code, err = start_error("scope_app", "--log-config", str(tmp_path / "missing.json"))
    assert code == 1 and "missing.json: cannot read" in err, err
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"version": 1, "handlers": {"h": {"class": "no.such.Handler"}}}')
    code, err = start_error("scope_app", "--log-config", str(wrong))
    assert code == 1 and f"--log-config {wrong}: rejected" in err, err
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ServerConfigError, match="must hold a mapping"):
        load_log_config(str(tmp_path / "list.json"))
