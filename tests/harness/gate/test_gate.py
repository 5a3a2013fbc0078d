from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from covetbench.commands import gate as gate_cmd
from covetbench.gate.compare import compare_dirs
from covetbench.gate.render import render_markdown
from covetbench.gate.rule import GateConfig, compare_samples, trials_needed
from covetbench.records import TrialRecord
from covetbench.results.meta import collect_meta
from covetbench.results.store import ResultsWriter
from covetbench.run.validity import judge_configs
from covetbench.verdicts import (
    GATE_INCONCLUSIVE,
    IMPROVEMENT,
    REGRESSION,
    UNCHANGED,
    UNDERPOWERED,
)
from tests.harness.factories import make_trial

KEY = ("covet", "uvicorn", "json", "wrk", 64)


def sample(center: float, n: int = 8, rel_sd: float = 0.02, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(v) for v in rng.normal(center, center * rel_sd, size=n)]


def trial(rps: float, i: int, **overrides: Any) -> TrialRecord:
    return make_trial(rps, i, **overrides)


def write_run(path: Path, configs: dict[str, list[float]], flags: list[str] | None = None) -> Path:
    """A run directory whose configurations differ by server name."""
    meta = collect_meta("test", None, cwd=path.parent)
    writer = ResultsWriter(path, meta)
    for server, values in configs.items():
        for i, rps in enumerate(values):
            writer.add_trial(trial(rps, i, server=server, flags=flags or []))
    return path


def gate_args(**kw: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    gate_cmd.add_arguments(parser)
    argv: list[str] = []
    for name, value in kw.items():
        argv += [f"--{name}", str(value)]
    return parser.parse_args(argv)


# -- the rule on synthetic samples ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_known_shift_detected(seed: int) -> None:
    base = sample(10_000, seed=seed)
    cur = [v * 0.85 for v in sample(10_000, seed=seed + 100)]
    comp = compare_samples(KEY, base, cur, GateConfig())
    assert comp.verdict == REGRESSION
    assert comp.ratio == pytest.approx(0.85, abs=0.03)
    assert comp.ci_high < 1.0
    assert comp.p_value < 0.01


@pytest.mark.parametrize("seed", range(5))
def test_no_shift_passes(seed: int) -> None:
    comp = compare_samples(
        KEY, sample(10_000, seed=seed), sample(10_000, seed=seed + 50), GateConfig()
    )
    assert comp.verdict == UNCHANGED


def test_significant_but_small_shift_passes() -> None:
    base = sample(10_000, n=10, rel_sd=0.002, seed=1)
    cur = [v * 0.98 for v in sample(10_000, n=10, rel_sd=0.002, seed=2)]
    comp = compare_samples(KEY, base, cur, GateConfig(threshold_pct=5))
    assert comp.p_value < 0.01
    assert comp.verdict == UNCHANGED
    assert "within" in comp.note


def test_large_but_noisy_shift_passes() -> None:
    base = [10_000.0, 6_000, 11_000, 7_000, 12_000]
    cur = [9_000.0, 5_500, 10_500, 6_500, 11_000]
    comp = compare_samples(KEY, base, cur, GateConfig())
    assert comp.ratio < 0.95
    assert comp.verdict == UNCHANGED
    assert "not significant" in comp.note


def test_improvement() -> None:
    comp = compare_samples(KEY, sample(10_000, seed=3), sample(12_000, seed=4), GateConfig())
    assert comp.verdict == IMPROVEMENT
    assert comp.change_pct == pytest.approx(20, abs=3)


def test_a_flagged_side_is_never_an_improvement() -> None:
    base, cur = sample(10_000, seed=3), sample(12_000, seed=4)
    comp = compare_samples(KEY, base, cur, GateConfig(), flags=["interference"])
    assert comp.verdict == UNCHANGED
    assert "flagged (interference): not an improvement" in comp.note


def test_configuration_flags_of_either_summary_reach_the_gate(tmp_path: Path) -> None:
    def run(path: Path, values: list[float]) -> Path:
        writer = ResultsWriter(path, collect_meta("test", None, cwd=path.parent))
        for i, rps in enumerate(values):
            writer.add_trial(trial(rps, i))
        writer.finish(judge_configs(writer.trials))
        return path

    steady = sample(10_000, seed=3)
    shaky = [v * (1.3 if i % 2 else 0.9) for i, v in enumerate(sample(12_000, seed=4))]
    outcome = compare_dirs(run(tmp_path / "a", steady), run(tmp_path / "b", shaky), GateConfig())
    [comp] = outcome.comparisons
    assert comp.flags == ["unstable"]
    assert comp.verdict == GATE_INCONCLUSIVE
    assert outcome.exit_code == 2


def test_underpowered() -> None:
    assert trials_needed(0.01) == 5
    assert trials_needed(0.05) == 4
    comp = compare_samples(KEY, [100.0, 101, 102], [50.0, 51, 52], GateConfig())
    assert comp.verdict == UNDERPOWERED
    assert "need 5" in comp.note


def drifting(n: int, factor: float, seed: int) -> list[float]:
    """A run whose machine slows down 30 % from first to last trial, plus 1 % noise."""
    drift = np.linspace(1.0, 0.7, n)
    return [float(v) for v in np.array(sample(10_000, n, 0.01, seed)) * drift * factor]


def test_paired_sees_through_drift() -> None:
    base, cur = drifting(8, 1.0, seed=1), drifting(8, 0.9, seed=2)
    unpaired = compare_samples(KEY, base, cur, GateConfig())
    paired = compare_samples(KEY, base, cur, GateConfig(), paired=True)
    assert unpaired.verdict == UNCHANGED
    assert paired.verdict == REGRESSION and paired.test == "wilcoxon-paired"
    assert paired.ratio == pytest.approx(0.9, abs=0.02)
    same = compare_samples(KEY, base, drifting(8, 1.0, seed=3), GateConfig(), paired=True)
    assert same.verdict == UNCHANGED


def test_paired_underpowered_and_needs() -> None:
    assert trials_needed(0.01, paired=True) == 7
    comp = compare_samples(KEY, [100.0] * 6, [50.0] * 6, GateConfig(), paired=True)
    assert comp.verdict == UNDERPOWERED and "need 7" in comp.note


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="threshold"):
        GateConfig(threshold_pct=0)
    with pytest.raises(ValueError, match="alpha"):
        GateConfig(alpha=1.5)


# -- directories, outputs, exit codes ------------------------------------------------------------


def test_compare_dirs_matches_by_key(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", {"uvicorn": sample(1000, seed=1), "daphne": sample(500)})
    cur = write_run(tmp_path / "b", {"uvicorn": sample(800, seed=2), "granian": sample(900)})
    outcome = compare_dirs(base, cur, GateConfig())
    assert [c.server for c in outcome.comparisons] == ["uvicorn"]
    assert [m.key.server for m in outcome.missing] == ["daphne"]
    assert outcome.current_only[0]["server"] == "granian"
    assert outcome.exit_code == 1
    md = render_markdown(outcome)
    assert "FAIL" in md and "regression" in md and "daphne" in md and "missing" in md


def test_paired_option(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", {"uvicorn": sample(1000, seed=1)})
    cur = write_run(tmp_path / "b", {"uvicorn": [v * 0.8 for v in sample(1000, seed=2)]})
    parser = argparse.ArgumentParser()
    gate_cmd.add_arguments(parser)
    args = parser.parse_args(["--baseline", str(base), "--current", str(cur), "--paired"])
    assert gate_cmd.run(args) == 1
    assert json.loads((cur / "gate.json").read_text())["comparisons"][0]["test"] == (
        "wilcoxon-paired"
    )


def test_exit_0_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write_run(tmp_path / "a", {"uvicorn": sample(1000, seed=1)})
    cur = write_run(tmp_path / "b", {"uvicorn": sample(1000, seed=2)})
    assert gate_cmd.run(gate_args(baseline=base, current=cur)) == 0
    gate = json.loads((cur / "gate.json").read_text())
    assert gate["exit_code"] == 0
    assert gate["threshold_pct"] == 5.0 and gate["alpha"] == 0.01
    comp = gate["comparisons"][0]
    for key in (
        "app",
        "server",
        "scenario",
        "loadgen",
        "concurrency",
        "baseline_median",
        "current_median",
        "ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "verdict",
    ):
        assert key in comp
    assert "PASS" in (cur / "gate.md").read_text()
    assert "PASS" in capsys.readouterr().out


def test_exit_1_regression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write_run(tmp_path / "a", {"uvicorn": sample(1000, seed=1)})
    cur = write_run(tmp_path / "b", {"uvicorn": sample(750, seed=2)}, flags=["interference"])
    out = tmp_path / "out"
    assert gate_cmd.run(gate_args(baseline=base, current=cur, out=out)) == 1
    gate = json.loads((out / "gate.json").read_text())
    assert gate["comparisons"][0]["verdict"] == "regression"
    assert gate["comparisons"][0]["flags"] == ["interference"]
    assert "interference" in (out / "gate.md").read_text()
    assert not (cur / "gate.json").exists()
    assert "regression" in capsys.readouterr().out


def test_threshold_option_changes_verdict(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", {"uvicorn": sample(1000, rel_sd=0.005, seed=1)})
    cur = write_run(tmp_path / "b", {"uvicorn": sample(920, rel_sd=0.005, seed=2)})
    assert gate_cmd.run(gate_args(baseline=base, current=cur)) == 1
    assert gate_cmd.run(gate_args(baseline=base, current=cur, threshold=10)) == 0


def test_exit_2_nothing_comparable(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", {})
    cur = write_run(tmp_path / "b", {"uvicorn": sample(1000)})
    assert gate_cmd.run(gate_args(baseline=base, current=cur)) == 2
    assert json.loads((cur / "gate.json").read_text())["exit_code"] == 2


def test_exit_2_missing_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cur = write_run(tmp_path / "b", {"uvicorn": sample(1000)})
    assert gate_cmd.run(gate_args(baseline=tmp_path / "nope", current=cur)) == 2
    assert "not found" in capsys.readouterr().err
    gate = json.loads((cur / "gate.json").read_text())
    assert gate["errors"] and gate["exit_code"] == 2
    # a current directory that does not exist: nothing written, still exit 2
    assert gate_cmd.run(gate_args(baseline=cur, current=tmp_path / "nope")) == 2
    assert not (tmp_path / "nope").exists()


def test_exit_2_invalid_results(tmp_path: Path) -> None:
    base = tmp_path / "a"
    base.mkdir()
    (base / "results.json").write_text('{"schema_version": 1}')
    cur = write_run(tmp_path / "b", {"uvicorn": sample(1000)})
    assert gate_cmd.run(gate_args(baseline=base, current=cur)) == 2


def test_exit_2_underpowered(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", {"uvicorn": [1000.0, 1001, 1002]})
    cur = write_run(tmp_path / "b", {"uvicorn": [1000.0, 1001, 1002]})
    assert gate_cmd.run(gate_args(baseline=base, current=cur)) == 2
    assert "need 5 per side" in (cur / "gate.md").read_text()


def test_exit_2_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gate_cmd.run(gate_args()) == 2
    assert gate_cmd.run(gate_args(baseline=tmp_path, current=tmp_path, alpha=2)) == 2
    assert gate_cmd.run(gate_args(ab="HEAD", baseline=tmp_path)) == 2
    err = capsys.readouterr().err
    assert "--baseline DIR" in err and "alpha" in err and "--ab" in err


# -- same-job A/B ---------------------------------------------------------------------------------


def test_split_ab_renames_twins_and_summarizes(tmp_path: Path) -> None:
    from covetbench.records import FailureRecord, VerifyRecord
    from covetbench.results.store import load_results, write_results
    from covetbench.run.ab import split_ab

    meta = collect_meta("test", None, cwd=tmp_path)
    writer = ResultsWriter(tmp_path / "ab", meta)
    for i in range(3):
        writer.add_trial(trial(1000.0 + i, i))
        writer.add_trial(trial(900.0 + i, i, app="covet~base"))
    writer.add_verify(VerifyRecord("covet~base", "uvicorn", "json", "pass"))
    writer.add_failure(FailureRecord("raw", "uvicorn", None, "launch", "boom"))
    base, cur = split_ab(load_results(tmp_path / "ab"), "HEAD~1", "abc123")
    assert {r["app"] for r in base["runs"]} == {"covet"}
    assert [r["rps"] for r in base["runs"]] == [900.0, 901.0, 902.0]
    assert [r["rps"] for r in cur["runs"]] == [1000.0, 1001.0, 1002.0]
    assert base["verify"][0]["app"] == "covet" and cur["verify"] == []
    assert cur["failures"][0]["app"] == "raw" and base["failures"] == []
    assert base["meta"]["git_commit"] == "abc123"
    assert base["meta"]["ab"]["side"] == "baseline" and cur["meta"]["ab"]["side"] == "current"
    assert base["summary"][0]["median_rps"] == 901.0
    write_results(tmp_path / "base", base)
    write_results(tmp_path / "cur", cur)
    auto = GateConfig(alpha=0.2, paired=None)
    comp = compare_dirs(tmp_path / "base", tmp_path / "cur", auto).comparisons[0]
    assert comp.baseline_median == 901.0
    assert comp.test == "wilcoxon-paired"  # both sides carry meta.ab: paired by trial number
    unpaired = compare_dirs(tmp_path / "base", tmp_path / "cur", GateConfig())
    assert unpaired.comparisons[0].test == "mann-whitney"


def test_revision_path_links_rev_code_and_cleans_up() -> None:
    from covetbench.apps import scenarios_dir
    from covetbench.checkout import revision_path
    from covetbench.exceptions import UsageError

    repo = scenarios_dir().parent
    with revision_path(repo, "HEAD") as path:
        assert (path / "apps").is_dir()
        assert (path / "covet" / "__init__.py").is_file()
        tree = path.parent / "tree"
        assert tree.is_dir()
    assert not path.exists() and not tree.exists()
    with pytest.raises(UsageError, match="no-such-rev"), revision_path(repo, "no-such-rev"):
        pass
