"""The claims ledger: the claims as data (`scenarios/claims.toml`, its header documents each
kind) and the `claims.json` their verdicts are written to.

`claims.json` is `{"meta": {...}, "claims": [{id, statement, source, kind, verdict, measured,
expected, ratio, evidence, hardware, to_reach, parts, hardware_line, needs_command}]}`;
`evidence` is one string (lines separated by newlines), `measured`/`expected` numbers for
throughput and strings otherwise; `hardware_line` says what a throughput figure was measured on
(it travels with a NOT REPRODUCED verdict into summary.md and the report); `needs_command` is
the one command that produces the evidence a verdict lacked.

    specs = load_claims(scenarios_dir() / "claims.toml")
    write_claims(Path("reports/run"), judge_claims(specs, evidence), meta)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from covetbench.exceptions import SuiteError
from covetbench.results.files import CLAIMS_JSON
from covetbench.results.meta import utc_now
from covetbench.results.store import atomic_write
from covetbench.tomlfile import read_toml

KINDS = ("throughput", "conformance", "stdlib_only", "modules", "composite", "evidence")
_REQUIRED = {
    "throughput": ("app", "scenarios", "expected_rps"),
    "conformance": ("server",),
    "stdlib_only": ("package",),
    "modules": ("modules",),
    "composite": ("parts",),
    "evidence": ("file", "needs"),
}


@dataclass(frozen=True)
class ClaimSpec:
    """One claim as written in claims.toml; `params` holds the kind-specific keys."""

    id: str
    statement: str
    source: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClaimVerdict:
    """A judged claim: a row of `claims.json["claims"]`."""

    id: str
    statement: str
    source: str
    kind: str
    verdict: str
    measured: float | str | None = None
    expected: float | str | None = None
    ratio: float | None = None
    evidence: str = ""
    hardware: dict[str, Any] | None = None
    to_reach: str | None = None
    parts: list[str] = field(default_factory=list)
    hardware_line: str | None = None
    needs_command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _line_of(text: str, claim_id: str) -> int | None:
    match = re.search(rf'^\s*id\s*=\s*"{re.escape(claim_id)}"', text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def load_claims(path: Path) -> list[ClaimSpec]:
    """Parse the ledger; a wrong entry raises `SuiteError` naming the file, line and field."""
    text, data = read_toml(path)
    entries = data.get("claim")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(str(path), None, "claim", "expected [[claim]] tables")
    specs: list[ClaimSpec] = []
    seen: set[str] = set()
    for entry in entries:
        claim_id = str(entry.get("id", ""))
        line = _line_of(text, claim_id) if claim_id else None
        for key in ("id", "statement", "source", "kind"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise SuiteError(str(path), line, key, "missing or not a string")
        kind = entry["kind"]
        if kind not in KINDS:
            raise SuiteError(str(path), line, "kind", f"{kind!r} is not one of {KINDS}")
        for key in _REQUIRED[kind]:
            if key not in entry:
                raise SuiteError(str(path), line, key, f"required for kind {kind!r}")
        if claim_id in seen:
            raise SuiteError(str(path), line, "id", f"duplicate claim id {claim_id!r}")
        seen.add(claim_id)
        params = {k: v for k, v in entry.items() if k not in ("id", "statement", "source", "kind")}
        specs.append(ClaimSpec(claim_id, entry["statement"], entry["source"], kind, params))
    for spec in specs:
        for part in spec.params.get("parts", []):
            if part not in seen:
                raise SuiteError(str(path), _line_of(text, spec.id), "parts", f"no claim {part!r}")
    return specs


def write_claims(out_dir: Path, verdicts: Sequence[ClaimVerdict], meta: Mapping[str, Any]) -> Path:
    """Write `claims.json` atomically; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / CLAIMS_JSON
    doc = {"meta": {**meta, "generated_at": utc_now()}, "claims": [v.to_dict() for v in verdicts]}
    atomic_write(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return path
