"""The parser-differential probe: the request corpus through this server, its sibling (the same
server with its other parser, when it has one) and h11. Disagreements between siblings fail
the check; disagreements with h11 are listed as the figure. The full list is written beside
the server logs, since evidence is clipped."""

from __future__ import annotations

import json
from typing import Any

from covetbench.conformance.differential import (
    disagreements,
    h11_outcome,
    load_corpus,
    server_outcomes,
)
from covetbench.conformance.loader import conformance_dir
from covetbench.conformance.model import FAIL, PASS, UNSUPPORTED, CheckResult
from covetbench.conformance.probes import ProbeContext
from covetbench.conformance.probes.robustness import launched, robustness_probe


def _sibling(server: str, pairs: list[list[str]]) -> str | None:
    for pair in pairs:
        if server in pair:
            return next((s for s in pair if s != server), None)
    return None


def _row(found: tuple[str, str, str], left: str, right: str) -> dict[str, str]:
    case, ours, theirs = found
    return {"case": case, left: ours, right: theirs}


@robustness_probe("parser_differential")
def parser_differential(ctx: ProbeContext, params: dict[str, Any]) -> CheckResult:
    """`corpus` (a file under scenarios/conformance/) plus `generated` seeded mutations, sent
    case by case; PASS when this server and its sibling in `siblings` agree on every case,
    UNSUPPORTED (with the h11 figure) when the server has one parser."""
    cases = load_corpus(
        conformance_dir() / str(params.get("corpus", "corpus/parser_corpus.toml")),
        int(params.get("generated", 0)),
        int(params.get("seed", 0)),
    )
    reference = {c.name: h11_outcome(c.data) for c in cases}
    want = {n: max(1, len(o.served) + int(o.rejected)) for n, o in reference.items()}
    sibling = _sibling(ctx.server, [list(p) for p in params.get("siblings", [])])
    with launched(ctx, params) as (live, _):
        ours = server_outcomes(live.host, live.port, cases, want)
    theirs = None
    if sibling is not None:
        with launched(ctx, params, server=sibling) as (live, _):
            theirs = server_outcomes(live.host, live.port, cases, want)
    vs_h11 = disagreements(ours, reference, exact=False)
    vs_sibling = disagreements(ours, theirs, exact=True) if theirs is not None else []
    detail = ctx.log_dir / f"{ctx.server}-parser-differential.json"
    detail.parent.mkdir(parents=True, exist_ok=True)
    detail.write_text(
        json.dumps(
            {
                "server": ctx.server,
                "sibling": sibling,
                "cases": len(cases),
                "vs_sibling": [_row(d, ctx.server, str(sibling)) for d in vs_sibling],
                "vs_h11": [_row(d, ctx.server, "h11") for d in vs_h11],
            },
            indent=1,
        )
        + "\n"
    )
    figure = f"{len(vs_sibling)} disagreement(s) with {sibling}; " if sibling else ""
    figure += f"{len(vs_h11)} with h11 over {len(cases)} cases"
    # names only, siblings first: the evidence is clipped, the detail file is not
    names = {
        key: ", ".join(n for n, _, _ in found) or "none"
        for key, found in (("sibling", vs_sibling), ("h11", vs_h11))
    }
    listed = f"vs {sibling}: {names['sibling']}; " if sibling else ""
    listed += f"vs h11: {names['h11']}"
    evidence = f"figure: {figure}; outcomes of each in logs/{detail.name}; {listed}"
    if sibling is None:
        return CheckResult(UNSUPPORTED, f"one HTTP/1 parser, no sibling to differ; {evidence}")
    return CheckResult(FAIL if vs_sibling else PASS, evidence)
