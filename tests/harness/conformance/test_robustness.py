"""The robustness checks can fail, and say by how much: a deliberately weak server (no timeouts,
unbounded buffers, upgrade bodies parsed as requests, raw access lines, a quadratic header
regex: weak_server.py) fails each with its figure in the evidence; uvicorn passes the ones it
is known to pass. Figures are kept small (short windows, smaller floods) so the tests stay
quick; no timing is asserted beyond "closed within a bounded window"."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from covetbench.conformance.loader import load_checks
from covetbench.conformance.model import FAIL, PASS, ConformanceCheck
from covetbench.conformance.output import write_report
from covetbench.conformance.probes import ProbeContext
from covetbench.conformance.runner import ConformanceRunner, ConformConfig, run_check
from tests.harness.conformance.conftest import probe_targets
from tests.harness.conftest import ArgvServer

WEAK_SERVER = Path(__file__).with_name("weak_server.py")
CHECKS = {c.id: c for c in load_checks(groups=["robustness"])}
#: smaller floods and windows than the real run: the weak server fails them all the same
QUICK = {"window_s": 3.0, "settle_s": 1.5, "requests": 150}

#: every check the weak server must fail, and the figure its evidence must carry
WEAK_FAILS = {
    "rob.mem.pipeline-flood": r"figure: \d+\.\d MiB",
    "rob.mem.ws-ping-flood": r"figure: \d+\.\d MiB",
    "rob.hold.stalled-body": r"figure: >= 3\.0 s \(still open\)",
    "rob.hold.early-answer": r"figure: >= 3\.0 s \(still open\)",
    "rob.hold.slowloris": r"figure: >= 3\.0 s \(still open\)",
    "rob.hold.upgrade-with-body": r"figure: >= 3\.0 s \(still open\)",
    "rob.hold.ws-data-before-accept": r"figure: >= 3\.0 s \(still open\)",
    "rob.cpu.header-whitespace": r"figure: \d+ ms CPU",
    "rob.smuggle.upgrade-h2c": r"figure: smuggled request answered it",
    "rob.smuggle.upgrade-foo": r"figure: smuggled request answered it",
    "rob.smuggle.connect-body": r"figure: smuggled request answered it",
    "rob.smuggle.connect-authority-body": r"figure: smuggled request answered it",
    "rob.log.newline-in-path": r"figure: 2 forged line\(s\) in the access log",
}
#: what uvicorn (httptools) passes in every run here, each with its figure
UVICORN_PASSES = {
    "rob.mem.pipeline-flood": r"figure: \d+\.\d MiB",
    "rob.hold.early-answer": r"figure: \d+\.\d s",
    "rob.cpu.header-whitespace": r"figure: \d+ ms CPU",
    "rob.smuggle.upgrade-foo": r"figure: smuggled request not executed",
    "rob.log.newline-in-path": r"figure: control characters escaped",
}


def quick(check: ConformanceCheck) -> ConformanceCheck:
    return replace(check, params={**check.params, **QUICK})


def weak_adapter() -> ArgvServer:
    return ArgvServer("weak", [sys.executable, str(WEAK_SERVER)], "pytest")


@pytest.fixture
def weak(tmp_path: Path) -> ProbeContext:
    """A context whose server is the weak one: each robustness probe launches its own."""
    return ProbeContext(
        "127.0.0.1", 0, "weak", weak_adapter(), None, probe_targets(), tmp_path / "logs"
    )


def test_robustness_group_covers_the_issue() -> None:
    assert set(WEAK_FAILS) | {"rob.parser-differential"} == set(CHECKS)
    assert all(c.level == "MUST" and c.slow and c.kind == "probe" for c in CHECKS.values())
    # the file-level [params] reach every check
    assert all("covet" in c.params["servers"] for c in CHECKS.values())


@pytest.mark.parametrize("check_id", sorted(WEAK_FAILS))
def test_weak_server_fails_with_its_figure(weak: ProbeContext, check_id: str) -> None:
    result = run_check(quick(CHECKS[check_id]), weak)
    assert result.status == FAIL, result.evidence
    assert re.search(WEAK_FAILS[check_id], result.evidence), result.evidence


def test_memory_figure_is_the_buffered_growth(weak: ProbeContext) -> None:
    result = run_check(quick(CHECKS["rob.mem.pipeline-flood"]), weak)
    growth = float(re.search(r"figure: (\d+\.\d) MiB", result.evidence).group(1))  # type: ignore[union-attr]
    assert growth > 8.0  # 150 x 100 KB answered into a buffer nobody drains


@pytest.mark.parametrize("check_id", sorted(UVICORN_PASSES))
def test_uvicorn_passes_with_its_figure(tmp_path: Path, check_id: str) -> None:
    from covetbench.servers import get_server

    adapter = get_server("uvicorn")
    if not adapter.is_installed():
        pytest.skip("uvicorn is not installed")
    ctx = ProbeContext("127.0.0.1", 0, "uvicorn", adapter, None, probe_targets(), tmp_path)
    result = run_check(quick(CHECKS[check_id]), ctx)
    assert result.status == PASS, result.evidence
    assert re.search(UVICORN_PASSES[check_id], result.evidence), result.evidence


def test_a_server_that_will_not_launch_is_an_error(tmp_path: Path) -> None:
    ctx = ProbeContext(
        "127.0.0.1",
        0,
        "gone",
        ArgvServer("gone", ["sh", "-c", "echo unknown option; exit 2"], "pytest", False),
        None,
        probe_targets(),
        tmp_path,
    )
    result = run_check(CHECKS["rob.smuggle.connect-body"], ctx)
    assert result.status == "ERROR" and "unknown option" in result.evidence


def test_figures_reach_the_matrix_and_junit(tmp_path: Path) -> None:
    ids = ["rob.smuggle.upgrade-h2c", "rob.log.newline-in-path"]
    config = ConformConfig(
        servers=["weak"], out_dir=tmp_path, frameworks=[], ids=ids, autobahn=False
    )
    runner = ConformanceRunner(config, adapters={"weak": weak_adapter()}, progress=lambda _: None)
    json_path, junit_path = write_report(runner.run(), tmp_path)
    data: dict[str, Any] = json.loads(json_path.read_text())
    results = {c["id"]: c["results"]["weak"] for c in data["checks"]}
    assert {c["group"] for c in data["checks"]} == {"robustness"}
    for check_id in ids:
        assert results[check_id]["status"] == FAIL
        assert results[check_id]["evidence"].startswith("figure: ")
    failures = ET.parse(junit_path).getroot().findall("testsuite/testcase/failure")
    assert len(failures) == 2 and all((f.text or "").startswith("figure: ") for f in failures)
