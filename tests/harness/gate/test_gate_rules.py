"""The gate's rules over whole runs: missing configurations fail, flagged comparisons are
inconclusive, Holm-Bonferroni is applied over the family, and each comparison says the smallest
drop it could have caught. Runs are real results.json files written to tmp dirs."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from covetbench.commands import gate as gate_cmd
from covetbench.gate.compare import compare_dirs
from covetbench.gate.family import holm_adjust
from covetbench.gate.render import render_markdown
from covetbench.gate.rule import GateConfig, compare_samples
from covetbench.records import FailureRecord, VerifyRecord
from covetbench.results.meta import collect_meta
from covetbench.results.store import ResultsWriter
from covetbench.verdicts import GATE_INCONCLUSIVE, MISSING, REGRESSION, UNCHANGED
from tests.harness.factories import make_trial
from tests.harness.gate.test_gate import sample

KEY = ("covet", "uvicorn", "json", "wrk", 64)

#: 8 trials a side whose one-sided Mann-Whitney p is 0.005 (U = 8: only the last current trial
#: beats the baseline), a 10 % drop: a regression alone, not after Holm over 4 (4 x 0.005 > 0.01)
BORDER_BASE = [1000.0, 1010, 1020, 1030, 1040, 1050, 1060, 1070]
BORDER_CUR = [900.0, 909, 918, 927, 936, 945, 954, 1100]


def write_run(
    path: Path,
    configs: dict[str, list[float]],
    flags: dict[str, list[str]] | None = None,
    failures: Sequence[FailureRecord] = (),
    verify: Sequence[VerifyRecord] = (),
) -> Path:
    """A run directory whose configurations differ by server name, with trial flags per server."""
    writer = ResultsWriter(path, collect_meta("test", None, cwd=path.parent))
    for server, values in configs.items():
        for i, rps in enumerate(values):
            writer.add_trial(make_trial(rps, i, server=server, flags=(flags or {}).get(server, [])))
    for record in verify:
        writer.add_verify(record)
    for failure in failures:
        writer.add_failure(failure)
    return path


def run_gate(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    gate_cmd.add_arguments(parser)
    code = gate_cmd.run(parser.parse_args([str(a) for a in argv]))
    return code, capsys.readouterr().out


STEADY = {s: sample(1000, seed=i) for i, s in enumerate(["uvicorn", "granian", "hypercorn"])}
STEADY_AGAIN = {s: sample(1000, seed=i + 10) for i, s in enumerate(STEADY)}


# -- missing, failed or unverified baseline configurations: exit 1, named -----------------------


def test_a_configuration_missing_from_the_current_run_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_run(tmp_path / "a", STEADY)
    cur = write_run(tmp_path / "b", {k: v for k, v in STEADY_AGAIN.items() if k != "granian"})
    code, out = run_gate(capsys, "--baseline", base, "--current", cur)
    assert code == 1
    assert "missing" in out and "covet/granian/json c64" in out
    gate = json.loads((cur / "gate.json").read_text())
    assert gate["missing"] == [
        {
            "app": "covet",
            "server": "granian",
            "scenario": "json",
            "loadgen": "wrk",
            "concurrency": 64,
            "pipeline": 1,
            "verdict": MISSING,
            "reason": "not in the current run",
        }
    ]
    assert [c["verdict"] for c in gate["comparisons"]] == [UNCHANGED, UNCHANGED]
    assert "granian" in (cur / "gate.md").read_text()


def test_failed_and_unverified_configurations_fail_even_with_trials(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", STEADY)
    cur = write_run(
        tmp_path / "b",
        {"uvicorn": STEADY_AGAIN["uvicorn"], "hypercorn": STEADY_AGAIN["hypercorn"]},
        failures=[
            FailureRecord("covet", "granian", None, "launch", "exited with 1"),
            # the server died after some trials: its trials cannot vouch for the build
            FailureRecord("covet", "hypercorn", "json", "load", "server exited under load"),
        ],
        verify=[VerifyRecord("covet", "uvicorn", "json", "fail", ["status 500, expected 200"])],
    )
    outcome = compare_dirs(base, cur, GateConfig())
    reasons = {m.key.server: m.reason for m in outcome.missing}
    assert reasons == {
        "uvicorn": "verification failed: status 500, expected 200",
        "granian": "launch failed: exited with 1",
        "hypercorn": "load failed: server exited under load",
    }
    assert outcome.comparisons == [] and outcome.exit_code == 1
    assert outcome.headline.startswith("FAIL: 3 baseline configurations missing")


def test_a_configuration_new_in_the_current_run_does_not_fail(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", {"uvicorn": STEADY["uvicorn"]})
    cur = write_run(tmp_path / "b", STEADY_AGAIN)
    outcome = compare_dirs(base, cur, GateConfig())
    assert outcome.exit_code == 0 and len(outcome.current_only) == 2


# -- flagged comparisons: inconclusive (exit 2) unless a regression beyond doubt ---------------


@pytest.mark.parametrize("flag", ["errors", "generator_bound", "unstable", "implausible"])
def test_a_flagged_comparison_is_inconclusive(flag: str) -> None:
    for cur in (sample(1000, seed=5), sample(1300, seed=5)):  # unchanged, and "faster"
        comp = compare_samples(KEY, sample(1000, seed=4), cur, GateConfig(), flags=[flag])
        assert comp.verdict == GATE_INCONCLUSIVE, cur
        assert flag in comp.note


def test_a_faster_run_with_errors_exits_2_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_run(tmp_path / "a", STEADY)
    faster = {**STEADY_AGAIN, "granian": sample(1400, seed=3)}
    cur = write_run(tmp_path / "b", faster, flags={"granian": ["errors"]})
    code, out = run_gate(capsys, "--baseline", base, "--current", cur)
    assert code == 2
    assert "INCONCLUSIVE: 1 of 3 comparisons flagged: covet/granian/json c64 (errors)" in out
    gate = json.loads((cur / "gate.json").read_text())
    verdicts = {c["server"]: c["verdict"] for c in gate["comparisons"]}
    assert verdicts == {"uvicorn": UNCHANGED, "granian": GATE_INCONCLUSIVE, "hypercorn": UNCHANGED}


def test_regression_beyond_doubt_fails_despite_flags() -> None:
    base = sample(10_000, seed=3)
    collapse = compare_samples(KEY, base, sample(6_000, seed=4), GateConfig(), flags=["unstable"])
    assert collapse.verdict == REGRESSION
    assert collapse.ci_high < 0.95 and "beyond doubt" in collapse.note
    # a drop whose interval reaches above 1 - threshold is not beyond doubt when flagged
    near = [v * 0.93 for v in sample(10_000, n=8, rel_sd=0.04, seed=9)]
    clean = compare_samples(KEY, base, near, GateConfig())
    flagged = compare_samples(KEY, base, near, GateConfig(), flags=["errors"])
    assert clean.verdict == REGRESSION and clean.ci_high > 0.95
    assert flagged.verdict == GATE_INCONCLUSIVE


# -- Holm-Bonferroni over the gate's configurations --------------------------------------------


def test_holm_adjust() -> None:
    assert holm_adjust([0.004, 0.5, 0.3, 0.2]) == pytest.approx([0.016, 0.6, 0.6, 0.6])
    assert holm_adjust([0.01]) == [0.01]
    assert holm_adjust([]) == []
    assert holm_adjust([0.3, 0.4]) == pytest.approx([0.6, 0.6])  # monotone, capped at 1
    assert holm_adjust([0.9, 0.8]) == [1.0, 1.0]


def test_the_correction_flips_a_borderline_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alone = compare_samples(KEY, BORDER_BASE, BORDER_CUR, GateConfig())
    assert alone.p_value == pytest.approx(0.0052, abs=0.0005)
    assert alone.verdict == REGRESSION and alone.family_size == 1

    base = write_run(tmp_path / "a", {**STEADY, "daphne": BORDER_BASE})
    cur = write_run(tmp_path / "b", {**STEADY_AGAIN, "daphne": BORDER_CUR})
    code, out = run_gate(capsys, "--baseline", base, "--current", cur)
    assert code == 0
    assert "family: 4 configurations (Holm-Bonferroni" in out
    gate = json.loads((cur / "gate.json").read_text())
    assert gate["family_size"] == 4 and gate["correction"] == "holm-bonferroni"
    [border] = [c for c in gate["comparisons"] if c["server"] == "daphne"]
    assert border["verdict"] == UNCHANGED and border["family_size"] == 4
    assert border["p_value_adjusted"] == pytest.approx(4 * border["p_value"])
    assert "not after the Holm correction over 4" in border["note"]
    assert "family of 4 configurations" in (cur / "gate.md").read_text()


def test_the_correction_applies_to_paired_ab_trials(tmp_path: Path) -> None:
    # 10 pairs: one pair faster with the 2nd smallest |log ratio| (W+ = 2: p = 3/1024)
    logs = [-0.005, 0.01, -0.08, -0.09, -0.10, -0.11, -0.12, -0.13, -0.14, -0.15]
    base_rps = [1000.0 + 7 * i for i in range(10)]
    cur_rps = [b * math.exp(x) for b, x in zip(base_rps, logs, strict=True)]
    paired = GateConfig(paired=True)
    alone = compare_samples(KEY, base_rps, cur_rps, paired, paired=True)
    assert alone.p_value == pytest.approx(3 / 1024)
    assert alone.verdict == REGRESSION and alone.test == "wilcoxon-paired"
    steady = {s: [1000.0 + 5 * i for i in range(10)] for s in ("uvicorn", "granian", "hypercorn")}
    base = write_run(tmp_path / "a", {**steady, "daphne": base_rps})
    cur = write_run(tmp_path / "b", {**steady, "daphne": cur_rps})
    outcome = compare_dirs(base, cur, paired)
    [border] = [c for c in outcome.comparisons if c.server == "daphne"]
    assert border.verdict == UNCHANGED and border.family_size == 4
    assert outcome.exit_code == 0


def test_underpowered_counts_the_family() -> None:
    # 5 a side reach 0.004 < 0.01 alone, but not 0.01 / 4
    comps = compare_dirs_like([sample(1000, n=5, seed=i) for i in range(4)])
    assert {c.verdict for c in comps} == {"underpowered"}
    assert "need 6 per side" in comps[0].note and "Holm over 4" in comps[0].note


def compare_dirs_like(samples: list[list[float]]) -> list[Any]:
    from covetbench.gate.family import judge_family
    from covetbench.gate.rule import measure_samples

    comps = [measure_samples(KEY, s, s, GateConfig()) for s in samples]
    judge_family(comps, GateConfig())
    return comps


# -- the smallest detectable drop, printed beside a PASS ---------------------------------------


def test_a_pass_says_what_it_rules_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write_run(tmp_path / "a", STEADY)
    cur = write_run(tmp_path / "b", STEADY_AGAIN)
    code, out = run_gate(capsys, "--baseline", base, "--current", cur)
    assert code == 0
    gate = json.loads((cur / "gate.json").read_text())
    detects = [c["detectable_change_pct"] for c in gate["comparisons"]]
    # 8 trials a side at 2 % spread: a bit above the 5 % threshold, far below 20 %
    assert all(5.0 <= d < 20.0 for d in detects), detects
    assert "drop" in out and "would have caught drops of" in out
    assert f"{detects[0]:g}% drop" in (cur / "gate.md").read_text()
    assert "80%" in gate["detectable_change_method"]


def test_noisier_trials_detect_less() -> None:
    base = sample(1000, n=8, rel_sd=0.02, seed=1)
    quiet = compare_samples(KEY, base, sample(1000, n=8, rel_sd=0.02, seed=2), GateConfig())
    noisy_base = sample(1000, n=8, rel_sd=0.15, seed=1)
    noisy = compare_samples(KEY, noisy_base, sample(1000, rel_sd=0.15, seed=2), GateConfig())
    assert quiet.detectable_change_pct is not None and noisy.detectable_change_pct is not None
    assert noisy.detectable_change_pct > 2 * quiet.detectable_change_pct


def test_render_names_missing_rows(tmp_path: Path) -> None:
    base = write_run(tmp_path / "a", STEADY)
    cur = write_run(tmp_path / "b", {"uvicorn": STEADY_AGAIN["uvicorn"]})
    md = render_markdown(compare_dirs(base, cur, GateConfig()))
    assert md.count("❌ missing") == 2
