"""Suites: the shipped ones load and name only known things; malformed ones fail at file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from covetbench.apps import builtin_apps
from covetbench.exceptions import SuiteError, UnknownNameError, UsageError
from covetbench.load import loadgen_names
from covetbench.run.suite import (
    SuiteOverrides,
    apply_overrides,
    check_names,
    find_suite,
    load_suite,
    suite_names,
)
from covetbench.scenarios import scenario_names
from covetbench.servers import server_names

WriteSuite = Callable[[str], Path]

GOOD = """\
description = "test"
apps = ["raw"]
servers = ["uvicorn"]
scenarios = ["plaintext", "json"]
concurrency = 64
duration = 1
warmup = 0
trials = 1

[[variant]]
name = "deep"
scenarios = ["plaintext"]
pipeline = 16
"""


def _check(path: Path) -> None:
    suite = load_suite(path)
    check_names(
        suite,
        apps=builtin_apps(),
        servers=server_names(),
        scenarios=scenario_names(),
        loadgens=loadgen_names(),
    )


@pytest.fixture
def write_suite(tmp_path: Path) -> WriteSuite:
    def write(text: str) -> Path:
        path = tmp_path / "bad.toml"
        path.write_text(text)
        return path

    return write


@pytest.mark.parametrize("name", suite_names())
def test_shipped_suites_load_and_name_known_things(name: str) -> None:
    _check(find_suite(name))


def test_shipped_suites_include_quick_and_full() -> None:
    assert {"quick", "full"} <= set(suite_names())
    full = load_suite(find_suite("full"))
    assert any(entry.pipeline == 16 for entry in full.entries)


def test_variant_inherits_what_it_does_not_set(write_suite: WriteSuite) -> None:
    suite = load_suite(write_suite(GOOD))
    main, deep = suite.entries
    assert main.concurrency == (64,)
    assert (deep.name, deep.scenarios, deep.pipeline) == ("deep", ("plaintext",), 16)
    assert (deep.apps, deep.servers, deep.concurrency) == (("raw",), ("uvicorn",), (64,))
    assert (suite.duration_s, suite.warmup_s, suite.trials) == (1, 0, 1)


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (GOOD.replace("trials = 1", "trails = 1"), 8, "trails", "unknown key"),
        (GOOD.replace("trials = 1", 'trials = "two"'), 8, "trials", "whole number"),
        (GOOD.replace("duration = 1", "duration = 0"), 6, "duration", ">= 1"),
        (GOOD.replace("concurrency = 64", "concurrency = [64, -1]"), 5, "concurrency", ">= 1"),
        (GOOD.replace("pipeline = 16", "pipeline = 0"), 13, "variant[0].pipeline", ">= 1"),
        (GOOD.replace('name = "deep"', "naem = 1"), 11, "variant[0].naem", "unknown key"),
        (GOOD.replace("apps = [", "apps = [[").replace('"raw"]', '"raw"]]'), 2, "apps", "names"),
        (GOOD.replace('servers = ["uvicorn"]', "servers = ["), 4, None, "not valid TOML"),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "below-minimum",
        "bad-list-item",
        "variant-value",
        "variant-key",
        "nested-list",
        "toml-syntax",
    ],
)
def test_malformed_suite_names_file_line_and_field(
    write_suite: WriteSuite,
    text: str,
    line: int,
    field: str | None,
    message: str,
) -> None:
    path = write_suite(text)
    with pytest.raises(SuiteError, match=message) as caught:
        _check(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{path}:{line}:")


def test_unknown_name_points_at_its_line_in_a_multiline_list(write_suite: WriteSuite) -> None:
    text = GOOD.replace('servers = ["uvicorn"]', 'servers = [\n  "uvicorn",\n  "tornado",\n]')
    with pytest.raises(SuiteError, match="unknown server 'tornado'; valid: .*uvicorn") as caught:
        _check(write_suite(text))
    assert (caught.value.line, caught.value.field) == (5, "servers")


def test_unknown_name_in_a_variant(write_suite: WriteSuite) -> None:
    text = GOOD.replace('scenarios = ["plaintext"]\n', 'scenarios = ["plaintxt"]\n')
    with pytest.raises(SuiteError, match="unknown scenario 'plaintxt'") as caught:
        _check(write_suite(text))
    assert (caught.value.line, caught.value.field) == (12, "variant[0].scenarios")


def test_missing_required_field_is_named(write_suite: WriteSuite) -> None:
    with pytest.raises(SuiteError, match="field 'servers'"):
        _check(write_suite(GOOD.replace('servers = ["uvicorn"]\n', "")))


def test_unknown_suite_lists_valid_suites() -> None:
    with pytest.raises(UnknownNameError, match="valid suites: .*quick"):
        find_suite("quik")


def test_overrides_replace_values_in_every_matrix(write_suite: WriteSuite) -> None:
    suite = load_suite(write_suite(GOOD))
    changed = apply_overrides(suite, SuiteOverrides(servers=["granian"], duration=2, trials=3))
    assert [e.servers for e in changed.entries] == [("granian",), ("granian",)]
    assert (changed.duration_s, changed.trials, changed.warmup_s) == (2, 3, 0)
    with pytest.raises(UsageError, match="--trials must be >= 1"):
        apply_overrides(suite, SuiteOverrides(trials=0))


def test_max_cv_comes_from_the_suite_and_the_command_line(write_suite: WriteSuite) -> None:
    import argparse

    from covetbench.commands import run as run_command

    suite = load_suite(write_suite(GOOD))
    assert (suite.max_cv_pct, suite.max_cv) == (10.0, 0.10)
    strict = load_suite(write_suite(GOOD.replace("trials = 1", "trials = 1\nmax_cv = 5")))
    assert strict.max_cv == pytest.approx(0.05)
    parser = argparse.ArgumentParser()
    run_command.add_arguments(parser)
    args = parser.parse_args(["quick", "--max-cv", "2.5"])
    assert args.max_cv == 2.5
    assert apply_overrides(suite, SuiteOverrides(max_cv=args.max_cv)).max_cv == pytest.approx(0.025)
    assert "--max-cv PCT" in parser.format_help()
    with pytest.raises(UsageError, match="--max-cv must be >= 0"):
        apply_overrides(suite, SuiteOverrides(max_cv=-1.0))
    with pytest.raises(SuiteError, match="max_cv"):
        load_suite(write_suite(GOOD.replace("trials = 1", "trials = 1\nmax_cv = 0")))
