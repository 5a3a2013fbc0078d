"""The sweep: the knee on synthetic curves, its rates, `sweep.json` validated on write and read,
the report's sweep section, the open loop's fields in results.json, and one short real sweep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covetbench import cli
from covetbench.apps import builtin_apps
from covetbench.exceptions import ResultsError
from covetbench.records import (
    FLAG_GENERATOR_BOUND,
    LATENCY_OPEN_LOOP,
    ErrorCounts,
    LatencyMs,
    LoadResult,
)
from covetbench.report import render_report
from covetbench.results.files import REPORT_HTML, SWEEP_JSON
from covetbench.results.meta import collect_meta
from covetbench.results.sweeps import SWEEP_SCHEMA_VERSION, load_sweep, write_sweep
from covetbench.run.knee import (
    DEFAULT_FRACTIONS,
    KneeRule,
    SweepPoint,
    find_knee,
    sweep_rates,
)
from covetbench.run.sweep import Sweep, SweepOptions
from covetbench.servers import get_server


def point(offered: float, p99: float, achieved: float | None = None, **kw: Any) -> SweepPoint:
    fields: dict[str, Any] = {
        "fraction": offered / 10_000,
        "offered_rps": offered,
        "achieved_rps": offered if achieved is None else achieved,
        "latency_ms": {"p50": p99 / 4, "p90": p99 / 2, "p99": p99, "p999": p99, "max": p99},
        "latency_uncorrected_ms": {"p50": 0.1, "p90": 0.2, "p99": 0.5, "p999": 1.0, "max": 2.0},
        "intended_requests": int(offered * 5),
        "late_sends": 0,
        "error_rate": 0.0,
        "server_cpu_pct": min(100.0, offered / 100),
        "loadgen_cpu_pct": 20.0,
        "interference_pct": 0.5,
    }
    fields.update(kw)
    return SweepPoint(**fields)


def test_knee_where_p99_climbs() -> None:
    points = [point(1_000, 0.6), point(5_000, 0.9), point(8_000, 2.5), point(10_000, 40.0)]
    knee = find_knee(points, KneeRule(p99_factor=5.0))
    assert knee.index == 3 and "p99 40.00 ms > 5 x 0.60 ms" in knee.reason


def test_knee_where_throughput_falls_behind() -> None:
    points = [point(1_000, 0.6), point(9_000, 1.0, achieved=8_400.0), point(12_000, 90.0)]
    knee = find_knee(points)
    assert knee.index == 1 and "achieved 8400 of 9000" in knee.reason


def test_no_knee_below_capacity() -> None:
    knee = find_knee([point(1_000, 0.6), point(2_000, 0.7), point(3_000, 0.8)])
    assert not knee.found and "no knee" in knee.reason


def test_generator_bound_points_cannot_mark_the_knee() -> None:
    bound = [FLAG_GENERATOR_BOUND]
    points = [point(1_000, 0.6), point(5_000, 50.0, flags=bound), point(6_000, 0.9)]
    knee = find_knee(points)
    assert not knee.found and "1 generator-bound point(s) skipped" in knee.reason
    assert not find_knee([point(1_000, 9.0, flags=bound)]).found


def test_rates_span_ten_to_one_hundred_twenty_percent() -> None:
    rates = sweep_rates(20_000.0)
    assert len(rates) == len(DEFAULT_FRACTIONS) == 12
    assert rates[0] == 2_000.0 and rates[-1] == 24_000.0 and rates == sorted(rates)


def document(points: list[SweepPoint]) -> dict[str, Any]:
    knee = find_knee(points)
    return {
        "schema_version": SWEEP_SCHEMA_VERSION,
        "meta": collect_meta(["covet-bench", "sweep"], {"server_cpus": [0]}),
        "rule": {
            "p99_factor": 5.0,
            "achieved_fraction": 0.95,
            "fractions": [0.1, 0.5, 1.0],
            "duration_s": 5.0,
            "concurrency": 64,
            "scenario": "plaintext",
        },
        "curves": [
            {
                "app": "raw",
                "server": "covet",
                "scenario": "plaintext",
                "concurrency": 64,
                "capacity_rps": 10_000.0,
                "capacity_method": "given (--capacity)",
                "points": [p.to_dict() for p in points],
                "knee_index": knee.index,
                "knee_offered_rps": None if knee.index is None else points[knee.index].offered_rps,
                "knee_reason": knee.reason,
            }
        ],
        "failures": [{"app": "raw", "server": "granian", "stage": "skip", "reason": "absent"}],
    }


def test_sweep_json_validated_and_reported(tmp_path: Path) -> None:
    points = [point(1_000, 0.6), point(5_000, 0.9), point(10_000, 40.0, flags=["errors"])]
    write_sweep(tmp_path, document(points))
    assert load_sweep(tmp_path)["curves"][0]["knee_index"] == 2
    html = render_report(tmp_path).read_text()
    assert 'id="sweep"' in html and "knee at 10000 req/s" in html
    assert "raw@granian (skip): absent" in html

    bad = document(points)
    bad["curves"][0]["points"][0]["offered_rps"] = -1
    with pytest.raises(ResultsError, match="curves/0/points/0/offered_rps"):
        write_sweep(tmp_path, bad)
    (tmp_path / SWEEP_JSON).write_text(json.dumps(bad))
    with pytest.raises(ResultsError, match=SWEEP_JSON):
        load_sweep(tmp_path)


def test_open_loop_fields_reach_the_trial_record() -> None:
    result = LoadResult(
        loadgen="open",
        requests=10,
        duration_s=1.0,
        rps=10.0,
        latency_ms=LatencyMs(p99=5.0),
        errors=ErrorCounts(),
        connections=2,
        corrected=True,
        latency_method=LATENCY_OPEN_LOOP,
        latency_uncorrected_ms=LatencyMs(p99=1.0),
        offered_rps=10.0,
        intended_requests=10,
        late_sends=1,
        late_wakeups=0,
    )
    fields = result.trial_fields()
    assert fields["latency_method"] == LATENCY_OPEN_LOOP
    assert fields["latency_uncorrected_ms"]["p99"] == 1.0
    assert fields["late_sends"] == 1 and fields["offered_rps"] == 10.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--knee-factor", "1"], "--knee-factor must be > 1"),
        (["--fractions", "0.5,-1"], "--fractions must be positive"),
        (["--capacity", "0"], "--capacity must be > 0"),
        (["--servers", "nginx"], "unknown server 'nginx'"),
        (["--apps", "nope"], "nope"),
    ],
)
def test_sweep_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sweep", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_short_real_sweep(tmp_path: Path) -> None:
    if not get_server("covet").is_installed():
        pytest.skip("covet's server is not installed")
    options = SweepOptions(
        out_dir=tmp_path,
        apps=[builtin_apps()["raw"]],
        servers=["covet"],
        duration_s=1.0,
        capacity_rps=2_000.0,
        fractions=(0.5, 1.0),
        concurrency=8,
        idle_timeout_s=0.0,
        lock_path=tmp_path / "lock",
        server_cpus=[0],
        loadgen_cpus=[0],
    )
    notes: list[str] = []
    data = Sweep(options, notes.append).run()
    curve = data["curves"][0]
    assert [p["offered_rps"] for p in curve["points"]] == [1_000.0, 2_000.0]
    assert all(p["intended_requests"] == p["offered_rps"] for p in curve["points"])
    assert load_sweep(tmp_path) == data
    assert any("knee" in n for n in notes)
    render_report(tmp_path)
    assert (tmp_path / REPORT_HTML).is_file()
