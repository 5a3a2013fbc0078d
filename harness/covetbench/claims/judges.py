"""The judges: each claim of `scenarios/claims.toml` VALIDATED, REFUTED or INCONCLUSIVE.

Claims are data (`scenarios/claims.toml`, its header documents each kind); evidence comes only
from records on disk (`results.json`, `conformance.json`, optional `fuzz.json` / `soak.json`) and
from inspecting covet's code in a subprocess (`covetbench.claims.evidence`). The rules:

- Missing evidence is INCONCLUSIVE with the reason and the command that would produce it, never
  VALIDATED.
- throughput: the best median among matching configurations (the claim's kindest reading).
  VALIDATED when it reaches the figure (within `tolerance`, default 5 %); REFUTED when even the
  upper end of its interval of the median falls short, stating the hardware, the ratio, the server's
  measured rate per core and how many such cores the claim would need with perfect scaling.
  A figure with the `errors` flag proves nothing (fast error responses inflate it); a
  generator-bound figure that this machine's cores could still lift to the claim is INCONCLUSIVE.
  A figure whose configuration is flagged (`unstable`, `too_few_trials`, `implausible`) keeps
  its verdict, and its evidence says which flag and what it means.
- conformance: any selected check that FAILs (or is UNSUPPORTED at MUST level) refutes; all
  passing with at least one PASS validates; ERRORs or no matching checks leave it INCONCLUSIVE.
- evidence files (`kind = "evidence"`): `{"passed": bool, "summary": str}`; absent: INCONCLUSIVE.

The ledger itself (`ClaimSpec`, `load_claims`, `claims.json`) is `covetbench.claims.ledger`.

    specs = load_claims(scenarios_dir() / "claims.toml")
    verdicts = judge_claims(specs, Evidence.gather(results_dir=Path("reports/run")))
    write_claims(Path("reports/run"), verdicts, meta)
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from covetbench.claims.evidence import Evidence, modules_report, stdlib_only_report
from covetbench.claims.ledger import ClaimSpec, ClaimVerdict
from covetbench.records import (
    ALL_FLAG_DESCRIPTIONS,
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    ConfigSummary,
)
from covetbench.results.store import trial_records
from covetbench.run.validity import judge_configs, max_cv_of
from covetbench.stats import group_by_key, median
from covetbench.verdicts import INCONCLUSIVE, REFUTED, VALIDATED


def _verdict(spec: ClaimSpec, verdict: str, **kw: Any) -> ClaimVerdict:
    return ClaimVerdict(spec.id, spec.statement, spec.source, spec.kind, verdict, **kw)


# -- throughput ----------------------------------------------------------------------------------


def _hardware(meta: Mapping[str, Any]) -> dict[str, Any]:
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
    hardware = _hardware(ev.results["meta"])
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
    ratio = best.median_rps / expected
    lines = ["best: " + _describe(best)]
    lines += ["also: " + _describe(s) for s in summaries[1:5]]
    lines.append(
        f"server used {cores_used:.2f} cores -> {per_core:,.0f} rps per core; "
        f"hardware: {hardware.get('cpu_model')}, {machine_cores} cores"
    )
    to_reach = (
        f"{expected:,.0f} rps at {per_core:,.0f} rps per server core needs ~{cores_needed} such "
        f"cores with perfect scaling (this machine has {machine_cores})"
        if cores_needed is not None
        else None
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
        verdict = REFUTED
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
    )


# -- conformance ---------------------------------------------------------------------------------


def select_checks(
    conformance: Mapping[str, Any], params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Checks matching `groups` (any) or `checks` (fnmatch on ids), then `levels` if given."""
    groups = set(params.get("groups", []))
    patterns = [p.lower() for p in params.get("checks", [])]
    levels = {lvl.upper() for lvl in params.get("levels", [])}
    selected = []
    for check in conformance.get("checks", []):
        cid = str(check.get("id", "")).lower()
        if not (check.get("group") in groups or any(fnmatch.fnmatch(cid, p) for p in patterns)):
            continue
        if levels and str(check.get("level", "")).upper() not in levels:
            continue
        selected.append(check)
    return selected


def _conformance_verdict(spec: ClaimSpec, ev: Evidence, params: Mapping[str, Any]) -> ClaimVerdict:
    server = params["server"]
    if ev.conformance is None:
        why = ev.conformance_error or "no conformance.json given (--conformance or --results)"
        return _verdict(spec, INCONCLUSIVE, evidence=f"no conformance evidence: {why}")
    checks = select_checks(ev.conformance, params)
    what = ", ".join(params.get("groups", []) + params.get("checks", []))
    if not checks:
        return _verdict(spec, INCONCLUSIVE, evidence=f"no conformance check matches {what}")
    counts: dict[str, int] = {}
    failed: list[str] = []
    named: dict[str, list[str]] = {"failing": [], "could not run": []}
    for check in checks:
        result = (check.get("results") or {}).get(server)
        status = str(result.get("status", "")).upper() if isinstance(result, dict) else "MISSING"
        counts[status] = counts.get(status, 0) + 1
        level = str(check.get("level", "")).upper()
        if status == "FAIL" or (status == "UNSUPPORTED" and level == "MUST"):
            evidence = result.get("evidence", "") if isinstance(result, dict) else ""
            failed.append(f"{check.get('id')} [{level} {status}]: {evidence}"[:300])
            named["failing"].append(str(check.get("id")))
        elif status == "ERROR":
            named["could not run"].append(str(check.get("id")))
    total, passed = len(checks), counts.get("PASS", 0)
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    lines = [f"{total} checks ({what}) on server {server!r}: {tally}"]
    lines += [f"{key}: {', '.join(ids)}" for key, ids in named.items() if ids] + failed[:8]
    if failed:
        verdict = REFUTED
    elif counts.get("MISSING") == total:
        verdict = INCONCLUSIVE
        lines.append(f"conformance.json has no results for server {server!r}")
    elif passed and passed + counts.get("UNSUPPORTED", 0) == total:
        verdict = VALIDATED
    else:
        verdict = INCONCLUSIVE
    return _verdict(
        spec,
        verdict,
        measured=f"{passed} of {total} pass",
        expected=f"all {total} pass",
        ratio=passed / total,
        evidence="\n".join(lines),
    )


def judge_conformance(spec: ClaimSpec, ev: Evidence) -> ClaimVerdict:
    return _conformance_verdict(spec, ev, spec.params)


# -- code ----------------------------------------------------------------------------------------


def judge_stdlib_only(spec: ClaimSpec, ev: Evidence) -> ClaimVerdict:
    package = spec.params["package"]
    core = list(spec.params.get("core", [package]))
    if ev.framework_dir is None or not (ev.framework_dir / package).is_dir():
        return _verdict(spec, INCONCLUSIVE, evidence=f"package {package!r} not found")
    report = stdlib_only_report(ev.framework_dir, package, core)
    if "error" in report:
        return _verdict(spec, INCONCLUSIVE, evidence=str(report["error"]))
    bad_core = {k: v for k, v in report["core"].items() if v != "ok"}
    loaded = report["third_party_loaded"]
    unguarded = [
        f"{s['file']}:{s['line']} imports {s['module']}"
        for s in report["static"]
        if s["top_level"] and not s["guarded"]
    ]
    lines = [
        f"imported {', '.join(core)} with `python -S -E` (no site-packages): "
        + ("ok" if not bad_core else "; ".join(f"{k}: {v}" for k, v in bad_core.items()))
    ]
    if report["optional"]:
        lines.append(
            "optional modules needing extras: "
            + "; ".join(f"{k} ({v})" for k, v in sorted(report["optional"].items()))
        )
    if report["broken"]:
        lines.append("modules failing for other reasons: " + "; ".join(sorted(report["broken"])))
    if loaded:
        lines.append("third-party modules loaded: " + ", ".join(loaded))
    lines += ["unguarded import: " + u for u in unguarded[:10]]
    if not bad_core and not loaded:
        verdict = VALIDATED
    else:
        verdict = REFUTED
    n_optional = len(report["optional"])
    return _verdict(
        spec,
        verdict,
        measured=f"{len(loaded)} third-party modules needed by the core; {n_optional} optional",
        expected="0 third-party modules",
        evidence="\n".join(lines),
    )


def judge_modules(spec: ClaimSpec, ev: Evidence) -> ClaimVerdict:
    modules = list(spec.params["modules"])
    if ev.framework_dir is None:
        return _verdict(spec, INCONCLUSIVE, evidence="framework directory not found")
    status = modules_report(ev.framework_dir, modules)
    missing = [m for m in modules if status.get(m) == "missing"]
    broken = {m: s for m, s in status.items() if s not in ("ok", "missing")}
    lines = [f"{m}: {status.get(m, '?')}" for m in modules]
    if missing:
        return _verdict(
            spec,
            REFUTED,
            measured=f"missing: {', '.join(missing)}",
            expected=f"modules {', '.join(modules)}",
            evidence="\n".join(lines),
        )
    if broken:
        return _verdict(spec, INCONCLUSIVE, evidence="\n".join(lines + ["module does not import"]))
    if "checks" in spec.params or "groups" in spec.params:
        behaviour = _conformance_verdict(spec, ev, spec.params)
        behaviour.evidence = "\n".join(lines + [behaviour.evidence])
        if behaviour.verdict == INCONCLUSIVE:
            behaviour.evidence += "\nthe module exists but no conformance check exercised it"
        return behaviour
    return _verdict(
        spec,
        INCONCLUSIVE,
        evidence="\n".join(lines + ["the module exists but nothing measured its behaviour"]),
    )


def judge_evidence(spec: ClaimSpec, ev: Evidence) -> ClaimVerdict:
    name = spec.params["file"]
    for directory in ev.evidence_dirs:
        path = directory / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            passed = data["passed"]
            if not isinstance(passed, bool):
                raise TypeError("'passed' must be true or false")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return _verdict(spec, INCONCLUSIVE, evidence=f"{path}: unreadable: {exc}")
        summary = str(data.get("summary", ""))
        return _verdict(
            spec, VALIDATED if passed else REFUTED, evidence=f"{path}: {summary}".strip()
        )
    return _verdict(spec, INCONCLUSIVE, evidence=f"no evidence: needs {spec.params['needs']}")


def judge_composite(spec: ClaimSpec, parts: Sequence[ClaimVerdict]) -> ClaimVerdict:
    verdicts = [p.verdict for p in parts]
    if REFUTED in verdicts:
        verdict = REFUTED
    elif verdicts and all(v == VALIDATED for v in verdicts):
        verdict = VALIDATED
    else:
        verdict = INCONCLUSIVE
    n_ok = verdicts.count(VALIDATED)
    return _verdict(
        spec,
        verdict,
        measured=f"{n_ok} of {len(parts)} parts validated",
        expected=f"all {len(parts)} parts validated",
        ratio=n_ok / len(parts) if parts else None,
        evidence="\n".join(f"{p.id}: {p.verdict}" for p in parts),
        parts=[p.id for p in parts],
    )


_JUDGES = {
    "throughput": judge_throughput,
    "conformance": judge_conformance,
    "stdlib_only": judge_stdlib_only,
    "modules": judge_modules,
    "evidence": judge_evidence,
}


def judge_claims(specs: Sequence[ClaimSpec], ev: Evidence) -> list[ClaimVerdict]:
    """Judge every claim, composites from their parts, in ledger order."""
    done: dict[str, ClaimVerdict] = {}
    for spec in specs:
        if spec.kind != "composite":
            done[spec.id] = _JUDGES[spec.kind](spec, ev)
    for spec in specs:
        if spec.kind == "composite":
            done[spec.id] = judge_composite(spec, [done[p] for p in spec.params["parts"]])
    return [done[spec.id] for spec in specs]
