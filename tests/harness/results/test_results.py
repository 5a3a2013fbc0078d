from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from covetbench.exceptions import ResultsError
from covetbench.records import (
    FLAG_DESCRIPTIONS,
    SCHEMA_VERSION,
    ConfigSummary,
    FailureRecord,
    TrialRecord,
    VerifyRecord,
)
from covetbench.results.meta import collect_meta
from covetbench.results.store import (
    ResultsWriter,
    load_results,
    results_schema,
    trial_records,
    validate_results,
)


def make_trial(**overrides: Any) -> TrialRecord:
    fields: dict[str, Any] = {
        "app": "covet",
        "server": "uvicorn",
        "scenario": "json",
        "loadgen": "wrk",
        "concurrency": 64,
        "trial": 0,
        "rps": 10_000.0,
        "requests": 100_000,
        "duration_s": 10.0,
        "latency_ms": {
            "p50": 6.0,
            "p90": 7.0,
            "p99": 9.0,
            "p999": 12.0,
            "max": 20.0,
            "mean": 6.4,
        },
        "errors": {"non2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0},
        "error_rate": 0.0,
        "server_cpu_pct": 99.0,
        "loadgen_cpu_pct": 40.0,
        "server_rss_mb": 30.5,
        "interference_pct": 0.5,
        "flags": [],
        "started_at": "2026-11-27T10:00:00+00:00",
        "ended_at": "2026-11-27T10:00:10+00:00",
        "server_cpus": [0],
        "loadgen_cpus": [1],
    }
    fields.update(overrides)
    return TrialRecord(**fields)


@pytest.fixture
def meta() -> dict[str, Any]:
    return collect_meta(["covet-bench", "run", "quick"], {"server_cpus": [0]}, suite="quick")


def test_collect_meta_shape(meta: dict[str, Any]) -> None:
    assert meta["command"] == "covet-bench run quick"
    assert meta["suite"] == "quick"
    assert meta["cores"] >= 1
    assert meta["versions"]["python"].count(".") == 2
    assert "uvicorn" in meta["versions"]["servers"]
    assert "wrk" in meta["versions"]["tools"]
    assert meta["ended_at"] is None
    validate_results(
        {
            "schema_version": SCHEMA_VERSION,
            "meta": meta,
            "verify": [],
            "failures": [],
            "runs": [],
            "summary": [],
        }
    )


def test_collect_meta_tolerates_no_git(tmp_path: Path) -> None:
    meta = collect_meta("cmd", None, cwd=tmp_path)
    assert meta["git_commit"] is None
    assert meta["git_dirty"] is None
    assert meta["pinning"] is None


def test_writer_persists_each_record(tmp_path: Path, meta: dict[str, Any]) -> None:
    out = tmp_path / "run"
    writer = ResultsWriter(out, meta)
    assert load_results(out)["runs"] == []
    writer.add_verify(VerifyRecord("covet", "uvicorn", "json", "pass"))
    writer.add_failure(FailureRecord("fastapi", "daphne", None, "launch", "boom", "tail"))
    writer.add_trial(make_trial(trial=0))
    assert len(load_results(out)["runs"]) == 1
    writer.add_trial(make_trial(trial=1, flags=["errors"]))
    data = load_results(out)
    assert [r["trial"] for r in data["runs"]] == [0, 1]
    assert data["verify"][0]["status"] == "pass"
    assert data["failures"][0]["reason"] == "boom"
    summary = ConfigSummary(
        "covet",
        "uvicorn",
        "json",
        "wrk",
        64,
        2,
        1,
        10_000.0,
        9_900.0,
        10_100.0,
        0.5,
        "min-max",
        0.01,
        {"p50": 6.0, "p90": 7.0, "p99": 9.0, "p999": 12.0, "max": 20.0, "mean": 6.4},
        ["errors"],
    )
    writer.finish([summary])
    data = load_results(out)
    assert data["summary"][0]["median_rps"] == 10_000.0
    assert data["meta"]["ended_at"] is not None
    assert not list(out.glob(".*.tmp"))  # no temporary file left behind


def test_csv_one_flat_row_per_trial(tmp_path: Path, meta: dict[str, Any]) -> None:
    writer = ResultsWriter(tmp_path, meta)
    with open(writer.csv_path, encoding="utf-8") as fh:
        assert list(csv.reader(fh))[0][:3] == ["app", "server", "scenario"]
    writer.add_trial(make_trial(flags=["errors", "interference"]))
    writer.add_trial(make_trial(trial=1, rps=11_000.5))
    with open(writer.csv_path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    assert rows[0]["latency_ms_p99"] == "9.0"
    assert rows[0]["errors_non2xx"] == "0"
    assert rows[0]["flags"] == "errors;interference"
    assert rows[1]["rps"] == "11000.5"
    assert rows[1]["server_cpus"] == "0"


def test_invalid_trial_rejected_and_file_kept(tmp_path: Path, meta: dict[str, Any]) -> None:
    writer = ResultsWriter(tmp_path, meta)
    writer.add_trial(make_trial())
    with pytest.raises(ResultsError, match=r"runs/1/rps"):
        writer.add_trial(make_trial(trial=1, rps=-1.0))
    assert len(load_results(tmp_path)["runs"]) == 1
    assert len(writer.data["runs"]) == 1


def test_invalid_meta_rejected(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="meta"):
        ResultsWriter(tmp_path, {"command": "x"})


def test_nan_never_written(tmp_path: Path, meta: dict[str, Any]) -> None:
    writer = ResultsWriter(tmp_path, meta)
    with pytest.raises(ResultsError, match="refusing"):
        writer.add_trial(make_trial(server_rss_mb=float("nan")))
    assert load_results(tmp_path)["runs"] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("{not json", "not valid JSON"),
        ("[]", "expected an object"),
        ('{"schema_version": 1}', r"invalid at \(root\)"),
    ],
    ids=["missing", "not-json", "not-object", "schema"],
)
def test_load_results_errors_name_the_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "results.json").write_text(content)
    with pytest.raises(ResultsError, match=message) as info:
        load_results(tmp_path)
    assert "results.json" in str(info.value)


def test_load_results_names_nested_path(tmp_path: Path, meta: dict[str, Any]) -> None:
    ResultsWriter(tmp_path, meta).add_trial(make_trial())
    data = json.loads((tmp_path / "results.json").read_text())
    data["runs"][0]["latency_ms"]["p99"] = "slow"
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=r"runs/0/latency_ms/p99"):
        load_results(tmp_path / "results.json")


def test_schema_covers_every_record_field() -> None:
    defs = results_schema()["$defs"]
    assert set(TrialRecord.__dataclass_fields__) <= set(defs["trial"]["properties"])
    assert set(ConfigSummary.__dataclass_fields__) <= set(defs["summary"]["properties"])
    assert set(VerifyRecord.__dataclass_fields__) <= set(defs["verify"]["properties"])
    assert set(FailureRecord.__dataclass_fields__) <= set(defs["failure"]["properties"])
    for flag in FLAG_DESCRIPTIONS:
        validate_results(
            {
                "schema_version": SCHEMA_VERSION,
                "meta": collect_meta("x", None),
                "verify": [],
                "failures": [],
                "runs": [make_trial(flags=[flag]).to_dict()],
                "summary": [],
            }
        )


def test_trial_records_round_trip(tmp_path: Path, meta: dict[str, Any]) -> None:
    trial = make_trial(flags=["errors"])
    ResultsWriter(tmp_path, meta).add_trial(trial)
    assert trial_records(load_results(tmp_path)) == [trial]
