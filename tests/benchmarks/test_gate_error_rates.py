"""The error-rate study's arithmetic and bookkeeping, without running it (it loads the machine
for an hour): calibration, the dry-run plan, and the table from synthetic run directories."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from covetbench.results.meta import collect_meta
from covetbench.results.store import ResultsWriter
from tests.harness.factories import make_trial

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "method" / "gate_error_rates.py"


@pytest.fixture(scope="module")
def study() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gate_error_rates", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("slowdown", [0.10, 0.25])
def test_calibrated_slowdown_lowers_throughput_by_its_fraction(
    study: ModuleType, slowdown: float
) -> None:
    base_rps = 20_000.0  # 50 µs a request
    extra = study.extra_cost_us(base_rps, slowdown)
    assert extra == pytest.approx(50.0 / 9.0 if slowdown == 0.10 else 50.0 / 3.0)
    slowed_rps = 1e6 / (1e6 / base_rps + extra)
    assert slowed_rps == pytest.approx(base_rps * (1.0 - slowdown))
    with pytest.raises(ValueError):
        study.extra_cost_us(0.0, slowdown)


def test_slowdown_env(study: ModuleType) -> None:
    assert study.slowdown_env(10_000.0) == {"SLOW10_US": "11.111", "SLOW25_US": "33.333"}


def test_dry_run_prints_the_plan_and_runs_nothing(
    study: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    assert study.main(["--dry-run", "--base-rps", "20000", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("slowdowns:") and '"SLOW25_US": "16.667"' in lines[0]
    commands = lines[1:]
    assert len(commands) == 5  # one interleaved run, four separate ones
    assert "--apps base,copy,slow10,slow25" in commands[0]
    assert all("--trials 10" in c for c in commands)
    assert "--app slow25=slowapps:slow25" in commands[0]
    assert all(c.count("--app ") == 1 for c in commands[1:])  # a separate run declares one app
    assert all(str(study.SUITE) in c for c in commands)
    assert not out.exists()  # nothing measured, nothing written


def _write(path: Path, apps: dict[str, float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    writer = ResultsWriter(path, collect_meta("test", None, cwd=path.parent))
    for i in range(8):
        for app, center in apps.items():
            rps = float(center * rng.normal(1.0, 0.02))
            writer.add_trial(make_trial(rps, i, app=app, server="uvicorn", scenario="plaintext"))


def test_table_from_finished_runs(study: ModuleType, tmp_path: Path) -> None:
    apps = {"base": 10_000.0, "copy": 10_000.0, "slow10": 9_000.0, "slow25": 7_500.0}
    _write(tmp_path / "ab1", apps, seed=1)
    for i, (app, center) in enumerate(apps.items()):
        _write(tmp_path / f"cross1-{app}", {app: center}, seed=10 + i)
    tallies = study.judge_study(tmp_path, family=4)
    assert set(tallies) == {
        (mode, app)
        for mode in ("ab unpaired", "ab paired", "cross")
        for app in ("copy", "slow10", "slow25")
    }
    assert tallies[("cross", "copy")].regressions == 0
    assert tallies[("cross", "slow25")].regressions == 1
    assert tallies[("ab unpaired", "slow25")].regressions == 1
    text = study.table(tallies)
    assert "| cross | copy (false alarms) | 0/1 | 0% |" in text
    assert "slow25 (detections)" in text and "median detectable drop" in text
