"""Run history: one line per run keyed by commit; the report's trend section reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covetbench.report import comparison_charts
from covetbench.report.render import render_report
from covetbench.results.history import (
    append_run,
    history_path,
    load_history,
    record_run,
    trend_series,
)


def _results(commit: str, rps: float, app: str = "covet<b>") -> dict[str, Any]:
    row = {
        "app": app,
        "server": "uvicorn",
        "scenario": "json",
        "loadgen": "wrk",
        "concurrency": 64,
        "trials": 3,
        "valid_trials": 3,
        "median_rps": rps,
        "ci_low": rps * 0.9,
        "ci_high": rps * 1.1,
        "cv": 0.01,
        "median_latency_ms": {},
        "flags": [],
    }
    return {"meta": {"git_commit": commit, "git_dirty": False, "suite": "quick"}, "summary": [row]}


def test_append_and_load_keyed_by_commit(tmp_path: Path) -> None:
    run = tmp_path / "reports" / "run1"
    run.mkdir(parents=True)
    path = append_run(run, _results("a" * 40, 1000.0))
    assert path == tmp_path / "reports" / "history.jsonl" == history_path(run)
    append_run(run, _results("b" * 40, 1200.0))
    with path.open("a") as file:
        file.write("not json\n")
    entries = load_history(path)
    assert [e["git_commit"][0] for e in entries] == ["a", "b"]
    series = trend_series(entries)
    assert series == {"covet<b>/uvicorn/json c64": [("a" * 12, 1000.0), ("b" * 12, 1200.0)]}
    assert load_history(tmp_path / "missing.jsonl") == []


def test_record_run_reads_results_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVETBENCH_HISTORY", str(tmp_path / "h.jsonl"))
    run = tmp_path / "run"
    run.mkdir()
    assert record_run(run) is None
    (run / "results.json").write_text(json.dumps(_results("c" * 40, 5.0)))
    assert record_run(run) == tmp_path / "h.jsonl"
    assert len(load_history(tmp_path / "h.jsonl")) == 1


def test_trend_section_renders_escaped(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "gate.json").write_text(
        json.dumps(
            {
                "baseline": "b",
                "current": "c",
                "threshold_pct": 5,
                "alpha": 0.01,
                "comparisons": [],
                "exit_code": 2,
            }
        )
    )
    for commit, rps in (("1" * 40, 900.0), ("2" * 40, 1100.0)):
        append_run(run, _results(commit, rps))
    html = render_report(run).read_text()
    assert 'id="history"' in html and "History across commits" in html
    assert "covet<b>" not in html and "covet&lt;b&gt;" in html
    assert "<script" not in html
    assert comparison_charts.trend_chart({}) is None
