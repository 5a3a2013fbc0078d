"""render_report without a browser: inputs, partial inputs, baseline, digest, CLI."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from covetbench.commands import report as report_command
from covetbench.exceptions import ResultsError
from covetbench.records import FailureRecord, TrialRecord
from covetbench.report import render_report
from covetbench.report.markdown import md
from covetbench.report.palette import Palette
from covetbench.results.store import load_results
from tests.harness.factories import make_trial
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
    # 8 trials a side: the gate's Holm correction over 72 configurations needs p < 0.01 / 72
    base = factory.write(tmp_path / "base", results=factory.full_results(n_trials=8))
    slower = factory.full_results(slowdown=1.25, seed=8, n_trials=8)
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


# -- honest intervals, configuration flags, winners only when they win -----------------------


def _run(*groups: tuple[str, str, list[float]]) -> list[TrialRecord]:
    """Trials of app/server json c64 with the given requests/s."""
    return [
        make_trial(rps, i, app=app, server=server)
        for app, server, values in groups
        for i, rps in enumerate(values)
    ]


def _schema_1(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as a schema-1 writer wrote it: ci95_low/ci95_high, no level, method or flags."""
    old = dict(data, schema_version=1)
    old["summary"] = [
        {
            **{k: v for k, v in row.items() if not k.startswith("ci_") and k != "config_flags"},
            "ci95_low": row["ci_low"],
            "ci95_high": row["ci_high"],
        }
        for row in data["summary"]
    ]
    return old


def test_schema_1_results_still_load_and_render(tmp_path: Path) -> None:
    old = _schema_1(factory.full_results())
    factory.write(tmp_path, results=old)
    loaded = load_results(tmp_path)
    assert loaded["schema_version"] == 2
    row = loaded["summary"][0]
    assert (row["ci_low"], row["ci_high"]) == (old["summary"][0]["ci95_low"],) + (
        old["summary"][0]["ci95_high"],
    )
    assert (row["ci_level"], row["ci_method"], row["config_flags"]) == (None, "bootstrap", [])
    page = render_report(tmp_path).read_text(encoding="utf-8")
    assert "bootstrap, level unknown" in page
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "bootstrap, level unknown" in summary and "95" not in summary.split("### Against")[0]


def test_two_trials_print_their_level_never_95(tmp_path: Path) -> None:
    runs = factory.trials(["covet", "raw"], ["uvicorn"], ["json"], [64], n_trials=2)
    factory.write(tmp_path, results=factory.results(runs))
    page = render_report(tmp_path).read_text(encoding="utf-8")
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    # the page's note explaining the rule is the only place 95 % may appear
    page = page.replace("its level printed where it is below 95 %", "")
    for text in (page, summary):
        assert "min-max, 50 %" in text
        assert "95%" not in text and "95 %" not in text
    assert "too\\_few\\_trials" in summary


def test_unstable_configuration_is_not_ok_in_summary_md(tmp_path: Path) -> None:
    shaky = [20_000.0, 24_000.0, 16_000.0, 21_000.0, 19_000.0]  # CV ~15 %
    factory.write(tmp_path, results=factory.results(_run(("covet", "uvicorn", shaky))))
    render_report(tmp_path)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    [row] = [line for line in summary.splitlines() if line.startswith("| json |")]
    assert "clean" not in row and "unstable" in row
    assert "1 configuration(s) **unstable** (covet/uvicorn/json c64)" in summary


def test_implausible_configuration_is_flagged_in_summary_md(tmp_path: Path) -> None:
    runs = _run(
        ("covet", "uvicorn", [14_500.0, 14_900.0, 15_200.0, 14_800.0, 15_000.0]),
        ("raw", "uvicorn", [10_900.0, 11_200.0, 11_600.0, 11_000.0, 11_300.0]),
    )
    factory.write(tmp_path, results=factory.results(runs))
    page = render_report(tmp_path).read_text(encoding="utf-8")
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "1 configuration(s) **implausible** (covet/uvicorn/json c64)" in summary
    [row] = [line for line in summary.splitlines() if line.startswith("| json |")]
    assert "clean" not in row, "the faster figure is flagged: the headline says so"
    assert "implausible" in page


def test_overlapping_intervals_are_tied_within_noise(tmp_path: Path) -> None:
    runs = _run(
        ("covet", "granian", [20_625.0, 19_800.0, 22_000.0, 20_500.0, 20_900.0]),
        ("covet", "uvicorn", [20_300.0, 19_000.0, 21_500.0, 20_100.0, 20_400.0]),
        ("covet", "hypercorn", [12_000.0, 11_900.0, 12_100.0, 12_050.0, 11_950.0]),
    )
    factory.write(tmp_path, results=factory.results(runs))
    page = render_report(tmp_path).read_text(encoding="utf-8")
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    tied = "tied within noise: covet · granian, covet · uvicorn"
    assert tied in page and tied in summary
    assert "hypercorn" not in summary.split("tied within noise")[1].split("|")[0]
    assert "Tied within noise: covet on granian, covet on uvicorn." in page  # the chart's alt


def test_a_clear_winner_is_named_with_its_lead(tmp_path: Path) -> None:
    runs = _run(
        ("covet", "granian", [32_000.0, 31_000.0, 33_000.0, 32_500.0, 31_500.0]),
        ("covet", "uvicorn", [25_000.0, 24_000.0, 26_000.0, 25_500.0, 24_500.0]),
    )
    factory.write(tmp_path, results=factory.results(runs))
    render_report(tmp_path)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "| json | covet · granian | 64 | 32,000 |" in summary
    assert "| 28.0% | clean |" in summary


# -- paired ratios and stability ----------------------------------------------------------------


def test_paired_ratios_and_stability_are_in_the_page_and_summary(tmp_path: Path) -> None:
    # the host drifts by 2x across rounds; covet does 90 % of raw in every round
    host = [20_000.0, 10_000.0, 19_000.0, 11_000.0, 10_500.0]
    runs = _run(("raw", "uvicorn", host), ("covet", "uvicorn", [0.9 * h for h in host]))
    for trial in runs:
        trial.round = trial.trial + 1
    data = factory.results(runs)
    assert "ratios" not in data, "computed by the report when results.json has none"
    factory.write(tmp_path, results=data)
    page = render_report(tmp_path).read_text(encoding="utf-8")
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    sentence = "covet keeps 90 % [90-90 %, min-max, 93 %] of raw on uvicorn (json c64, 5 rounds)"
    assert sentence in page
    assert sentence.replace("[", "\\[").replace("]", "\\]") in summary  # Markdown-escaped
    assert 'id="ratios"' in page and "Paired ratios of requests per second" in page
    assert "Stability per server" in page and "| uvicorn | 2 |" in summary
