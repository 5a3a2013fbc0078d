from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from covetbench.conformance import autobahn
from covetbench.conformance.model import ERROR, FAIL, PASS, UNSUPPORTED
from covetbench.conformance.output import write_report
from covetbench.conformance.runner import ConformanceRunner, ConformConfig
from covetbench.servers.base import ServerAdapter
from tests.harness.conftest import ArgvServer


def _run(tmp_path: Path, adapters: dict[str, ServerAdapter], ids: list[str]) -> dict[str, Any]:
    config = ConformConfig(
        servers=list(adapters), out_dir=tmp_path, frameworks=[], ids=ids, autobahn=False
    )
    report = ConformanceRunner(config, adapters=adapters, progress=lambda _: None).run()
    json_path, junit_path = write_report(report, tmp_path)
    assert junit_path.exists()
    data: dict[str, Any] = json.loads(json_path.read_text())
    return data


def test_not_installed_is_unsupported_and_crash_is_error(tmp_path: Path) -> None:
    data = _run(
        tmp_path,
        {
            "missing": ArgvServer(
                "missing", ["false"], "no-such-distribution-covetbench", append_port=False
            ),
            "crashing": ArgvServer(
                "crashing", ["sh", "-c", "echo boom; exit 3"], "pytest", append_port=False
            ),
        },
        ["sem.date-header", "asgi.scope.type"],
    )
    assert data["servers"] == ["missing", "crashing"]
    for check in data["checks"]:
        assert check["results"]["missing"] == {"status": UNSUPPORTED, "evidence": "not installed"}
        assert check["results"]["crashing"]["status"] == ERROR
        assert "boom" in check["results"]["crashing"]["evidence"]


def test_runner_against_uvicorn_writes_matrix_and_junit(tmp_path: Path) -> None:
    from covetbench.servers import get_server

    adapter = get_server("uvicorn")
    if not adapter.is_installed():
        pytest.skip("uvicorn is not installed")
    ids = ["sem.date-header", "h1.host-missing", "lifespan.shutdown", "asgi.scope.extensions"]
    data = _run(tmp_path, {"uvicorn": adapter}, ids)
    results = {c["id"]: c["results"]["uvicorn"] for c in data["checks"]}
    assert results["sem.date-header"]["status"] == PASS
    assert results["lifespan.shutdown"]["status"] == PASS
    assert all(r["status"] in (PASS, FAIL, UNSUPPORTED) for r in results.values())
    assert data["meta"]["server_versions"]["uvicorn"] == adapter.version()
    for check in data["checks"]:
        assert set(check) >= {"id", "group", "level", "title", "spec", "results"}
    tree = ET.parse(tmp_path / "junit.xml")
    suite = tree.getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "uvicorn"
    cases = suite.findall("testcase")
    assert len(cases) == len(ids)
    failures = sum(1 for case in cases if case.find("failure") is not None)
    assert suite.get("failures") == str(failures)


def test_autobahn_summary_per_category() -> None:
    index = {
        "1.1.1": {"behavior": "OK", "behaviorClose": "OK"},
        "1.1.2": {"behavior": "NON-STRICT", "behaviorClose": "OK"},
        "7.1.5": {"behavior": "OK", "behaviorClose": "FAILED"},
        "6.4.1": {"behavior": "FAILED", "behaviorClose": "OK"},
    }
    results = autobahn.summarise(index, autobahn.DEFAULT_EXCLUDE)
    assert results["autobahn.1"].status == PASS
    assert "NON-STRICT 1" in results["autobahn.1"].evidence
    assert results["autobahn.7"].status == FAIL and "7.1.5" in results["autobahn.7"].evidence
    assert results["autobahn.6"].status == FAIL
    assert results["autobahn.2"].status == UNSUPPORTED
    assert "autobahn.9" not in results


def test_autobahn_without_python2_is_unsupported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(autobahn, "python2", lambda: None)
    results = autobahn.run("ws://127.0.0.1:1/ws/echo", "x", tmp_path)
    assert results and all(r.status == UNSUPPORTED for r in results.values())
    assert "Python 2.7" in next(iter(results.values())).evidence
