"""The database scenarios in suites, plans and the report: named like the others, refused
without a database URL, drawn by the report without any special case."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from covetbench.apps import builtin_apps
from covetbench.exceptions import SuiteError, UsageError
from covetbench.load import loadgen_names
from covetbench.records import VerifyRecord
from covetbench.report import render_report
from covetbench.run.schedule import build_plan
from covetbench.run.suite import (
    SuiteOverrides,
    apply_overrides,
    check_names,
    find_suite,
    load_suite,
)
from covetbench.scenarios import SCENARIOS, scenario_names
from covetbench.servers import server_names
from tests.harness.report import factory

DB_SCENARIOS = [name for name, spec in SCENARIOS.items() if spec.needs_database]


def test_db_suite_names_the_database_and_known_things() -> None:
    suite = load_suite(find_suite("db"))
    check_names(
        suite,
        apps=builtin_apps(),
        servers=server_names(),
        scenarios=scenario_names(),
        loadgens=loadgen_names(),
    )
    assert suite.database == "postgresql://postgres@127.0.0.1:5432/covetbench"
    assert suite.needs_database and list(suite.entries[0].scenarios) == DB_SCENARIOS
    assert set(suite.entries[0].servers) == {"uvicorn", "granian", "covet"}
    quick = load_suite(find_suite("quick"))
    assert not quick.needs_database and quick.database is None


def test_database_scenarios_need_a_url(tmp_path: Path) -> None:
    suite = load_suite(find_suite("db"))
    without = dataclasses.replace(suite, database=None)
    with pytest.raises(UsageError, match="'db' reads the TechEmpower database: give its URL"):
        build_plan(without, check_loadgen=False)
    other = apply_overrides(without, SuiteOverrides(database="sqlite:////tmp/x.db"))
    assert other.database == "sqlite:////tmp/x.db"
    assert build_plan(other, check_loadgen=False).configs


def test_database_key_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('servers = ["uvicorn"]\nscenarios = ["db"]\nconcurrency = 8\ndatabase = 5\n')
    with pytest.raises(SuiteError, match=r"s.toml:4: field 'database': expected a non-empty"):
        load_suite(path)


def test_report_draws_database_scenarios(tmp_path: Path) -> None:
    runs = factory.trials(["raw", "covet"], ["uvicorn", "covet"], DB_SCENARIOS, [64], 2)
    verify = [VerifyRecord("covet", "uvicorn", "updates", "warn", ["rows hold keys beyond"])]
    directory = factory.write(tmp_path, results=factory.results(runs, verify))
    page = render_report(directory).read_text(encoding="utf-8")
    summary = (directory / "summary.md").read_text(encoding="utf-8")
    for name in DB_SCENARIOS:
        assert name in page and f"| {name} |" in summary, name
