"""The locust driver: its command lines, what it can drive, and real runs against real servers.

The real runs are short (2 s of load; locust itself takes ~1 s to start, a master with workers
~3 s more): a journey against the covet app on covet's server with every step answered 2xx, a
master with 2 workers giving one merged record, and a run through the runner flagged
`generator_bound` (locust tops out far below covet's server).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from covetbench.exceptions import LoadGeneratorError, UsageError
from covetbench.load import LoadRequest, LocustDriver, get_loadgen
from covetbench.load.locust_driver import CpuSampler, base_url, locustfiles_dir
from covetbench.load.locust_stats import LATENCY_METHOD, parse_stats_json
from covetbench.records import FLAG_GENERATOR_BOUND
from covetbench.results.store import load_results
from covetbench.run.runner import Runner, RunOptions
from covetbench.run.schedule import build_plan
from covetbench.run.suite import (
    Suite,
    SuiteEntry,
    SuiteOverrides,
    apply_overrides,
    load_suite,
)
from covetbench.scenarios import JOURNEY_STEPS, SCENARIOS, get_scenario
from tests.harness.conftest import LaunchServer

HERE = Path(__file__).parent
#: the load core when the machine has two (server on 0), else no pinning
LOAD_CPUS = [1] if (os.cpu_count() or 1) > 1 else None
SERVER_CPUS = [0] if LOAD_CPUS else None


def _request(url: str, scenario: str = "plaintext", **fields: object) -> LoadRequest:
    spec = get_scenario(scenario)
    values: dict[str, object] = {
        "url": spec.url(url),
        "scenario": spec,
        "concurrency": 8,
        "duration_s": 2,
        "cpus": LOAD_CPUS,
    }
    values.update(fields)
    return LoadRequest(**values)  # type: ignore[arg-type]


def test_standalone_command_is_headless_with_final_stats_files(tmp_path: Path) -> None:
    [argv] = LocustDriver().commands(
        _request("http://127.0.0.1:8000", concurrency=32, cpus=None), tmp_path / "p", 5557
    )
    text = " ".join(argv)
    for part in ("--headless", "-u 32", "-r 32", "-t 2s", "-H http://127.0.0.1:8000"):
        assert part in text
    assert argv[argv.index("--csv") + 1] == argv[argv.index("--json-file") + 1]
    files = argv[argv.index("-f") + 1].split(",")
    assert files[0] == str(locustfiles_dir() / "plaintext.py")
    assert files[1].endswith("locust_export.py")
    assert "--master" not in argv and "--worker" not in argv


def test_workers_command_is_a_master_and_n_pinned_workers(tmp_path: Path) -> None:
    argvs = LocustDriver().commands(
        _request("http://127.0.0.1:8000", locust_workers=2, cpus=[1]), tmp_path / "p", 6000
    )
    master, *workers = argvs
    assert len(workers) == 2
    assert "--master" in master and master[master.index("--expect-workers") + 1] == "2"
    assert master[master.index("--master-bind-port") + 1] == "6000"
    for worker in workers:
        assert "--worker" in worker and "--headless" not in worker
        assert worker[worker.index("--master-port") + 1] == "6000"
    if argvs[0][0].endswith("taskset"):
        assert all(argv[1:3] == ["-c", "1"] for argv in argvs)


def test_locust_drives_scenarios_with_a_locustfile_and_wrk_not_the_journey() -> None:
    locust, wrk = get_loadgen("locust"), get_loadgen("wrk")
    assert {name for name, spec in SCENARIOS.items() if locust.supports(spec)} == {
        "plaintext",
        "json",
        "journey",
    }
    assert not wrk.supports(get_scenario("journey"))
    for name in ("plaintext", "json", "journey"):
        assert (locustfiles_dir() / str(get_scenario(name).locustfile)).is_file()
    with pytest.raises(UsageError, match="wrk cannot drive scenario 'journey'"):
        build_plan(_suite("wrk", ("journey",)))
    with pytest.raises(UsageError, match="locust cannot drive scenario 'users'"):
        build_plan(_suite("locust", ("users",)))


def test_bad_requests_are_refused_before_anything_starts(tmp_path: Path) -> None:
    driver = LocustDriver()
    with pytest.raises(LoadGeneratorError, match="pipeline"):
        driver.run(_request("http://127.0.0.1:9", pipeline=16))
    with pytest.raises(LoadGeneratorError, match="does not exist"):
        driver.run(_request("http://127.0.0.1:9", locustfile=tmp_path / "none.py"))
    with pytest.raises(LoadGeneratorError, match="no locustfile"):
        driver.locustfile(_request("http://127.0.0.1:9", "users"))


def test_base_url_drops_the_scenario_path() -> None:
    assert base_url("http://127.0.0.1:80/plaintext", "/plaintext") == "http://127.0.0.1:80"
    assert base_url("http://[::1]:80/", "/") == "http://[::1]:80"


def test_cpu_sampler_interpolates_between_samples() -> None:
    sampler = CpuSampler([os.getpid()])
    sampler.samples = [(10.0, 1.0), (11.0, 2.0), (12.0, 2.5)]
    assert sampler.between(10.5, 11.5) == pytest.approx(0.75)
    assert sampler.between(9.0, 11.0) is None  # before the first sample: unknown


def test_suite_and_command_line_carry_the_locust_options(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text("")
    suite_file = tmp_path / "s.toml"
    suite_file.write_text(
        'servers = ["covet"]\nscenarios = ["journey"]\nconcurrency = [8]\n'
        'loadgen = "locust"\nlocustfile = "mine.py"\nlocust_workers = 2\n'
    )
    suite = load_suite(suite_file)
    assert suite.locustfile == str(tmp_path / "mine.py")  # relative to the suite file
    assert (suite.locust_workers, suite.entries[0].loadgen) == (2, "locust")
    assert suite.to_dict()["locust_workers"] == 2  # recorded in meta.suite_config
    changed = apply_overrides(suite, SuiteOverrides(locust_workers=0, locustfile="other.py"))
    assert (changed.locust_workers, changed.locustfile) == (0, "other.py")
    with pytest.raises(UsageError, match="--locust-workers must be >= 0"):
        apply_overrides(suite, SuiteOverrides(locust_workers=-1))


def _suite(loadgen: str, scenarios: tuple[str, ...], **fields: object) -> Suite:
    entry = SuiteEntry(
        name="",
        apps=("raw",),
        servers=("covet",),
        scenarios=scenarios,
        concurrency=(32,),
        loadgen=loadgen,
    )
    values: dict[str, object] = {"duration_s": 2, "warmup_s": 0, "trials": 1, "retries": 0}
    values.update(fields)
    return Suite(name="locust-test", entries=(entry,), **values)  # type: ignore[arg-type]


@pytest.mark.slow
def test_journey_answers_2xx_at_every_step_on_covet(
    launch_server: LaunchServer, tmp_path: Path
) -> None:
    server = launch_server("covet", "covet", cpus=SERVER_CPUS)
    result = LocustDriver().run(_request(server.base_url, "journey", workdir=tmp_path))
    entries = parse_stats_json((tmp_path / "locust-journey.json").read_text())
    steps = {f"{e['method']} {e['name']}": e for e in entries}
    assert sorted(steps) == ["GET /json", "GET /plaintext", "GET /users/{id}", "POST /echo"]
    assert len(steps) == len(JOURNEY_STEPS)
    for name, entry in steps.items():
        assert entry["num_requests"] > 0, name
        assert entry["num_failures"] == 0, name
    assert result.errors.total == 0
    assert result.requests == sum(e["num_requests"] for e in entries)
    assert result.latency_method == LATENCY_METHOD
    assert result.cpu_s is not None and result.cpu_s > 0


@pytest.mark.slow
def test_distributed_locust_merges_into_one_record(
    launch_server: LaunchServer, tmp_path: Path
) -> None:
    server = launch_server("covet", "raw", cpus=SERVER_CPUS)
    locustfile = HERE / "locustfiles" / "by_worker.py"
    request = _request(server.base_url, locust_workers=2, locustfile=locustfile, workdir=tmp_path)
    result = LocustDriver().run(request)
    entries = parse_stats_json((tmp_path / "locust-plaintext.json").read_text())
    # one request name per worker pid, both in the master's statistics: it merged them
    assert len(entries) == 2
    assert all(e["num_requests"] > 0 and e["name"].startswith("/plaintext from") for e in entries)
    assert result.requests == sum(e["num_requests"] for e in entries)
    assert result.parallelism == 2
    assert "2 workers connected" in result.raw_output
    assert result.raw_output.count("--- worker") == 2
    assert result.window_cpu_pct is not None and result.window_cpu_pct > 0


@pytest.mark.slow
def test_locust_against_covets_server_is_flagged_generator_bound(tmp_path: Path) -> None:
    plan = build_plan(_suite("locust", ("plaintext",)))
    out = tmp_path / "out"
    options = RunOptions(
        out_dir=out,
        server_cpus=SERVER_CPUS or [0],
        loadgen_cpus=LOAD_CPUS or [0],
        lock_path=tmp_path / "lock",
        idle_timeout_s=2.0,
        report=False,
    )
    Runner(plan, options).run()
    data = load_results(out)  # validates against the schema
    [trial] = data["runs"]
    assert (trial["loadgen"], trial["server"], trial["latency_method"]) == (
        "locust",
        "covet",
        LATENCY_METHOD,
    )
    assert trial["rps"] > 0
    assert FLAG_GENERATOR_BOUND in trial["flags"], json.dumps(trial, indent=1)
