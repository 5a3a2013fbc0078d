from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from covetbench.apps import scenarios_dir
from covetbench.claims.evidence import Evidence
from covetbench.claims.judges import (
    judge_claims,
    judge_composite,
    judge_conformance,
    judge_modules,
    judge_stdlib_only,
)
from covetbench.claims.ledger import ClaimSpec, load_claims
from covetbench.claims.provenance import judge_evidence
from covetbench.claims.throughput import judge_throughput
from covetbench.commands import claims as claims_cmd
from covetbench.exceptions import SuiteError
from covetbench.records import TrialRecord
from covetbench.results.meta import collect_meta
from covetbench.results.store import ResultsWriter
from covetbench.verdicts import INCONCLUSIVE, NOT_REPRODUCED, REFUTED, VALIDATED
from tests.harness.factories import make_trial


def trial(rps: float, i: int, **overrides: Any) -> TrialRecord:
    fields: dict[str, Any] = {"server": "covet", "scenario": "plaintext", "server_cpus": [0]}
    return make_trial(rps, i, **{**fields, **overrides})


def results_dir(path: Path, trials: list[TrialRecord]) -> Path:
    writer = ResultsWriter(path, collect_meta("test", {"server_cpus": [0]}, cwd=path.parent))
    for t in trials:
        writer.add_trial(t)
    return path


def throughput_spec(expected: float, **params: Any) -> ClaimSpec:
    base: dict[str, Any] = {
        "app": "covet",
        "servers": ["*"],
        "scenarios": ["plaintext", "json"],
        "expected_rps": expected,
    }
    return ClaimSpec("tp", "fast", "readme", "throughput", base | params)


# -- ledger --------------------------------------------------------------------------------------


def test_seed_ledger_loads() -> None:
    specs = load_claims(scenarios_dir() / "claims.toml")
    ids = {s.id for s in specs}
    assert {
        "throughput-784k",
        "zero-dependencies",
        "websocket-support",
        "asgi-compliant",
        "production-ready",
        "database-orm",
        "template-engine",
    } <= ids
    tp = next(s for s in specs if s.id == "throughput-784k")
    assert tp.params["expected_rps"] == 784_000
    prod = next(s for s in specs if s.id == "production-ready")
    assert len(prod.params["parts"]) == 6


@pytest.mark.parametrize(
    ("body", "field", "line"),
    [
        ('[[claim]]\nid = "a"\nstatement = "s"\nsource = "x"\nkind = "magic"\n', "kind", 2),
        ('[[claim]]\nid = "a"\nstatement = "s"\nsource = "x"\nkind = "throughput"\n', "app", 2),
        ('[[claim]]\nid = "a"\nsource = "x"\nkind = "evidence"\n', "statement", 2),
        (
            '[[claim]]\nid = "a"\nstatement = "s"\nsource = "x"\nkind = "composite"\n'
            'parts = ["zz"]\n',
            "parts",
            2,
        ),
        ("title = 1\n", "claim", None),
    ],
    ids=["kind", "required", "statement", "unknown-part", "no-claims"],
)
def test_ledger_errors_name_file_line_field(
    tmp_path: Path, body: str, field: str, line: int | None
) -> None:
    path = tmp_path / "claims.toml"
    path.write_text(body)
    with pytest.raises(SuiteError) as info:
        load_claims(path)
    assert info.value.field == field
    assert info.value.line == line
    assert str(path) in str(info.value)


def test_ledger_duplicate_and_syntax(tmp_path: Path) -> None:
    entry = '[[claim]]\nid = "a"\nstatement = "s"\nsource = "x"\nkind = "evidence"\n'
    entry += 'file = "f.json"\nneeds = "n"\n'
    path = tmp_path / "claims.toml"
    path.write_text(entry + entry)
    with pytest.raises(SuiteError, match="duplicate"):
        load_claims(path)
    path.write_text("[[claim]\n")
    with pytest.raises(SuiteError):
        load_claims(path)
    with pytest.raises(SuiteError, match="cannot read"):
        load_claims(tmp_path / "absent.toml")


# -- throughput ----------------------------------------------------------------------------------


def test_throughput_not_reproduced_with_hardware_ratio_and_cores(tmp_path: Path) -> None:
    trials = [trial(20_000 + i * 100, i) for i in range(5)]
    trials += [trial(10_000, i, server="uvicorn", scenario="json") for i in range(3)]
    trials += [trial(99_000, 0, app="raw")]  # another app never counts
    ev = Evidence.gather(results_dir(tmp_path / "run", trials))
    v = judge_throughput(throughput_spec(784_000), ev)
    assert v.verdict == NOT_REPRODUCED
    assert v.measured == 20_200
    assert v.ratio == pytest.approx(20_200 / 784_000)
    assert v.hardware is not None and v.hardware["cores"] >= 1
    assert "cpu_model" in v.hardware
    assert v.to_reach is not None and "~39 such cores" in v.to_reach
    assert "covet/covet/plaintext" in v.evidence and "covet/uvicorn/json" in v.evidence


def test_throughput_per_core_rate_uses_server_cpu(tmp_path: Path) -> None:
    trials = [trial(20_000, i, server_cpu_pct=50.0) for i in range(3)]
    v = judge_throughput(throughput_spec(784_000), Evidence.gather(results_dir(tmp_path, trials)))
    assert v.to_reach is not None and "40,000 rps per server core" in v.to_reach
    assert "~20 such cores" in v.to_reach


def test_throughput_validated(tmp_path: Path) -> None:
    trials = [trial(20_000 + i, i) for i in range(3)]
    ev = Evidence.gather(results_dir(tmp_path, trials))
    assert judge_throughput(throughput_spec(20_500), ev).verdict == VALIDATED
    assert judge_throughput(throughput_spec(19_000), ev).verdict == VALIDATED


@pytest.mark.parametrize(
    ("trials", "spec_params", "reason"),
    [
        ([trial(1000.0, 0)], {"app": "starlette"}, "no trial of app"),
        ([trial(1000.0, i, flags=["errors"]) for i in range(3)], {}, "failed requests"),
        (
            [trial(1000.0 + i, i, flags=["generator_bound"]) for i in range(3)],
            {"expected_rps": 1500.0},
            "generator was the bottleneck",
        ),
        (
            [trial(1000.0, 0), trial(2000.0, 1), trial(3000.0, 2)],
            {"expected_rps": 2900.0},
            "inside the figure's interval (min-max, 75 %)",
        ),
    ],
    ids=["no-match", "errors", "generator-bound", "within-ci"],
)
def test_throughput_inconclusive(
    tmp_path: Path, trials: list[TrialRecord], spec_params: dict[str, Any], reason: str
) -> None:
    ev = Evidence.gather(results_dir(tmp_path, trials))
    params = dict(spec_params)
    expected = params.pop("expected_rps", 784_000.0)
    v = judge_throughput(throughput_spec(expected, **params), ev)
    assert v.verdict == INCONCLUSIVE
    assert reason in v.evidence


def test_throughput_without_results(tmp_path: Path) -> None:
    assert judge_throughput(throughput_spec(1), Evidence()).verdict == INCONCLUSIVE
    ev = Evidence.gather(tmp_path)
    v = judge_throughput(throughput_spec(1), ev)
    assert v.verdict == INCONCLUSIVE and "not found" in v.evidence


# -- conformance ---------------------------------------------------------------------------------


def conformance_file(path: Path, statuses: dict[str, tuple[str, str, str]]) -> Path:
    """statuses: check id -> (group, level, status of server covet)."""
    checks = [
        {
            "id": cid,
            "group": group,
            "level": level,
            "title": cid,
            "spec": "x",
            "results": {"covet": {"status": status, "evidence": f"saw {cid}"}},
        }
        for cid, (group, level, status) in statuses.items()
    ]
    path.mkdir(parents=True, exist_ok=True)
    (path / "conformance.json").write_text(
        json.dumps({"meta": {}, "servers": ["covet"], "checks": checks})
    )
    return path


WS = ClaimSpec(
    "ws",
    "ws",
    "readme",
    "conformance",
    {"server": "covet", "groups": ["asgi-websocket"], "levels": ["MUST"]},
)


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        (
            {
                "ws.a": ("asgi-websocket", "MUST", "PASS"),
                "ws.b": ("asgi-websocket", "MUST", "PASS"),
                "h.x": ("http11-framing", "MUST", "FAIL"),
                "ws.s": ("asgi-websocket", "SHOULD", "FAIL"),
            },
            VALIDATED,
        ),
        (
            {
                "ws.a": ("asgi-websocket", "MUST", "PASS"),
                "ws.b": ("asgi-websocket", "MUST", "FAIL"),
            },
            REFUTED,
        ),
        ({"ws.a": ("asgi-websocket", "MUST", "UNSUPPORTED")}, REFUTED),
        (
            {
                "ws.a": ("asgi-websocket", "MUST", "PASS"),
                "ws.b": ("asgi-websocket", "MUST", "ERROR"),
            },
            INCONCLUSIVE,
        ),
        ({"h.x": ("http11-framing", "MUST", "PASS")}, INCONCLUSIVE),
    ],
    ids=["pass", "fail", "unsupported-must", "error", "no-checks"],
)
def test_conformance_verdicts(
    tmp_path: Path, statuses: dict[str, tuple[str, str, str]], verdict: str
) -> None:
    ev = Evidence.gather(conformance=conformance_file(tmp_path, statuses))
    v = judge_conformance(WS, ev)
    assert v.verdict == verdict
    if verdict == REFUTED:
        assert "ws." in v.evidence


def test_conformance_missing_evidence_or_server(tmp_path: Path) -> None:
    v = judge_conformance(WS, Evidence.gather(results_dir=tmp_path))
    assert v.verdict == INCONCLUSIVE and "conform" in v.evidence
    conformance_file(tmp_path, {"ws.a": ("asgi-websocket", "MUST", "PASS")})
    other = ClaimSpec("x", "x", "x", "conformance", {"server": "granian", "checks": ["ws.*"]})
    v = judge_conformance(other, Evidence.gather(conformance=tmp_path / "conformance.json"))
    assert v.verdict == INCONCLUSIVE and "no results for server 'granian'" in v.evidence
    (tmp_path / "conformance.json").write_text("[]")
    assert "unreadable" in judge_conformance(WS, Evidence.gather(conformance=tmp_path)).evidence


# -- code checks ---------------------------------------------------------------------------------


def fake_package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "fakepkg"
    pkg.mkdir(parents=True)
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    return root


STDLIB = ClaimSpec(
    "dep",
    "zero deps",
    "x",
    "stdlib_only",
    {"package": "fakepkg", "core": ["fakepkg", "fakepkg.core"]},
)


def test_stdlib_only_validated_with_optional_extra(tmp_path: Path) -> None:
    root = fake_package(
        tmp_path,
        {
            "__init__.py": "import json\n",
            "core.py": "import asyncio\n",
            "fast.py": "try:\n    import orjson\nexcept ImportError as exc:\n"
            "    raise ImportError('needs orjson: pip install x[speed]') from exc\n",
        },
    )
    v = judge_stdlib_only(STDLIB, Evidence(framework_dir=root))
    assert v.verdict == VALIDATED, v.evidence
    assert "fakepkg.fast" in v.evidence


def test_stdlib_only_refuted(tmp_path: Path) -> None:
    root = fake_package(tmp_path, {"__init__.py": "import numpy\n", "core.py": ""})
    v = judge_stdlib_only(STDLIB, Evidence(framework_dir=root))
    assert v.verdict == REFUTED
    assert "numpy" in v.evidence
    assert "fakepkg/__init__.py:1 imports numpy" in v.evidence


def test_stdlib_only_missing_package(tmp_path: Path) -> None:
    assert judge_stdlib_only(STDLIB, Evidence(framework_dir=tmp_path)).verdict == INCONCLUSIVE


def test_modules(tmp_path: Path) -> None:
    root = fake_package(tmp_path, {"__init__.py": "", "templating.py": "X = 1\n"})
    spec = ClaimSpec("t", "templates", "x", "modules", {"modules": ["fakepkg.templating"]})
    v = judge_modules(spec, Evidence(framework_dir=root))
    assert v.verdict == INCONCLUSIVE and "fakepkg.templating: ok" in v.evidence
    missing = ClaimSpec("o", "orm", "x", "modules", {"modules": ["fakepkg.db"]})
    assert judge_modules(missing, Evidence(framework_dir=root)).verdict == REFUTED
    checked = ClaimSpec(
        "t",
        "templates",
        "x",
        "modules",
        {"modules": ["fakepkg.templating"], "server": "covet", "checks": ["tpl.*"]},
    )
    conformance_file(tmp_path / "c", {"tpl.escape": ("framework", "MUST", "PASS")})
    ev = Evidence.gather(conformance=tmp_path / "c", framework_dir=root)
    assert judge_modules(checked, ev).verdict == VALIDATED


# -- evidence files, composite, command ----------------------------------------------------------


def test_evidence_file(tmp_path: Path) -> None:
    """The record's own verdict once its provenance matches; see test_provenance.py for the
    rules one by one."""
    spec = ClaimSpec("f", "fuzz", "x", "evidence", {"file": "fuzz.json", "needs": "a fuzz run"})
    ev = Evidence(evidence_dirs=[tmp_path], commit="abc")
    v = judge_evidence(spec, ev)
    assert v.verdict == INCONCLUSIVE and "a fuzz run" in v.evidence
    record: dict[str, Any] = {"passed": True, "summary": "1e6 inputs, 0 crashes"}
    record["provenance"] = {"git_commit": "abc"}
    (tmp_path / "fuzz.json").write_text(json.dumps(record))
    assert judge_evidence(spec, ev).verdict == VALIDATED
    (tmp_path / "fuzz.json").write_text(json.dumps(record | {"passed": False}))
    assert judge_evidence(spec, ev).verdict == REFUTED
    (tmp_path / "fuzz.json").write_text('{"passed": "yes"}')
    assert judge_evidence(spec, ev).verdict == INCONCLUSIVE
    (tmp_path / "fuzz.json").write_text('{"passed": true, "summary": "no provenance"}')
    v = judge_evidence(spec, ev)
    assert v.verdict == INCONCLUSIVE and "no provenance" in v.evidence


def test_composite() -> None:
    spec = ClaimSpec("p", "prod", "x", "composite", {"parts": ["a", "b"]})
    ok = judge_evidence(
        ClaimSpec("a", "a", "x", "evidence", {"file": "f", "needs": "n"}), Evidence()
    )
    assert judge_composite(spec, [ok, ok]).verdict == INCONCLUSIVE
    ok.verdict = VALIDATED
    assert judge_composite(spec, [ok, ok]).verdict == VALIDATED
    bad = judge_evidence(
        ClaimSpec("b", "b", "x", "evidence", {"file": "f", "needs": "n"}), Evidence()
    )
    bad.verdict = REFUTED
    v = judge_composite(spec, [ok, bad])
    assert v.verdict == REFUTED and v.parts == ["a", "b"]


def test_judge_claims_never_validates_without_evidence(tmp_path: Path) -> None:
    specs = [
        s
        for s in load_claims(scenarios_dir() / "claims.toml")
        if s.kind != "stdlib_only" and s.kind != "modules"
    ]
    verdicts = judge_claims(specs, Evidence())
    assert {v.verdict for v in verdicts} == {INCONCLUSIVE}


def claims_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    claims_cmd.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_claims_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = results_dir(tmp_path / "run", [trial(20_000.0, i) for i in range(3)])
    root = fake_package(tmp_path / "fw", {"__init__.py": ""})
    ledger = tmp_path / "claims.toml"
    ledger.write_text(
        '[[claim]]\nid = "tp"\nstatement = "784K RPS"\nsource = "readme"\nkind = "throughput"\n'
        'app = "covet"\nscenarios = ["plaintext"]\nexpected_rps = 784000\n'
    )
    code = claims_cmd.run(
        claims_args("--results", str(run), "--claims", str(ledger), "--framework", str(root))
    )
    assert code == 0
    doc = json.loads((run / "claims.json").read_text())
    (claim,) = doc["claims"]
    for key in (
        "id",
        "statement",
        "source",
        "kind",
        "verdict",
        "measured",
        "expected",
        "ratio",
        "evidence",
        "hardware",
    ):
        assert key in claim
    assert claim["verdict"] == NOT_REPRODUCED and claim["measured"] == 20_000
    assert "on one core of" in claim["hardware_line"]
    assert doc["meta"]["cores"] >= 1
    assert "NOT REPRODUCED" in capsys.readouterr().out


def test_claims_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert claims_cmd.run(claims_args()) == 2
    bad = tmp_path / "claims.toml"
    bad.write_text("nothing = 1\n")
    assert claims_cmd.run(claims_args("--out", str(tmp_path), "--claims", str(bad))) == 2
    assert "claim" in capsys.readouterr().err


def test_claims_run_measures_only_uncovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "claims.toml"
    ledger.write_text(
        '[[claim]]\nid = "tp"\nstatement = "784K RPS"\nsource = "readme"\nkind = "throughput"\n'
        'app = "covet"\nscenarios = ["plaintext"]\nexpected_rps = 784000\n'
        'run_servers = ["uvicorn"]\n'
    )
    calls: list[list[str]] = []

    def fake_run(specs: list[ClaimSpec], out: Path) -> Path:
        calls.append([s.id for s in specs])
        return results_dir(out / "claims-run", [trial(30_000.0, i) for i in range(3)])

    monkeypatch.setattr(claims_cmd, "_run_missing", fake_run)
    root = fake_package(tmp_path / "fw", {"__init__.py": ""})
    out = tmp_path / "out"
    args = ["--claims", str(ledger), "--framework", str(root), "--out", str(out), "--run"]
    assert claims_cmd.run(claims_args(*args)) == 0
    assert calls == [["tp"]]
    (claim,) = json.loads((out / "claims.json").read_text())["claims"]
    assert claim["measured"] == 30_000
    covered = results_dir(tmp_path / "run", [trial(20_000.0, i) for i in range(3)])
    assert claims_cmd.run(claims_args(*args, "--results", str(covered))) == 0
    assert calls == [["tp"]]  # covered: nothing run again


def test_production_ready_is_refuted_by_robustness_naming_the_checks() -> None:
    """Each of covet's two servers must pass every robustness check; a failing one is named,
    and one that could not run (a missing --timeout-body, say) is named too."""
    specs = load_claims(scenarios_dir() / "claims.toml")

    def check(cid: str, covet: str, python: str) -> dict[str, Any]:
        results = {"covet": {"status": covet, "evidence": f"figure: {cid}"}}
        results["covet-python"] = {"status": python, "evidence": "figure: ok"}
        return {"id": cid, "group": "robustness", "level": "MUST", "results": results}

    checks = [
        check("rob.mem.pipeline-flood", "FAIL", "PASS"),
        check("rob.hold.stalled-body", "ERROR", "PASS"),
        check("rob.smuggle.upgrade-h2c", "PASS", "PASS"),
    ]
    verdicts = {v.id: v for v in judge_claims(specs, Evidence(conformance={"checks": checks}))}
    covet = verdicts["production-robustness-covet"]
    assert covet.verdict == REFUTED
    assert "failing: rob.mem.pipeline-flood" in covet.evidence
    assert "could not run: rob.hold.stalled-body" in covet.evidence
    assert verdicts["production-robustness-covet-python"].verdict == VALIDATED
    assert verdicts["production-ready"].verdict == REFUTED


def test_throughput_from_a_flagged_configuration_says_so(tmp_path: Path) -> None:
    """covet outruns the raw floor on the same server: the claim is judged, and says it."""
    covet = [trial(v, i) for i, v in enumerate([14_500.0, 14_900.0, 15_200.0, 14_800.0, 15_000.0])]
    raw = [
        trial(v, i, app="raw")
        for i, v in enumerate([10_900.0, 11_200.0, 11_600.0, 11_000.0, 11_300.0])
    ]
    ev = Evidence.gather(results_dir(tmp_path, covet + raw))
    v = judge_throughput(throughput_spec(14_000.0), ev)
    assert v.verdict == VALIDATED
    assert "flags: implausible" in v.evidence
    assert "the best figure's configuration is flagged: implausible (" in v.evidence
    clean = judge_throughput(
        throughput_spec(14_000.0), Evidence.gather(results_dir(tmp_path / "clean", covet))
    )
    assert "is flagged" not in clean.evidence and "flags: none" in clean.evidence


def test_the_template_claim_is_judged_on_covets_framework_template_checks(
    tmp_path: Path,
) -> None:
    from covetbench.conformance.loader import load_checks

    specs = load_claims(scenarios_dir() / "claims.toml")
    [spec] = [s for s in specs if s.id == "template-engine"]
    template_checks = [c for c in load_checks() if c.id.startswith("fw.template-")]
    assert len(template_checks) >= 3 and spec.params["server"] == "app:covet"
    framework = scenarios_dir().parent / "framework"

    def judged(status: str) -> Any:
        checks = [
            {"id": c.id, "group": c.group, "level": c.level, "title": c.title, "spec": c.spec}
            | {"results": {"app:covet": {"status": status, "evidence": "seen"}}}
            for c in template_checks
        ]
        (tmp_path / "conformance.json").write_text(json.dumps({"meta": {}, "checks": checks}))
        ev = Evidence.gather(conformance=tmp_path, framework_dir=framework)
        return judge_modules(spec, ev)

    assert judged("PASS").verdict == VALIDATED
    assert judged("FAIL").verdict == REFUTED
    [verdict] = [
        v for v in judge_claims(specs, Evidence(framework_dir=framework)) if v.id == spec.id
    ]
    assert verdict.verdict == INCONCLUSIVE
    # The command runs the framework apps anyway: a framework column is never a --servers name.
    assert verdict.needs_command == "covet-bench conform --servers covet,covet-python --out DIR"
