"""The graceful-shutdown check can fail: a toy server that dies on SIGTERM with requests in
flight fails it (bodies cut, no lifespan shutdown); covet's server passes it with 2 workers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from covetbench.conformance.loader import load_checks
from covetbench.conformance.model import FAIL, PASS, UNSUPPORTED
from covetbench.conformance.probes import PROBES, ProbeContext
from covetbench.conformance.runner import PROBE_APPS, conformance_apps_dir
from covetbench.servers import get_server
from covetbench.servers.base import AppTarget
from tests.harness.conftest import ArgvServer

# Serves /slow like the probe app (notes the arrival, answers after ?delay=) but keeps the
# default SIGTERM disposition: in-flight requests die with the process, and there is no
# lifespan to shut down.
_TOY_SERVER = """\
import asyncio, os, sys
from urllib.parse import parse_qs, urlsplit

PORT = int(sys.argv[1])


async def handle(reader, writer):
    head = await reader.readuntil(b"\\r\\n\\r\\n")
    target = head.split(b" ")[1].decode()
    query = parse_qs(urlsplit(target).query)
    token = query.get("token", [""])[0]
    if token:
        directory = os.environ["COVET_CONFORM_SHUTDOWN_DIR"]
        open(os.path.join(directory, "arrived-" + token), "w").close()
        await asyncio.sleep(float(query.get("delay", ["2"])[0]))
    writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
    await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
"""


def _params(workers: int) -> dict[str, Any]:
    (check,) = [
        c
        for c in load_checks(None, ["graceful-shutdown"], None)
        if c.params.get("workers") == workers
    ]
    return check.params


def _context(tmp_path: Path, name: str, adapter: Any) -> ProbeContext:
    apps = conformance_apps_dir()
    targets = {n: AppTarget(n, f"{n}:app", str(apps)) for n in PROBE_APPS}
    return ProbeContext("127.0.0.1", 0, name, adapter, None, targets, tmp_path / "logs")


def test_a_server_that_drops_in_flight_requests_fails(tmp_path: Path) -> None:
    script = tmp_path / "toy_server.py"
    script.write_text(_TOY_SERVER)
    toy = ArgvServer("toy", [sys.executable, str(script)])
    result = PROBES["graceful_shutdown"](_context(tmp_path, "toy", toy), _params(1))
    assert result.status == FAIL, result.evidence
    assert result.evidence.startswith("figure: ")
    assert "0/4 completed with their full body" in result.evidence
    assert "FAILED: request 1: no response" in result.evidence
    assert "FAILED: no lifespan.shutdown" in result.evidence


def test_a_server_without_workers_is_unsupported_for_the_two_worker_check(tmp_path: Path) -> None:
    daphne = get_server("daphne")
    result = PROBES["graceful_shutdown"](_context(tmp_path, "daphne", daphne), _params(2))
    assert result.status == UNSUPPORTED and "no worker processes" in result.evidence


@pytest.mark.slow
def test_covet_finishes_in_flight_requests_with_two_workers(tmp_path: Path) -> None:
    covet = get_server("covet")
    if not covet.is_installed():
        pytest.skip("covet's server is not installed")
    result = PROBES["graceful_shutdown"](_context(tmp_path, "covet", covet), _params(2))
    assert result.status == PASS, result.evidence
    assert "4/4 completed with their full body" in result.evidence
    assert "2 worker(s)" in result.evidence and "lifespan.shutdown ran" in result.evidence
    assert "s to exit" in result.evidence.split(";")[0]
