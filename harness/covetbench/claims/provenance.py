"""Evidence records (`soak.json`, `fuzz.json`) judged against what a claim states, and the one
command that produces the evidence a claim lacks.

A record says what it tested in its `provenance` (written by `covetbench.robustness`): server,
app, parser, workers, git commit, size (requests or cases), duration and thresholds. A record
passing is evidence for a claim only when it tested what the claim is about:

- `server` and `app` equal the claim's (covet's claim is about the covet framework app on
  covet's server: a uvicorn soak, or one of the bare `raw` ASGI app, says nothing about it);
- its `git_commit` is the commit judged (`Evidence.commit`): a record of other code is stale;
- its size is at least the claim's `min_size` (e.g. 1,000,000 requests for no-leak);
- each of its thresholds is at most the claim's `max_thresholds` (a soak passed with a 500 MiB
  growth limit shows nothing about a 5 MiB one).

Otherwise the verdict is INCONCLUSIVE, each reason in words, with the command that produces the
right record. One exception: a record that *failed* and is short only of the size still refutes
(a leak or a crash found early is found).

    verdict = judge_evidence(spec, Evidence(evidence_dirs=[Path("reports/x")], commit=sha))
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from covetbench.claims.evidence import Evidence
from covetbench.claims.ledger import ClaimSpec, ClaimVerdict
from covetbench.conformance.model import FRAMEWORK_PREFIX
from covetbench.verdicts import INCONCLUSIVE, REFUTED, VALIDATED

#: kinds whose missing evidence `covet-bench conform` produces
_CONFORMANCE_KINDS = ("conformance", "modules")


def evidence_dir(ev: Evidence) -> str:
    """Where a producing command should write: the results directory the claims read."""
    return str(ev.results_dir) if ev.results_dir is not None else "DIR"


def conformance_servers(specs: Sequence[ClaimSpec]) -> list[str]:
    """Every server the ledger's conformance checks are about (`ci/bench --full` runs these).

    A framework column (`app:covet`) is not a server: `covet-bench conform` runs the framework
    apps on its reference server whatever `--servers` names."""
    return sorted(
        {
            str(s.params["server"])
            for s in specs
            if s.kind in _CONFORMANCE_KINDS
            and "server" in s.params
            and not str(s.params["server"]).startswith(FRAMEWORK_PREFIX)
        }
    )


def conform_command(specs: Sequence[ClaimSpec], ev: Evidence) -> str:
    """One `covet-bench conform` run covering every server the ledger's checks name."""
    servers = ",".join(conformance_servers(specs))
    return f"covet-bench conform --servers {servers} --out {evidence_dir(ev)}"


def command_for(spec: ClaimSpec, specs: Sequence[ClaimSpec], ev: Evidence) -> str | None:
    """The one command producing the evidence `spec` needs (None when no command can)."""
    if isinstance(spec.params.get("command"), str):
        return str(spec.params["command"]).replace("{dir}", evidence_dir(ev))
    if spec.kind == "throughput":
        return f"covet-bench claims --run --out {evidence_dir(ev)}"
    if spec.kind == "conformance" or (
        spec.kind == "modules" and ("checks" in spec.params or "groups" in spec.params)
    ):
        return conform_command(specs, ev)
    return None


def _short(commit: Any) -> str:
    return str(commit)[:12] if commit else "unknown"


def provenance_gaps(
    params: Mapping[str, Any], record: Mapping[str, Any], commit: str | None
) -> tuple[list[str], list[str]]:
    """(why the record is not evidence for the claim, why it is too small), in words."""
    prov = record.get("provenance")
    if not isinstance(prov, dict):
        return ["the record has no provenance (written by an older covet-bench): re-run it"], []
    reasons: list[str] = []
    what = record.get("kind") or "record"
    for key, noun in (("server", "server"), ("app", "app")):
        want = params.get(key)
        if want is not None and prov.get(key) != want:
            extra = " (the bare ASGI app, not the framework)" if prov.get(key) == "raw" else ""
            reasons.append(
                f"the {what} ran {noun} {prov.get(key)!r}{extra}; the claim is about {want!r}"
            )
    if commit is None:
        reasons.append(
            "the commit judged is unknown (no git here): cannot tell the record is of this code"
        )
    elif prov.get("git_commit") != commit:
        reasons.append(
            f"the {what} is of commit {_short(prov.get('git_commit'))}, the code judged is "
            f"{_short(commit)}: stale"
        )
    thresholds = prov.get("thresholds") or {}
    for key, limit in (params.get("max_thresholds") or {}).items():
        used = thresholds.get(key)
        if not isinstance(used, int | float) or used > float(limit):
            reasons.append(f"the {what} ran with {key} = {used}; the claim allows at most {limit}")
    small: list[str] = []
    need = params.get("min_size")
    size = prov.get("size")
    if need is not None and (not isinstance(size, int | float) or size < int(need)):
        unit = prov.get("unit") or "units"
        shown = f"{size:,}" if isinstance(size, int | float) else "an unknown number of"
        small.append(f"the {what} covered {shown} {unit}; the claim states >= {int(need):,}")
    return reasons, small


def _describe(prov: Mapping[str, Any]) -> str:
    parser = f", parser {prov['parser']}" if prov.get("parser") else ""
    dirty = " (uncommitted changes)" if prov.get("git_dirty") else ""
    size = prov.get("size")
    shown = f"{size:,}" if isinstance(size, int | float) else "?"
    return (
        f"tested: server {prov.get('server')}{parser}, {prov.get('workers', 1)} worker(s), "
        f"app {prov.get('app')}, commit {_short(prov.get('git_commit'))}{dirty}, "
        f"{shown} {prov.get('unit', '')} in {prov.get('duration_s', '?')} s, "
        f"thresholds {json.dumps(prov.get('thresholds') or {}, sort_keys=True)}"
    )


def judge_evidence(spec: ClaimSpec, ev: Evidence) -> ClaimVerdict:
    """An evidence file's own verdict, kept only when its provenance matches the claim."""

    def verdict(word: str, evidence: str) -> ClaimVerdict:
        return ClaimVerdict(
            spec.id, spec.statement, spec.source, spec.kind, word, evidence=evidence
        )

    name = spec.params["file"]
    path = next((d / name for d in ev.evidence_dirs if (d / name).is_file()), None)
    if path is None:
        return verdict(INCONCLUSIVE, f"no evidence: needs {spec.params['needs']}")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        passed = data["passed"]
        if not isinstance(passed, bool):
            raise TypeError("'passed' must be true or false")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return verdict(INCONCLUSIVE, f"{path}: unreadable: {exc}")
    lines = [f"{path}: {data.get('summary', '')}".strip()]
    if isinstance(data.get("provenance"), dict):
        lines.append(_describe(data["provenance"]))
    reasons, small = provenance_gaps(spec.params, data, ev.commit)
    own = "passed" if passed else "failed"
    if reasons or (small and passed):
        lines.append(f"the record {own}, but is not evidence for this claim:")
        lines += [f"- {r}" for r in reasons + small]
        return verdict(INCONCLUSIVE, "\n".join(lines))
    if small:
        lines += [f"- {r} (it failed even so: a failure found early is found)" for r in small]
    return verdict(VALIDATED if passed else REFUTED, "\n".join(lines))
