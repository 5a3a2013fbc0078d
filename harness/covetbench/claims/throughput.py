"""Throughput claims: the best measured figure against the claimed one, and what was tested.

The figure judged is the best median among matching configurations (the claim's kindest
reading). VALIDATED when it reaches the claim (within `tolerance`, default 5 %). When even the
upper end of its interval of the median falls short:

- NOT REPRODUCED if the claim names no hardware (no `hardware` in the ledger, or one this run's
  CPU model does not match): a figure from one core of this machine says nothing about the
  claim's unknown machine. The verdict carries the *hardware line*: the best configuration's
  rate on one core of this CPU, the cores it would need at perfect scaling, and the scaling
  from 1 to 2 workers measured here (from a `--workers 2` run given as `--scaling DIR`), or
  the command that would measure it.
- REFUTED if the claim names this run's hardware: it was tested on what it names and is false.

A figure with the `errors` flag proves nothing (fast error responses inflate it); a
generator-bound figure that this machine's cores could still lift to the claim is INCONCLUSIVE;
a flagged configuration (`unstable`, `too_few_trials`, `implausible`) keeps its verdict, and
its evidence says which flag and what it means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from covetbench.claims.evidence import Evidence
from covetbench.claims.ledger import ClaimSpec, ClaimVerdict
from covetbench.records import (
    ALL_FLAG_DESCRIPTIONS,
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    ConfigKey,
    ConfigSummary,
)
from covetbench.results.store import trial_records
from covetbench.run.validity import judge_configs, max_cv_of
from covetbench.stats import group_by_key, median
from covetbench.verdicts import INCONCLUSIVE, NOT_REPRODUCED, REFUTED, VALIDATED

#: what measures the 1 -> 2 worker scaling of a configuration (then `claims --scaling DIR`)
SCALING_COMMAND = (
    "covet-bench run quick --apps {app} --servers {server} --scenarios {scenario} "
    "--concurrency {concurrency} --workers 2 --server-cpus 0,1 --out DIR2; "
    "covet-bench claims --results {results} --scaling DIR2"
)


def _verdict(spec: ClaimSpec, verdict: str, **kw: Any) -> ClaimVerdict:
    return ClaimVerdict(spec.id, spec.statement, spec.source, spec.kind, verdict, **kw)


def hardware_of(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cpu_model": meta.get("cpu_model"),
        "cores": meta.get("cores"),
        "pinning": meta.get("pinning"),
        "host": meta.get("host"),
    }


def _describe(s: ConfigSummary) -> str:
    flags = ", ".join(s.all_flags) or "none"
    level = f", {s.interval_note}" if s.interval_note else ""
    return (
        f"{s.app}/{s.server}/{s.scenario} c={s.concurrency}: median {s.median_rps:,.0f} rps "
        f"(interval {s.ci_low:,.0f}-{s.ci_high:,.0f}{level}, {s.trials} trials, flags: {flags})"
    )


def workers_of(results: Mapping[str, Any]) -> int:
    """The server worker processes of a run (`meta.suite_config.workers`, 1 when absent)."""
    config = results.get("meta", {}).get("suite_config") or {}
    try:
        return int(config.get("workers") or 1)
    except (TypeError, ValueError):
        return 1


def _medians(results: Mapping[str, Any]) -> dict[ConfigKey, float]:
    summaries = judge_configs(trial_records(results), max_cv=max_cv_of(results["meta"]))
    return {s.key: s.median_rps for s in summaries}


def scaling_line(key: ConfigKey, ev: Evidence) -> str:
    """The 1 -> 2 worker scaling of `key`, from the results and `ev.scaling`, or the command
    that would measure it."""
    runs: dict[int, tuple[Mapping[str, Any], Path | None]] = {}
    for results, where in ((ev.results, ev.results_dir), (ev.scaling, ev.scaling_dir)):
        if results is not None:
            runs.setdefault(workers_of(results), (results, where))
    if 1 in runs and 2 in runs:
        one, two = _medians(runs[1][0]).get(key), _medians(runs[2][0]).get(key)
        if one and two:
            cpus = (runs[2][0]["meta"].get("pinning") or {}).get("server_cpus")
            return (
                f"{two / one:.2f}x ({key.label}: {one:,.0f} req/s with 1 worker, {two:,.0f} "
                f"with 2 on server cores {cpus}, {runs[2][1]})"
            )
    command = SCALING_COMMAND.format(
        app=key.app,
        server=key.server,
        scenario=key.scenario,
        concurrency=key.concurrency,
        results=ev.results_dir or "DIR",
    )
    return f"not measured (measure it: `{command}`)"


def _cpu_matches(named: str | None, cpu_model: str | None) -> bool:
    return bool(named and cpu_model and named.lower() in cpu_model.lower())


def judge_throughput(spec: ClaimSpec, ev: Evidence) -> ClaimVerdict:
    p = spec.params
    expected = float(p["expected_rps"])
    if ev.results is None:
        why = ev.results_error or "no results directory given (--results DIR)"
        return _verdict(
            spec, INCONCLUSIVE, expected=expected, evidence=f"no throughput measured: {why}"
        )
    servers = set(p.get("servers", ["*"]))
    every_trial = trial_records(ev.results)
    trials = [
        t
        for t in every_trial
        if t.app == p["app"]
        and t.scenario in p["scenarios"]
        and ("*" in servers or t.server in servers)
    ]
    hardware = hardware_of(ev.results["meta"])
    if not trials:
        return _verdict(
            spec,
            INCONCLUSIVE,
            expected=expected,
            hardware=hardware,
            evidence=f"{ev.results_dir} has no trial of app {p['app']!r} on "
            f"{', '.join(p['scenarios'])}; run e.g. `covet-bench run --apps {p['app']} "
            f"--scenarios {','.join(p['scenarios'])}`",
        )
    # judged over every trial: `implausible` compares with the raw app of the same run
    matching = {t.key for t in trials}
    judged = judge_configs(every_trial, max_cv=max_cv_of(ev.results["meta"]))
    summaries = sorted(
        (s for s in judged if s.key in matching), key=lambda s: s.median_rps, reverse=True
    )
    best = summaries[0]
    best_trials = group_by_key(trials)[best.key]
    cores_used = median([t.server_cpu_pct for t in best_trials]) / 100.0
    if cores_used < 0.05:  # no CPU measured: assume the server had its pinned cores
        cores_used = float(len(best_trials[0].server_cpus) or 1)
    per_core = best.median_rps / cores_used
    cores_needed = math.ceil(expected / per_core) if per_core > 0 else None
    machine_cores = hardware.get("cores") or 0
    cpu = hardware.get("cpu_model") or "an unknown CPU"
    ratio = best.median_rps / expected
    lines = ["best: " + _describe(best)]
    lines += ["also: " + _describe(s) for s in summaries[1:5]]
    lines.append(
        f"server used {cores_used:.2f} cores -> {per_core:,.0f} rps per core; "
        f"hardware: {cpu}, {machine_cores} cores"
    )
    to_reach = (
        f"{expected:,.0f} rps at {per_core:,.0f} rps per server core needs ~{cores_needed} such "
        f"cores with perfect scaling (this machine has {machine_cores})"
        if cores_needed is not None
        else None
    )
    rate = (
        f"{best.median_rps:,.0f} req/s on one core of {cpu}"
        if cores_used <= 1.05
        else f"{best.median_rps:,.0f} req/s on {cores_used:.2f} cores of {cpu} "
        f"({per_core:,.0f} per core)"
    )
    hardware_line = (
        f"best {best.app} configuration ({best.key.label}) {rate}; "
        f"needs >= {cores_needed} such cores at perfect scaling; "
        f"scaling from 1 to 2 workers measured here: {scaling_line(best.key, ev)}"
    )
    if best.config_flags:
        lines.append(
            "the best figure's configuration is flagged: "
            + "; ".join(f"{f} ({ALL_FLAG_DESCRIPTIONS.get(f, '')})" for f in best.config_flags)
        )
    tolerance = float(p.get("tolerance", 0.05))
    if FLAG_ERRORS in best.flags:
        verdict = INCONCLUSIVE
        lines.append("the best figure has failed requests: error responses inflate throughput")
    elif best.median_rps >= expected * (1.0 - tolerance):
        verdict = VALIDATED
    elif best.ci_high < expected:
        named = p.get("hardware")
        if _cpu_matches(named, hardware.get("cpu_model")):
            verdict = REFUTED
            lines.append(f"the claim names this hardware ({named}) and falls short on it")
        else:
            verdict = NOT_REPRODUCED
            lines.append(
                "the claim names no hardware this run had"
                + (f" (it names {named!r})" if named else "")
                + ": not reproduced here, which does not make it false on other machines"
            )
        if (
            FLAG_GENERATOR_BOUND in best.flags
            and cores_needed is not None
            and cores_needed <= machine_cores
        ):
            verdict = INCONCLUSIVE
            lines.append(
                "the load generator was the bottleneck and this machine's cores could "
                "reach the figure at the server's measured per-core rate"
            )
    else:
        verdict = INCONCLUSIVE
        level = f" ({best.interval_note})" if best.interval_note else ""
        lines.append(f"the claim lies inside the figure's interval{level}")
    return _verdict(
        spec,
        verdict,
        measured=best.median_rps,
        expected=expected,
        ratio=ratio,
        hardware=hardware | {"server_cores_used": round(cores_used, 2)},
        evidence="\n".join(lines),
        to_reach=to_reach,
        hardware_line=hardware_line,
    )
