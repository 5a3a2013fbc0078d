"""A throughput claim that names no hardware and falls short here is NOT REPRODUCED, with the
hardware line (rate on one core of this CPU, cores needed, 1 -> 2 worker scaling); a claim
naming this run's CPU and falling short is REFUTED. The line reaches claims.json, summary.md
and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from covetbench.claims.evidence import Evidence
from covetbench.claims.ledger import ClaimSpec, write_claims
from covetbench.claims.throughput import judge_throughput
from covetbench.records import TrialRecord
from covetbench.report import render_report
from covetbench.results.meta import collect_meta
from covetbench.results.store import ResultsWriter
from covetbench.verdicts import NOT_REPRODUCED, REFUTED, TONES, WARN, css_class
from tests.harness.factories import make_trial


def run_dir(path: Path, rps: list[float], workers: int = 1) -> Path:
    meta = collect_meta("test", {"server_cpus": [0]}, cwd=path.parent)
    meta["cpu_model"] = "Test CPU 9000"
    meta["suite_config"] = {"workers": workers}
    writer = ResultsWriter(path, meta)
    for i, value in enumerate(rps):
        trial: TrialRecord = make_trial(value, i, server="covet", scenario="plaintext")
        writer.add_trial(trial)
    return path


def spec(**params: Any) -> ClaimSpec:
    base = {"app": "covet", "servers": ["*"], "scenarios": ["plaintext"], "expected_rps": 784_000}
    return ClaimSpec("throughput-784k", "784K RPS", "readme", "throughput", base | params)


def test_a_claim_naming_no_hardware_is_not_reproduced_with_the_hardware_line(
    tmp_path: Path,
) -> None:
    results = run_dir(tmp_path / "run", [20_000.0, 20_100.0, 20_200.0])
    v = judge_throughput(spec(), Evidence.gather(results))
    assert v.verdict == NOT_REPRODUCED
    line = v.hardware_line or ""
    assert line.startswith("best covet configuration (covet/covet/plaintext c64)")
    assert "20,100 req/s on one core of Test CPU 9000" in line
    assert "needs >= 40 such cores at perfect scaling" in line
    assert "scaling from 1 to 2 workers measured here: not measured" in line
    assert "--workers 2" in line and f"--results {results} --scaling DIR2" in line
    assert "does not make it false on other machines" in v.evidence
    assert TONES[NOT_REPRODUCED] == WARN and css_class(NOT_REPRODUCED) == "s-NOT-REPRODUCED"


def test_a_claim_naming_this_cpu_is_refuted(tmp_path: Path) -> None:
    results = run_dir(tmp_path / "run", [20_000.0, 20_100.0, 20_200.0])
    assert judge_throughput(spec(hardware="CPU 9000"), Evidence.gather(results)).verdict == REFUTED
    other = judge_throughput(spec(hardware="Xeon 8480"), Evidence.gather(results))
    assert other.verdict == NOT_REPRODUCED and "it names 'Xeon 8480'" in other.evidence


def test_the_scaling_from_a_two_worker_run(tmp_path: Path) -> None:
    one = run_dir(tmp_path / "one", [20_000.0, 20_000.0, 20_000.0])
    two = run_dir(tmp_path / "two", [36_000.0, 36_000.0, 36_000.0], workers=2)
    v = judge_throughput(spec(), Evidence.gather(one, scaling_dir=two))
    assert v.hardware_line is not None
    assert "measured here: 1.80x (covet/covet/plaintext c64: 20,000 req/s with 1 worker" in (
        v.hardware_line
    )
    # either order: the run at 2 workers as --results, the 1-worker one as --scaling
    swapped = judge_throughput(spec(), Evidence.gather(two, scaling_dir=one))
    assert swapped.hardware_line is not None and "1.80x" in swapped.hardware_line


def test_the_hardware_line_travels_into_claims_json_summary_and_report(tmp_path: Path) -> None:
    results = run_dir(tmp_path / "run", [20_000.0, 20_100.0, 20_200.0])
    v = judge_throughput(spec(), Evidence.gather(results))
    write_claims(results, [v], {})
    doc = json.loads((results / "claims.json").read_text())
    assert doc["claims"][0]["verdict"] == "NOT REPRODUCED"
    assert doc["claims"][0]["hardware_line"] == v.hardware_line
    html = render_report(results).read_text()
    summary = (results / "summary.md").read_text()
    assert 'class="badge s-NOT-REPRODUCED"' in html and "on one core of Test CPU 9000" in html
    assert "NOT REPRODUCED" in summary and "on one core of Test CPU 9000" in summary
