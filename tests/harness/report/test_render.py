"""render_report without a browser: inputs, partial inputs, baseline, digest, CLI."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from covetbench.commands import report as report_command
from covetbench.exceptions import ResultsError
from covetbench.records import FailureRecord
from covetbench.report import render_report
from covetbench.report.markdown import md
from covetbench.report.palette import Palette
from tests.harness.report import factory


def test_public_api() -> None:
    import covetbench.report

    assert covetbench.report.__all__ == ["render_report"]


def test_full_report_writes_html_and_summary(tmp_path: Path) -> None:
    directory = factory.write_full(tmp_path)
    html = render_report(directory)
    assert html == directory / "report.html"
    page = html.read_text(encoding="utf-8")
    # self-contained: no scripts, no external references, a CSP that forbids fetching
    assert "<script" not in page
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    assert 'src="http' not in page and 'href="http' not in page and "@import" not in page
    assert page.count("<svg") >= 8 and page.count('role="img"') == page.count("<svg")
    summary = (directory / "summary.md").read_text(encoding="utf-8")
    assert "### Fastest per scenario" in summary
    assert "| plaintext | raw · granian |" in summary
    assert "covet · covet · json · wrk · c64 | -12.0%" in summary  # the gate's regression
    assert "784K requests per second | REFUTED" in summary


def test_nothing_to_report_raises(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="nothing to report"):
        render_report(tmp_path)
    with pytest.raises(ResultsError, match="not a directory"):
        render_report(tmp_path / "absent")


def test_unreadable_input_is_reported_not_fatal(tmp_path: Path) -> None:
    factory.write(tmp_path, claims=factory.claims())
    (tmp_path / "conformance.json").write_text("{not json", encoding="utf-8")
    page = render_report(tmp_path).read_text(encoding="utf-8")
    assert "conformance.json could not be used" in page
    assert "784K requests per second" in page
    (tmp_path / "claims.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ResultsError, match="conformance.json could not be used"):
        render_report(tmp_path)


def test_results_only_names_what_is_missing(tmp_path: Path) -> None:
    factory.write(tmp_path, results=factory.full_results())
    render_report(tmp_path)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "**Not in this report:** conformance.json" in summary
    assert "claims.json" in summary and "### Claims" not in summary


def test_unfinished_run_is_summarized_from_its_trials(tmp_path: Path) -> None:
    runs = factory.trials(["covet"], ["uvicorn"], ["json"], [64])
    factory.write(tmp_path, results=factory.results(runs, with_summary=False))
    page = render_report(tmp_path).read_text(encoding="utf-8")
    assert "has trials but no summary" in page
    assert "Throughput per scenario" in page


def test_baseline_directory_is_compared(tmp_path: Path) -> None:
    base = factory.write(tmp_path / "base", results=factory.full_results(n_trials=5))
    slower = factory.full_results(slowdown=1.25, seed=8, n_trials=5)
    cur = factory.write(tmp_path / "cur", results=slower)
    page = render_report(cur, baseline=base).read_text(encoding="utf-8")
    assert "Comparison with the baseline" in page
    assert "compared by the gate" in page
    summary = (cur / "summary.md").read_text(encoding="utf-8")
    assert (
        "### Against the baseline" in summary
        and "FAIL: 72 of 72 configurations regressed" in summary
    )
    assert re.search(r"\| covet · covet · json · wrk · c64 \| -\d+\.\d%", summary)


def test_summary_md_escapes_markdown_and_html() -> None:
    assert md("a|b") == r"a\|b"
    assert md("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert md("[x](javascript:1)\nnext") == r"\[x\](javascript:1) next"


def test_palette_is_stable_and_keyed_by_name() -> None:
    one = Palette.build(["uvicorn", "granian", "mine"], ["covet"])
    two = Palette.build(["mine", "granian", "uvicorn", "daphne"], ["raw", "covet"])
    assert one.server("uvicorn") == two.server("uvicorn")
    assert one.server("mine") == two.server("mine")
    assert one.app("covet") == two.app("covet")
    assert len(set(two.servers.values())) == 4


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    report_command.add_arguments(parser)
    factory.write(tmp_path / "run", claims=factory.claims())
    assert report_command.run(parser.parse_args([str(tmp_path / "run")])) == 0
    assert "report.html" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert report_command.run(parser.parse_args([str(tmp_path / "empty")])) == 2
    assert "nothing to report" in capsys.readouterr().err


def test_invalid_results_json_is_a_problem_note(tmp_path: Path) -> None:
    data = factory.full_results()
    data["runs"][0]["rps"] = "fast"
    factory.write(tmp_path, results=data, claims=factory.claims())
    page = render_report(tmp_path).read_text(encoding="utf-8")
    assert "results.json could not be used" in page
    assert json.loads((tmp_path / "results.json").read_text())["runs"][0]["rps"] == "fast"


def test_exact_commands_come_from_the_run_directory(tmp_path: Path) -> None:
    runs = factory.trials(["raw"], ["uvicorn"], ["json"], [64], n_trials=1)
    runs[0].raw_output_file = "raw/raw-uvicorn-json-wrk-c64-t1.txt"
    factory.write(tmp_path, results=factory.results(runs))
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "raw-uvicorn-json-wrk-c64-t1.txt").write_text(
        "/usr/bin/wrk --latency -t 1 -c 64 http://127.0.0.1:1/json\nRunning 1s test\n"
    )
    (tmp_path / "logs").mkdir()
    options = {"command": ["python", "-m", "uvicorn", "apps.raw:app", "--root-path", "a b"]}
    (tmp_path / "logs" / "raw-uvicorn.options.json").write_text(json.dumps(options))
    page = render_report(tmp_path).read_text(encoding="utf-8")
    assert "/usr/bin/wrk --latency -t 1 -c 64 http://127.0.0.1:1/json" in page
    assert "python -m uvicorn apps.raw:app --root-path &#39;a b&#39;" in page
    assert "covet-bench run quick" in page


def test_degenerate_results_still_render(tmp_path: Path) -> None:
    failures = [FailureRecord("covet", "uvicorn", None, "launch", "exited with status 1", "boom")]
    factory.write(tmp_path / "none", results=factory.results([], failures=failures))
    page = render_report(tmp_path / "none").read_text(encoding="utf-8")
    assert "exited with status 1" in page and "Throughput per scenario" not in page

    runs = factory.trials(["covet"], ["uvicorn"], ["json"], [64], n_trials=1)
    runs[0].rps = 0.0
    runs[0].latency_ms = {"p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    factory.write(tmp_path / "zero", results=factory.results(runs))
    page = render_report(tmp_path / "zero").read_text(encoding="utf-8")
    assert "Throughput per scenario" in page and "latency percentiles" not in page
