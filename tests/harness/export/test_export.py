"""`covet-bench export`: each format written from a real run directory and read back by a
reader of that format (junitparser for JUnit; the documented JSON shapes for the others)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Failure, JUnitXml, Skipped, TestSuite

from covetbench.commands import export as export_cmd
from covetbench.records import FailureRecord
from covetbench.results.meta import collect_meta
from covetbench.results.store import ResultsWriter
from covetbench.run.validity import judge_configs
from tests.harness.factories import make_trial

#: Bencher Metric Format, as its reference page documents it: benchmark name -> measure ->
#: {value (required), lower_value, upper_value}, all numbers
BMF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "type": "object",
            "properties": {
                "value": {"type": "number"},
                "lower_value": {"type": "number"},
                "upper_value": {"type": "number"},
            },
            "required": ["value"],
            "additionalProperties": False,
        },
    },
}

#: github-action-benchmark's customBiggerIsBetter / customSmallerIsBetter input, as its README
#: documents it: a list of {name, unit, value} with optional free-text range and extra
GITHUB_ACTION_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "unit": {"type": "string"},
            "value": {"type": "number"},
            "range": {"type": "string"},
            "extra": {"type": "string"},
        },
        "required": ["name", "unit", "value"],
        "additionalProperties": False,
    },
}

CLAIMS = {
    "meta": {},
    "claims": [
        {"id": "fast", "statement": "fast", "verdict": "VALIDATED", "evidence": "42 req/s"},
        {"id": "784k", "statement": "784K RPS", "verdict": "REFUTED", "evidence": "34.5k"},
        {"id": "soak", "statement": "no leak", "verdict": "INCONCLUSIVE", "evidence": "no soak"},
    ],
}


def make_run(path: Path, claims: bool = True) -> Path:
    """covet on uvicorn (clean), on granian (flagged errors), raw on daphne (failed launch)."""
    writer = ResultsWriter(path, collect_meta("test", None, cwd=path.parent))
    for i, rps in enumerate([1000.0, 1010, 990, 1005, 995]):
        writer.add_trial(make_trial(rps, i))
        writer.add_trial(make_trial(rps / 2, i, server="granian", flags=["errors"]))
    writer.add_failure(FailureRecord("raw", "daphne", None, "launch", "exited 1", "Traceback"))
    writer.finish(judge_configs(writer.trials))
    if claims:
        (path / "claims.json").write_text(json.dumps(CLAIMS))
    return path


def export(directory: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    export_cmd.add_arguments(parser)
    return export_cmd.run(parser.parse_args([str(directory), *argv]))


def test_bmf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path / "run")
    assert export(run, "--format", "bmf") == 0
    doc = json.loads((run / "bmf.json").read_text())
    jsonschema.validate(doc, BMF_SCHEMA)
    assert list(doc) == ["covet/uvicorn/json c64"]  # the errors-flagged one is left out
    throughput = doc["covet/uvicorn/json c64"]["throughput"]
    assert throughput["value"] == 1000.0
    assert throughput["lower_value"] <= 1000.0 <= throughput["upper_value"]
    assert doc["covet/uvicorn/json c64"]["latency"]["value"] == 1_000_000.0  # 1 ms in ns
    assert "left out (flagged) covet/granian/json c64: errors" in capsys.readouterr().err
    assert export(run, "--format", "bmf", "--include-flagged", "--out", str(tmp_path / "x")) == 0
    assert len(json.loads((tmp_path / "x").read_text())) == 2


@pytest.mark.parametrize(
    ("measure", "unit", "value"),
    [("throughput", "req/s", 1000.0), ("latency-p50", "ms", 1.0), ("latency-p99", "ms", 3.0)],
)
def test_github_action_benchmark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], measure: str, unit: str, value: float
) -> None:
    run = make_run(tmp_path / "run")
    code = export(run, "--format", "github-action-benchmark", "--measure", measure, "--out", "-")
    assert code == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    jsonschema.validate(rows, GITHUB_ACTION_SCHEMA)
    [row] = rows
    assert (row["name"], row["unit"], row["value"]) == ("covet/uvicorn/json c64", unit, value)
    assert "median of 5 trials" in row["extra"]
    tool = "customBiggerIsBetter" if measure == "throughput" else "customSmallerIsBetter"
    assert f"tool: {tool}" in captured.err


def test_junit_read_back(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    assert export(run, "--format", "junit") == 0
    xml = JUnitXml.fromfile(str(run / "junit-run.xml"))
    suites = {suite.name: suite for suite in xml if isinstance(suite, TestSuite)}
    assert set(suites) == {"configurations", "claims"}
    configs = {f"{c.classname} {c.name}": c for c in suites["configurations"]}
    assert set(configs) == {
        "covet.uvicorn json wrk c64",
        "covet.granian json wrk c64",
        "raw.daphne (every scenario)",
    }
    assert configs["covet.uvicorn json wrk c64"].is_passed
    [skipped] = configs["covet.granian json wrk c64"].result
    assert isinstance(skipped, Skipped) and "errors" in (skipped.message or "")
    [failed] = configs["raw.daphne (every scenario)"].result
    assert isinstance(failed, Failure) and failed.message == "launch failed: exited 1"
    assert failed.text == "Traceback"
    configs_suite = suites["configurations"]
    assert (configs_suite.tests, configs_suite.failures, configs_suite.skipped) == (3, 1, 1)
    claims = {c.name: c for c in suites["claims"]}
    assert claims["fast"].is_passed
    assert isinstance(claims["784k"].result[0], Failure)
    assert isinstance(claims["soak"].result[0], Skipped)
    assert (claims["soak"].result[0].message or "").startswith("INCONCLUSIVE")


def test_junit_of_claims_alone_and_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only = tmp_path / "claims"
    only.mkdir()
    (only / "claims.json").write_text(json.dumps(CLAIMS))
    assert export(only, "--format", "junit") == 0
    xml = JUnitXml.fromfile(str(only / "junit-run.xml"))
    assert [s.name for s in xml if isinstance(s, TestSuite)] == ["claims"]
    # no results: the JSON formats have nothing to export
    assert export(only, "--format", "bmf") == 2
    assert "results.json: not found" in capsys.readouterr().err
    (only / "claims.json").write_text('{"claims": [{"id": 1}]}')
    assert export(only, "--format", "junit") == 2
    assert "claims.json: expected" in capsys.readouterr().err


def test_junit_carries_the_gate_verdicts(tmp_path: Path) -> None:
    from covetbench.gate.compare import compare_dirs
    from covetbench.gate.render import write_outputs
    from covetbench.gate.rule import GateConfig

    base = tmp_path / "base"
    writer = ResultsWriter(base, collect_meta("test", None, cwd=tmp_path))
    for i, rps in enumerate([1000.0, 1010, 990, 1005, 995, 1002, 998, 1001]):
        writer.add_trial(make_trial(rps, i))
        writer.add_trial(make_trial(rps, i, server="daphne"))
    cur = tmp_path / "cur"
    writer = ResultsWriter(cur, collect_meta("test", None, cwd=tmp_path))
    for i, rps in enumerate([1000.0, 1010, 990, 1005, 995, 1002, 998, 1001]):
        writer.add_trial(make_trial(rps * 0.8, i))
    write_outputs(compare_dirs(base, cur, GateConfig()), cur)
    assert export(cur, "--format", "junit") == 0
    xml = JUnitXml.fromfile(str(cur / "junit-run.xml"))
    [gate] = [s for s in xml if isinstance(s, TestSuite) and s.name == "gate"]
    cases = {f"{c.classname} {c.name}": c for c in gate}
    [regressed] = cases["gate.covet.uvicorn json wrk c64"].result
    assert isinstance(regressed, Failure) and (regressed.message or "").startswith("regression")
    [gone] = cases["gate.covet.daphne json wrk c64"].result
    assert isinstance(gone, Failure) and gone.message == "missing: not in the current run"
