"""The judges: each claim of `scenarios/claims.toml` VALIDATED, REFUTED, NOT REPRODUCED or
INCONCLUSIVE (the words of `covetbench.verdicts`).

Claims are data (`scenarios/claims.toml`, its header documents each kind); evidence comes only
from records on disk (`results.json`, `conformance.json`, optional `fuzz.json` / `soak.json`) and
from inspecting covet's code in a subprocess (`covetbench.claims.evidence`). The rules:

- Missing evidence is INCONCLUSIVE with the reason and the one command that would produce it
  (`ClaimVerdict.needs_command`), never VALIDATED.
- throughput (`covetbench.claims.throughput`): the best median among matching configurations;
  VALIDATED when it reaches the claim, NOT REPRODUCED when it falls short of a claim that names
  no hardware (with the hardware line: rate per core here, cores needed, 1 -> 2 worker
  scaling), REFUTED when it falls short on the hardware the claim names.
- conformance: any selected check that FAILs (or is UNSUPPORTED at MUST level) refutes; all
  passing with at least one PASS validates; ERRORs or no matching checks leave it INCONCLUSIVE.
- evidence files (`kind = "evidence"`, `covetbench.claims.provenance`): the record's own
  `passed`, kept only when its provenance (server, app, commit, size, thresholds) matches the
  claim; otherwise INCONCLUSIVE with the reasons.

The ledger itself (`ClaimSpec`, `load_claims`, `claims.json`) is `covetbench.claims.ledger`.

    specs = load_claims(scenarios_dir() / "claims.toml")
    verdicts = judge_claims(specs, Evidence.gather(results_dir=Path("reports/run")))
    write_claims(Path("reports/run"), verdicts, meta)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from covetbench.claims.evidence import Evidence, modules_report, stdlib_only_report
from covetbench.claims.ledger import ClaimSpec, ClaimVerdict
from covetbench.claims.provenance import command_for, judge_evidence
from covetbench.claims.throughput import judge_throughput
from covetbench.verdicts import INCONCLUSIVE, REFUTED, VALIDATED


def _verdict(spec: ClaimSpec, verdict: str, **kw: Any) -> ClaimVerdict:
    return ClaimVerdict(spec.id, spec.statement, spec.source, spec.kind, verdict, **kw)


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
        verdict = done.get(spec.id)
        if verdict and verdict.verdict == INCONCLUSIVE and verdict.needs_command is None:
            verdict.needs_command = command_for(spec, specs, ev)
    for spec in specs:
        if spec.kind == "composite":
            done[spec.id] = judge_composite(spec, [done[p] for p in spec.params["parts"]])
    return [done[spec.id] for spec in specs]
