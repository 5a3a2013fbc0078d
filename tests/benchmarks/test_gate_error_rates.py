"""The error-rate study's arithmetic and bookkeeping, without running it (it loads the machine
for an hour): calibration, the dry-run plan, and the table from synthetic run directories."""

from __future__ import annotations

import importlib.util
import os
import signal
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


@pytest.mark.parametrize("target", [0.10, 0.25])
def test_calibration_corrects_a_busy_wait_that_overshot(study: ModuleType, target: float) -> None:
    """A machine whose effective cost per request is 30 µs while 1/rps said 50 µs: the first
    busy-wait overshoots, and one correction from the measured drop lands on the target."""
    effective_us = 30.0
    first = study.extra_cost_us(20_000.0, target)  # computed from c = 50 µs
    measured = 1.0 - effective_us / (effective_us + first)
    assert measured > target  # the overshoot calibration exists for
    corrected = study.corrected_cost_us([(first, measured)], target, first)
    assert 1.0 - effective_us / (effective_us + corrected) == pytest.approx(target)
    assert study.corrected_cost_us([(first, 0.0)], target, first) == first  # nothing measured


def test_calibration_pools_its_steps(study: ModuleType) -> None:
    """Each step's drop is noisy: the correction takes the median effective cost of every step,
    so one outlying step does not swing the busy-wait."""
    effective_us = 30.0
    steps = [(x, 1.0 - effective_us / (effective_us + x)) for x in (2.0, 3.0)]
    outlier = (2.5, 0.30)  # measured 30 % where the model says 7.7 %
    corrected = study.corrected_cost_us([*steps, outlier], 0.10, 1.0)
    assert corrected == pytest.approx(effective_us / 9.0)


def test_complete_counts_every_app(study: ModuleType, tmp_path: Path) -> None:
    _write(tmp_path / "run", {"base": 10_000.0, "copy": 10_000.0}, seed=3)
    assert study.complete(tmp_path / "run", ["base", "copy"], 8)
    assert not study.complete(tmp_path / "run", ["base", "copy"], 9)
    assert not study.complete(tmp_path / "run", ["base", "slow10"], 8)
    assert not study.complete(tmp_path / "absent", ["base"], 1)


def test_a_signal_stops_the_child_run(study: ModuleType, tmp_path: Path) -> None:
    """SIGTERM to the study (here from an interval timer) ends its child before the study
    exits: no `covet-bench run` is left measuring behind it."""
    marker = tmp_path / "child.pid"
    child = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    previous = signal.signal(signal.SIGALRM, study._stop)
    signal.setitimer(signal.ITIMER_REAL, 2.0)
    try:
        with pytest.raises(study.Stopped):
            study._execute([sys.executable, "-c", child], {}, tmp_path / "child.log")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: gone, not a zombie left running
