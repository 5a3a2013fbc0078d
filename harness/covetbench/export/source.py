"""What an export reads from a run directory: summaries, failures and claims, as records.

A run directory holds `results.json` (summaries, failures) and, after `covet-bench claims --out`
into it, `claims.json`. A results document without summaries (an interrupted run) is summarized
from its trials the way the run would have (`judge_configs` at the run's `--max-cv`).

A configuration carrying a flag of `covetbench.gate.rule.BLOCKING_FLAGS` measured failures, the
generator or noise: the JSON exports leave it out unless asked (`include_flagged`), since the
trackers they feed would chart and alert on its figure; JUnit reports it as skipped.

    run = load_run(Path("reports/20261205T060000Z-quick"))
    run.summaries, run.failures, run.claims
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.exceptions import ResultsError
from covetbench.gate.rule import BLOCKING_FLAGS
from covetbench.records import ConfigSummary, FailureRecord
from covetbench.results.files import CLAIMS_JSON, GATE_JSON, RESULTS_JSON
from covetbench.results.store import load_results, trial_records
from covetbench.run.validity import judge_configs, max_cv_of


@dataclass
class RunRecords:
    """One run directory's records, as the exports need them."""

    directory: Path
    summaries: list[ConfigSummary] = field(default_factory=list)
    failures: list[FailureRecord] = field(default_factory=list)
    #: rows of claims.json["claims"], or None when the directory has no claims.json
    claims: list[dict[str, Any]] | None = None
    #: gate.json's rows (comparisons, then missing configurations), or None without gate.json
    gate_rows: list[dict[str, Any]] | None = None
    git_commit: str | None = None

    def blocking_flags(self, summary: ConfigSummary) -> list[str]:
        return [f for f in summary.all_flags if f in BLOCKING_FLAGS]

    def trusted(self, include_flagged: bool) -> tuple[list[ConfigSummary], list[str]]:
        """(summaries to export, why each left-out one was left out)."""
        kept, skipped = [], []
        for summary in self.summaries:
            blocking = self.blocking_flags(summary)
            if blocking and not include_flagged:
                skipped.append(f"{summary.key.label}: {', '.join(blocking)}")
            else:
                kept.append(summary)
        return kept, skipped


def _summary(row: dict[str, Any]) -> ConfigSummary:
    names = set(ConfigSummary.__dataclass_fields__)
    return ConfigSummary(**{k: v for k, v in row.items() if k in names})


def _failure(row: dict[str, Any]) -> FailureRecord:
    names = set(FailureRecord.__dataclass_fields__)
    return FailureRecord(**{k: v for k, v in row.items() if k in names})


def load_claims(path: Path) -> list[dict[str, Any]]:
    """claims.json's claim rows; ResultsError naming the file when it is not a claims document."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from exc
    claims = doc.get("claims") if isinstance(doc, dict) else None
    if not isinstance(claims, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("verdict"), str)
        for c in claims
    ):
        raise ResultsError(f"{path}: expected {{'claims': [{{'id', 'verdict', ...}}]}}")
    return claims


def load_gate_rows(path: Path) -> list[dict[str, Any]]:
    """gate.json's comparison and missing rows; ResultsError naming the file when malformed."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from exc
    rows = [*(doc.get("comparisons") or []), *(doc.get("missing") or [])]
    if not all(isinstance(r, dict) and isinstance(r.get("verdict"), str) for r in rows):
        raise ResultsError(f"{path}: every comparison needs a 'verdict'")
    return rows


def load_run(directory: Path, need_results: bool = True) -> RunRecords:
    """The records of `directory`; ResultsError when results.json is missing or invalid (or,
    with `need_results=False`, when none of results.json, claims.json, gate.json is there)."""
    run = RunRecords(directory)
    claims_path = directory / CLAIMS_JSON
    if claims_path.is_file():
        run.claims = load_claims(claims_path)
    if (directory / GATE_JSON).is_file():
        run.gate_rows = load_gate_rows(directory / GATE_JSON)
    other = run.claims is not None or run.gate_rows is not None
    if not need_results and other and not (directory / RESULTS_JSON).exists():
        return run
    doc = load_results(directory)
    run.git_commit = doc["meta"].get("git_commit")
    run.summaries = [_summary(row) for row in doc.get("summary") or []]
    if not run.summaries and doc["runs"]:
        run.summaries = judge_configs(trial_records(doc), max_cv=max_cv_of(doc["meta"]))
    run.failures = [_failure(row) for row in doc.get("failures") or []]
    return run
