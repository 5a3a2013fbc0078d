"""Evidence records count for a claim only when they tested what it states: the ledger's own
"no leak" and "fuzzing" claims, judged on soak.json / fuzz.json records of every shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covetbench.apps import scenarios_dir
from covetbench.claims.evidence import Evidence
from covetbench.claims.judges import judge_claims
from covetbench.claims.ledger import ClaimSpec, load_claims
from covetbench.claims.provenance import judge_evidence
from covetbench.results.files import FUZZ_JSON, SOAK_JSON
from covetbench.verdicts import INCONCLUSIVE, REFUTED, VALIDATED

COMMIT = "c0ffee" * 6 + "abcd"


def ledger() -> dict[str, ClaimSpec]:
    return {s.id: s for s in load_claims(scenarios_dir() / "claims.toml")}


def soak_record(passed: bool = True, **provenance: Any) -> dict[str, Any]:
    """A soak.json that matches the ledger's no-leak claim unless `provenance` says otherwise."""
    prov = {
        "server": "covet",
        "app": "covet",
        "parser": "httptools",
        "workers": 1,
        "git_commit": COMMIT,
        "git_dirty": False,
        "size": 1_000_000,
        "unit": "requests",
        "duration_s": 95.0,
        "thresholds": {"max_growth_mb": 5.0, "checkpoint": 100_000},
    }
    summary = "1,000,000 requests: growth +0.4 MiB" if passed else "growth +40 MiB"
    return {"kind": "soak", "passed": passed, "summary": summary, "provenance": prov | provenance}


def judge(tmp_path: Path, record: dict[str, Any], name: str = SOAK_JSON, **ev: Any) -> Any:
    (tmp_path / name).write_text(json.dumps(record))
    claim = "production-no-leak" if name == SOAK_JSON else "production-fuzzing"
    evidence = Evidence(evidence_dirs=[tmp_path], **({"commit": COMMIT} | ev))
    return judge_evidence(ledger()[claim], evidence)


def test_a_matching_soak_validates_and_says_what_it_tested(tmp_path: Path) -> None:
    v = judge(tmp_path, soak_record())
    assert v.verdict == VALIDATED, v.evidence
    assert "tested: server covet, parser httptools, 1 worker(s), app covet" in v.evidence
    assert "1,000,000 requests" in v.evidence


@pytest.mark.parametrize(
    ("provenance", "reason"),
    [
        ({"server": "uvicorn"}, "the soak ran server 'uvicorn'; the claim is about 'covet'"),
        ({"app": "raw"}, "app 'raw' (the bare ASGI app, not the framework)"),
        ({"git_commit": "0" * 40}, "is of commit 000000000000, the code judged is c0ffeec0ffee"),
        ({"size": 20_000}, "covered 20,000 requests; the claim states >= 1,000,000"),
        ({"thresholds": {"max_growth_mb": 500.0}}, "max_growth_mb = 500.0; the claim allows"),
    ],
    ids=["uvicorn-soak", "raw-app-soak", "stale-commit", "too-few-requests", "loose-threshold"],
)
def test_a_soak_of_something_else_is_inconclusive(
    tmp_path: Path, provenance: dict[str, Any], reason: str
) -> None:
    v = judge(tmp_path, soak_record(**provenance))
    assert v.verdict == INCONCLUSIVE
    assert "the record passed, but is not evidence for this claim" in v.evidence
    assert reason in v.evidence


def test_the_issue_reproduction_a_short_uvicorn_soak_validates_nothing(tmp_path: Path) -> None:
    """The ledger's old test validated "covet ... >= 1M requests, no leak" from this record."""
    v = judge(tmp_path, soak_record(server="uvicorn", app="raw", size=20_000))
    assert v.verdict == INCONCLUSIVE
    for words in ("'uvicorn'", "'raw'", "20,000 requests"):
        assert words in v.evidence


def test_a_failed_soak_refutes_only_what_it_tested(tmp_path: Path) -> None:
    assert judge(tmp_path, soak_record(passed=False)).verdict == REFUTED
    # a leak found in fewer requests than the claim states is still found
    early = judge(tmp_path, soak_record(passed=False, size=200_000))
    assert early.verdict == REFUTED and "a failure found early is found" in early.evidence
    # a leak of another server says nothing about covet's
    other = judge(tmp_path, soak_record(passed=False, server="uvicorn"))
    assert other.verdict == INCONCLUSIVE and "the record failed" in other.evidence


def test_without_provenance_or_a_known_commit_nothing_is_validated(tmp_path: Path) -> None:
    bare = {"passed": True, "summary": "an old record"}
    v = judge(tmp_path, bare)
    assert v.verdict == INCONCLUSIVE and "no provenance" in v.evidence
    v = judge(tmp_path, soak_record(), commit=None)
    assert v.verdict == INCONCLUSIVE and "the commit judged is unknown" in v.evidence


def test_fuzz_records_need_the_stated_number_of_cases(tmp_path: Path) -> None:
    record = soak_record(size=2000, unit="cases", thresholds={"max_5xx": 0})
    record["kind"] = "fuzz"
    assert judge(tmp_path, record, FUZZ_JSON).verdict == VALIDATED
    record["provenance"]["size"] = 100
    v = judge(tmp_path, record, FUZZ_JSON)
    assert v.verdict == INCONCLUSIVE
    assert "covered 100 cases; the claim states >= 2,000" in v.evidence


def test_missing_evidence_names_the_one_command_that_produces_it(tmp_path: Path) -> None:
    specs = list(ledger().values())
    by_id = {
        v.id: v
        for v in judge_claims(
            [s for s in specs if s.kind not in ("stdlib_only", "modules")],
            Evidence(results_dir=tmp_path, evidence_dirs=[tmp_path], commit=COMMIT),
        )
    }
    assert by_id["production-no-leak"].needs_command == f"covet-bench soak --out {tmp_path}"
    assert by_id["production-fuzzing"].needs_command == f"covet-bench fuzz --out {tmp_path}"
    conform = f"covet-bench conform --servers covet,covet-python --out {tmp_path}"
    for claim in ("production-graceful-shutdown", "websocket-support", "asgi-compliant"):
        assert by_id[claim].needs_command == conform
    assert by_id["production-ready"].verdict == INCONCLUSIVE
    (tmp_path / SOAK_JSON).write_text(json.dumps(soak_record()))
    again = judge_claims(
        [ledger()["production-no-leak"]],
        Evidence(results_dir=tmp_path, evidence_dirs=[tmp_path], commit=COMMIT),
    )
    assert again[0].verdict == VALIDATED and again[0].needs_command is None
