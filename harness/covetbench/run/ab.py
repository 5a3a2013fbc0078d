"""Same-job A/B for the gate: the baseline built from a git revision, trials interleaved with now.

Between CI jobs the same commit varies by tens of percent; within one job, interleaved, by well
under one. So `covet-bench gate --ab REV` measures both sides in one run on this machine:

1. a code path of REV (`covetbench.checkout.revision_path`: a temporary worktree whose
   `apps` and `covet` resolve first on a server's PYTHONPATH), the instrument unchanged;
2. every built-in app of the suite gets a twin `<name>~base` served from that path; the plan
   orders each configuration next to its twin, and the runner interleaves rounds (forward,
   reversed, ...), so A and B trials alternate;
3. the run's `results.json` is split into `baseline/` (twins, renamed back) and `current/`,
   which the gate then compares (`--paired` takes trial i of A and B as a pair).
   Apps given with `--app` (your own code) have no twin.

Trials per side default to at least `trials_needed(alpha, paired=True) + 1` (8 at alpha 0.01),
so either test (unpaired or `--paired`) can reach alpha with a trial or two out of order.

    baseline, current = run_ab(AbRequest(rev="origin/main", suite="quick", root=Path("r/ab")))
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from covetbench.apps import builtin_apps, resolve_apps, scenarios_dir
from covetbench.checkout import resolve_rev, revision_path
from covetbench.results.store import load_results, trial_records, write_results
from covetbench.run.progress import RichObserver
from covetbench.run.runner import Runner, RunOptions
from covetbench.run.schedule import build_plan
from covetbench.run.suite import SuiteOverrides, apply_overrides, find_suite, load_suite
from covetbench.run.validity import judge_configs, max_cv_of

BASE_SUFFIX = "~base"
BASELINE_DIR = "baseline"
CURRENT_DIR = "current"
COMBINED_DIR = "ab-run"


@dataclass
class AbRequest:
    """What `--ab` runs: a revision, a suite with overrides, where to put it all."""

    rev: str
    suite: str
    root: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    min_trials: int = 8
    server_cpus: list[int] = field(default_factory=lambda: [0])
    loadgen_cpus: list[int] = field(default_factory=lambda: [1])
    command: list[str] = field(default_factory=lambda: list(sys.argv))


def is_twin(name: str) -> bool:
    return name.endswith(BASE_SUFFIX)


def split_ab(combined: Mapping[str, Any], rev: str, sha: str | None) -> tuple[dict[str, Any], ...]:
    """(baseline, current) results documents from one interleaved A/B run's document."""
    sides: list[dict[str, Any]] = []
    for side in (BASELINE_DIR, CURRENT_DIR):
        base = side == BASELINE_DIR
        doc: dict[str, Any] = {"schema_version": combined["schema_version"]}
        meta = dict(combined["meta"])
        meta["ab"] = {"side": side, "rev": rev, "rev_commit": sha}
        if base:
            meta["git_commit"], meta["git_dirty"] = sha, False
        doc["meta"] = meta
        for section in ("verify", "failures", "runs"):
            rows = []
            for row in combined[section]:
                if is_twin(row["app"]) == base:
                    rows.append({**row, "app": row["app"].removesuffix(BASE_SUFFIX)})
            doc[section] = rows
        judged = judge_configs(trial_records(doc), max_cv=max_cv_of(meta))
        doc["summary"] = [s.to_dict() for s in judged]
        sides.append(doc)
    return tuple(sides)


def run_ab(request: AbRequest) -> tuple[Path, Path]:
    """Run the interleaved A/B suite; return (baseline_dir, current_dir) under `request.root`."""
    repo = scenarios_dir().parent
    suite = apply_overrides(
        load_suite(find_suite(request.suite)), SuiteOverrides(**request.overrides)
    )
    if suite.trials < request.min_trials and "trials" not in request.overrides:
        suite = dataclasses.replace(suite, trials=request.min_trials)
    # the gate pairs A and B trial by trial: fixed rounds, as many for each side, unless the
    # command line asks for adaptive ones
    if request.overrides.get("precision") is None:
        suite = dataclasses.replace(suite, precision_pct=None)
    if request.overrides.get("time_budget") is None:
        suite = dataclasses.replace(suite, time_budget_s=None)
    builtin = builtin_apps()
    sha = resolve_rev(repo, request.rev)
    with revision_path(repo, request.rev) as base_path:
        twins: dict[str, Any] = {}
        entries = []
        for entry in suite.entries:
            names = [t.name for t in resolve_apps(list(entry.apps) if entry.apps else None, [])]
            for name in names:
                if name in builtin:
                    twin = dataclasses.replace(
                        builtin[name], name=name + BASE_SUFFIX, pythonpath=str(base_path)
                    )
                    twins[twin.name] = twin
            apps = names + [n + BASE_SUFFIX for n in names if n in builtin]
            entries.append(dataclasses.replace(entry, apps=tuple(apps)))
        suite = dataclasses.replace(suite, entries=tuple(entries))
        plan = build_plan(suite, list(twins.values()))
        # each configuration next to its twin: A and B alternate within every round
        twin_of = {c.key: c for c in plan.configs if is_twin(c.pair.app.name)}
        ordered = []
        for config in plan.configs:
            if is_twin(config.pair.app.name):
                continue
            ordered.append(config)
            key = config.key._replace(app=config.key.app + BASE_SUFFIX)
            if key in twin_of:
                ordered.append(twin_of.pop(key))
        plan.configs = ordered + list(twin_of.values())
        combined_dir = request.root / COMBINED_DIR
        Runner(
            plan,
            RunOptions(
                out_dir=combined_dir,
                server_cpus=request.server_cpus,
                loadgen_cpus=request.loadgen_cpus,
                command=request.command,
                report=False,
            ),
            RichObserver(Console(highlight=False), verbose=True),
        ).run()
    baseline, current = split_ab(load_results(combined_dir), request.rev, sha)
    baseline_dir = write_results(request.root / BASELINE_DIR, baseline).parent
    current_dir = write_results(request.root / CURRENT_DIR, current).parent
    return baseline_dir, current_dir
