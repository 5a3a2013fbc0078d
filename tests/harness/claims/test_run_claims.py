"""The main job ends with verdicts: `covet-bench run --claims` (what `ci/bench` runs) judges the
ledger on the run's results and puts the verdicts first in report.html and summary.md; claims
needing other evidence name the one command producing it. `ci/bench --full` chains the parts."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
from pathlib import Path

from rich.console import Console

from covetbench.commands import run as run_cmd
from covetbench.verdicts import INCONCLUSIVE, NOT_REPRODUCED
from tests.harness.factories import write_quick_run

REPO = Path(__file__).resolve().parents[3]


def test_run_claims_puts_the_verdicts_first(tmp_path: Path) -> None:
    out = write_quick_run(tmp_path / "quick")
    report = run_cmd.judge_run_claims(out, True, Console(file=io.StringIO()))
    assert report == out / "report.html"
    claims = {c["id"]: c for c in json.loads((out / "claims.json").read_text())["claims"]}
    assert claims["throughput-784k"]["verdict"] == NOT_REPRODUCED
    assert "on one core of" in claims["throughput-784k"]["hardware_line"]
    soak = claims["production-no-leak"]
    assert soak["verdict"] == INCONCLUSIVE
    assert soak["needs_command"] == f"covet-bench soak --out {out}"
    assert claims["production-ready"]["verdict"] in (INCONCLUSIVE, "REFUTED")
    html = report.read_text()
    first = html.index('id="verdicts"')
    assert first < html.index('class="cards"') < html.index("Fastest configuration")
    assert html.index("covet-bench soak --out") > first
    summary = (out / "summary.md").read_text()
    assert summary.index("### Claims") < summary.index("### Fastest per scenario")
    assert "run: covet-bench fuzz --out" in summary


def test_run_accepts_claims_and_ci_bench_full_chains_the_parts(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    assert parser.parse_args(["quick", "--claims"]).claims is True
    quick = subprocess.run(
        ["bash", str(REPO / "ci/bench"), "--dry-run"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert quick.stdout.splitlines() == ["+ covet-bench run quick --claims"]
    full = subprocess.run(
        ["bash", str(REPO / "ci/bench"), "--dry-run", "--full", "--out", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    steps = [line[2:] for line in full.stdout.splitlines() if line.startswith("+ ")]
    assert steps == [
        f"covet-bench run quick --no-report --out {tmp_path} -q",
        f"covet-bench conform --servers covet,covet-python --out {tmp_path}",
        f"covet-bench soak --out {tmp_path}",
        f"covet-bench fuzz --out {tmp_path}",
        f"covet-bench claims --results {tmp_path}",
        f"covet-bench report {tmp_path}",
    ]
