"""The deterministic gate: callgrind counts are positive and repeatable; verdicts and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covetbench.cli import main
from covetbench.exceptions import ExitCode, UsageError
from covetbench.gate.instructions.compare import compare, load_document, summary_markdown
from covetbench.gate.instructions.measure import (
    CountTarget,
    InstructionsConfig,
    build_targets,
    measure,
    valgrind_path,
)
from covetbench.scenarios import get_scenario
from covetbench.servers import AppTarget
from covetbench.verdicts import IMPROVEMENT, REGRESSION, UNCHANGED
from tests.harness.conftest import MakeApp

needs_valgrind = pytest.mark.skipif(
    valgrind_path() is None, reason="valgrind is not installed (apt-get install valgrind)"
)

TINY_APP = """
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"Hello, World!"})
"""
#: few requests: the per-request cost is tiny, the count stays exact
SMALL = InstructionsConfig(requests_low=2, requests_high=42)


def _doc(**per_request: float) -> dict[str, Any]:
    return {
        "meta": {"git_commit": "abc"},
        "measurements": [
            {"key": key.replace("__", "/"), "instructions_per_request": value}
            for key, value in per_request.items()
        ],
    }


@needs_valgrind
def test_instruction_count_is_positive_and_repeatable(make_app: MakeApp) -> None:
    target = CountTarget(make_app("tiny", TINY_APP), get_scenario("plaintext"))
    first = measure(target, target.app.pythonpath or "", SMALL)
    second = measure(target, target.app.pythonpath or "", SMALL)
    assert first.key == "app/tiny/plaintext"
    assert first.per_request > 100
    assert first.total_high > first.total_low
    assert abs(second.per_request - first.per_request) <= 0.01 * first.per_request


@needs_valgrind
def test_each_target_is_the_median_over_heap_layouts(make_app: MakeApp) -> None:
    """Heap layout alone moved a count 0.4 %: every layout is counted, the median reported."""
    target = CountTarget(make_app("tiny", TINY_APP), get_scenario("plaintext"))
    config = InstructionsConfig(requests_low=2, requests_high=42, layouts=(0, 7, 40))
    result = measure(target, target.app.pythonpath or "", config)
    assert len(result.per_layout) == 3
    assert result.per_request == sorted(result.per_layout)[1]
    assert result.as_dict()["per_layout"] == [round(v, 1) for v in result.per_layout]
    assert "--heap-pad 7" in " ".join(target.driver_args(42, 7))
    with pytest.raises(UsageError):
        InstructionsConfig(layouts=())


@needs_valgrind
def test_cli_regression_then_pass(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app("tiny", TINY_APP)
    monkeypatch.chdir(app.pythonpath or ".")
    baseline = tmp_path / "base.json"
    baseline.write_text(json.dumps(_doc(app__tiny__plaintext=1.0)))
    out = tmp_path / "out"
    argv = ["instructions", "--app", "tiny=tiny:app", "--apps", "tiny", "--kinds", "app"]
    argv += ["--scenarios", "plaintext", "--requests", "2,42", "--out", str(out)]
    assert main([*argv, "--baseline", str(baseline)]) == ExitCode.FAILURE
    written = json.loads((out / "instructions.json").read_text())
    assert written["gate"]["comparisons"][0]["verdict"] == REGRESSION
    assert "REGRESSION" in (out / "summary.md").read_text()
    # the run just written, as a baseline for itself: identical counts pass
    current = load_document(out)
    assert compare(current, current, 1.0).exit_code == ExitCode.OK


def test_compare_verdicts_and_exit_codes() -> None:
    base = _doc(a=1000.0, b=1000.0, c=1000.0, gone=5.0)
    cur = _doc(a=1005.0, b=1020.0, c=900.0, new=5.0)
    outcome = compare(base, cur, threshold_pct=1.0)
    verdicts = {c.key: c.verdict for c in outcome.comparisons}
    assert verdicts == {"a": UNCHANGED, "b": REGRESSION, "c": IMPROVEMENT}
    assert outcome.exit_code == ExitCode.FAILURE
    assert outcome.baseline_only == ["gone"] and outcome.current_only == ["new"]
    assert compare(base, _doc(a=1009.0), 1.0).exit_code == ExitCode.OK
    assert compare(base, _doc(other=1.0), 1.0).exit_code == ExitCode.ERROR
    text = summary_markdown(cur, outcome, "main")
    assert "| b | 1,000 | 1,020 | +2.00% | regression |" in text


def test_load_document_rejects_bad_files(tmp_path: Path) -> None:
    from covetbench.exceptions import ResultsError

    with pytest.raises(ResultsError):
        load_document(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"measurements": [{"key": "a"}]}))
    with pytest.raises(ResultsError):
        load_document(bad)


def test_targets_skip_websocket_and_name_kinds() -> None:
    app = AppTarget("x", "x:app", ".")
    targets = build_targets([app], ["plaintext", "ws"], [None, "python"])
    assert [t.key for t in targets] == ["app/x/plaintext", "server-python/x/plaintext"]
    echo = CountTarget(app, get_scenario("echo"), "httptools").driver_args(5)
    assert echo[:2] == ["server", "x:app"] and "--body-hex" in echo


@pytest.mark.parametrize(
    "extra",
    [
        ["--kinds", "server-nope"],
        ["--requests", "5"],
        ["--requests", "9,3"],
        ["--threshold", "0"],
        ["--apps", "no-such-app"],
    ],
    ids=["kind", "requests-format", "requests-order", "threshold", "app"],
)
def test_cli_usage_errors_exit_2(extra: list[str]) -> None:
    assert main(["instructions", *extra]) == 2


def test_cli_unreadable_baseline_exits_2(tmp_path: Path) -> None:
    code = main(["instructions", "--baseline", str(tmp_path / "none.json")])
    assert code == ExitCode.ERROR


def _layout_doc(key: str, *per_layout: float) -> dict[str, Any]:
    median = sorted(per_layout)[(len(per_layout) - 1) // 2]
    return {
        "meta": {},
        "measurements": [
            {"key": key, "instructions_per_request": median, "per_layout": list(per_layout)}
        ],
    }


def test_a_change_inside_the_heap_layouts_spread_is_not_a_regression() -> None:
    """ci/gate on 2026-12-05, server path unchanged between the revisions: the medians were
    1.06 % apart, but the layouts overlapped (147,011 current below 147,311 baseline)."""
    key = "server-python/covet/plaintext"
    base = _layout_doc(key, 147311.3, 146912.2, 146934.4)
    cur = _layout_doc(key, 147011.5, 148506.6, 148484.7)
    outcome = compare(base, cur, 1.0)
    (c,) = outcome.comparisons
    assert c.change_pct > 1.0
    assert c.verdict == UNCHANGED and c.within_layout_spread
    assert outcome.exit_code == ExitCode.OK
    assert "within the heap layouts' spread" in summary_markdown(cur, outcome, "base")


def test_a_change_beyond_every_layout_is_a_regression_or_an_improvement() -> None:
    key = "app/covet/plaintext"
    base = _layout_doc(key, 25719.8, 25720.0, 25720.2)
    slower = compare(base, _layout_doc(key, 26100.0, 26101.0, 26102.0), 1.0)
    assert slower.comparisons[0].verdict == REGRESSION
    assert not slower.comparisons[0].within_layout_spread
    faster = compare(base, _layout_doc(key, 25000.0, 25001.0, 25002.0), 1.0)
    assert faster.comparisons[0].verdict == IMPROVEMENT
