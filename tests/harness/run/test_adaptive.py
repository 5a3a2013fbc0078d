"""Adaptive trials: the round planner, the time budget, and real runs of a steady and a jittery
toy app (stop at the target on the first, spend the budget on the second)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import pytest

from covetbench.records import FLAG_UNSTABLE
from covetbench.results.store import load_results
from covetbench.run.adaptive import (
    RoundPlanner,
    distance,
    meets_precision,
    relative_half_width,
    run_rounds,
)
from covetbench.run.runner import Runner, RunOptions
from covetbench.run.schedule import build_plan
from covetbench.run.suite import Suite, SuiteEntry
from tests.harness.conftest import MakeApp

STEADY = [1000.0, 1010.0, 995.0, 1005.0, 1002.0]
JITTERY = [1600.0, 400.0, 1600.0, 400.0, 1600.0]


def test_precision_needs_a_narrow_interval_at_a_90_percent_level() -> None:
    assert relative_half_width(STEADY) == pytest.approx((1010 - 995) / 2 / 1002)
    assert meets_precision(STEADY, 0.01)
    assert not meets_precision(STEADY, 0.005)
    assert not meets_precision(STEADY[:4], 0.5), "4 trials reach only 87.5 %"
    assert not meets_precision(JITTERY, 0.10)
    assert distance(JITTERY, 0.10) > distance(STEADY, 0.005) > 1.0
    assert distance(STEADY, 0.01) <= 1.0
    assert distance([1000.0], 0.5) == math.inf


def test_fixed_rounds_measure_everything_trials_times() -> None:
    planner = RoundPlanner(["a", "b"], lambda c: None, None, min_trials=2, max_trials=9)
    assert planner.max_trials == 2
    assert planner.next_round({}) == ["a", "b"]
    assert planner.next_round({"a": [1.0], "b": [1.0]}) == ["a", "b"]
    assert planner.next_round({"a": [1.0, 1.0], "b": [1.0, 1.0]}) == []


def test_adaptive_rounds_go_to_the_configurations_short_of_the_target() -> None:
    planner = RoundPlanner(["steady", "jittery"], lambda c: None, 0.05, 5, 9)
    assert planner.next_round({"steady": STEADY, "jittery": JITTERY}) == ["jittery"]
    assert planner.next_round({"steady": STEADY, "jittery": JITTERY * 2}) == []  # 10 >= 9


def test_a_partner_joins_the_round_and_the_furthest_go_first() -> None:
    partners = {"covet": "raw", "starlette": "raw"}
    planner = RoundPlanner(["raw", "covet", "starlette"], partners.get, 0.05, 5, 9)
    rps = {"raw": STEADY, "covet": JITTERY, "starlette": [1000.0, 1200.0, 900.0, 1000, 1100]}
    assert planner.next_round(rps) == ["raw", "covet", "starlette"]
    # room for two trials: the furthest (covet) and its floor
    assert planner.next_round(rps, seconds_left=8.0, trial_cost_s=4.0) == ["raw", "covet"]
    assert planner.next_round(rps, seconds_left=3.0, trial_cost_s=4.0) == []


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_run_rounds_stops_at_the_target_and_spends_the_budget_on_jitter() -> None:
    clock = _Clock()
    draws = {"steady": itertools.cycle(STEADY), "jittery": itertools.cycle(JITTERY)}
    taken: dict[str, list[int]] = {"steady": [], "jittery": []}

    def take(config: str, trial: int, round_no: int) -> float:
        clock.now += 4.0
        taken[config].append(round_no)
        return next(draws[config])

    planner = RoundPlanner(["steady", "jittery"], lambda c: None, 0.05, 3, 20)
    short = run_rounds(planner, take, lambda c: True, deadline=60.0, clock=clock)
    assert short == ["jittery"]
    assert len(taken["steady"]) == 5, "stops once its interval reaches 90 % and +-5 %"
    assert len(taken["jittery"]) == 10, "every round until the 60 s budget ran out"
    assert clock.now <= 60.0
    assert taken["jittery"] == list(range(1, 11))


def test_run_rounds_measures_everything_once_even_past_the_deadline() -> None:
    clock = _Clock()
    clock.now = 100.0
    seen: list[str] = []

    def take(config: str, trial: int, round_no: int) -> float:
        seen.append(config)
        return 1.0

    planner = RoundPlanner(["a", "b"], lambda c: None, None, 3, 3)
    assert run_rounds(planner, take, lambda c: True, deadline=50.0, clock=clock) == ["a", "b"]
    assert seen == ["a", "b"]


# Two toy apps whose speed is set by a sleep, not by the CPU, so the host's noise barely moves
# them: "steady" always sleeps 10 ms a request; "jittery" sleeps 40 ms in every other trial
# (wrk opens fresh connections per trial, so the count of client ports seen tells the trials
# apart).
_TOY = """\
import asyncio

SLOW_EVERY_OTHER_TRIAL = {jitter}
_ports = set()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    _ports.add(scope["client"][1])
    slow = SLOW_EVERY_OTHER_TRIAL and (len(_ports) // 16) % 2 == 1
    await asyncio.sleep(0.04 if slow else 0.01)
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]}})
    await send({{"type": "http.response.body", "body": b"Hello, World!"}})
"""


@pytest.mark.needs_wrk
@pytest.mark.slow
def test_runner_stops_a_steady_app_at_the_target_and_spends_the_budget_on_a_jittery_one(
    tmp_path: Path, make_app: MakeApp
) -> None:
    apps = [
        make_app("steady", _TOY.format(jitter=False)),
        make_app("jittery", _TOY.format(jitter=True)),
    ]
    entry = SuiteEntry(
        name="",
        apps=("steady", "jittery"),
        servers=("uvicorn",),
        scenarios=("plaintext",),
        concurrency=(16,),
    )
    suite = Suite(
        name="adaptive",
        entries=(entry,),
        duration_s=1,
        warmup_s=0,
        trials=5,
        retries=0,
        precision_pct=10.0,
        max_trials=7,
    )
    out = tmp_path / "out"
    options = RunOptions(out_dir=out, lock_path=tmp_path / "lock", idle_timeout_s=2.0)
    Runner(build_plan(suite, apps), options).run()
    data = load_results(out)
    trials = {s["app"]: s["trials"] for s in data["summary"]}
    assert trials == {"steady": 5, "jittery": 7}, data["summary"]
    flags = {s["app"]: s["config_flags"] for s in data["summary"]}
    assert FLAG_UNSTABLE in flags["jittery"]
    assert FLAG_UNSTABLE not in flags["steady"]
    rounds = sorted(r["round"] for r in data["runs"] if r["app"] == "jittery")
    assert rounds == list(range(1, 8))
    assert all(r["canary_ms"] and r["canary_ms"] > 0 for r in data["runs"])
    assert data["meta"]["canary"]["trials"] == 12


def test_suite_precision_keys_round_trip() -> None:
    entry = SuiteEntry(
        name="", apps=None, servers=("uvicorn",), scenarios=("json",), concurrency=(64,)
    )
    suite = Suite(name="x", entries=(entry,), trials=5, precision_pct=5.0)
    assert (suite.precision, suite.trial_limit) == (0.05, 15)
    assert dataclasses.replace(suite, max_trials=9).trial_limit == 9
    assert dataclasses.replace(suite, precision_pct=None).trial_limit == 5
