"""`covet-bench claims`: judge the claims ledger against the evidence on disk.

    covet-bench claims --results reports/run [--conformance DIR|FILE] [--out DIR]
    covet-bench claims --run --out reports/claims     # measure what the ledger needs first
    covet-bench claims --results reports/run --scaling reports/run-2w   # + 1 -> 2 worker scaling

Writes `claims.json` into `--out` (default: the results directory) and prints a table; a claim
lacking evidence names the one command that produces it. `covet-bench run --claims` ends a run
with the same judgement (`judge_directory`). With
`--run`, throughput claims that the results do not cover are measured first (the quick suite
restricted to each claim's app, scenarios and `run_servers`) into `OUT/claims-run/`, and judged
from that run. Exit 0 when the ledger was judged (whatever the verdicts), 2 on a usage or ledger
error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from covetbench.apps import scenarios_dir
from covetbench.claims.evidence import Evidence
from covetbench.claims.judges import judge_claims
from covetbench.claims.ledger import ClaimSpec, ClaimVerdict, load_claims, write_claims
from covetbench.claims.provenance import conformance_servers
from covetbench.exceptions import BenchError, ExitCode
from covetbench.results.files import CONFORMANCE_JSON
from covetbench.results.meta import collect_meta, git_info
from covetbench.verdicts import TERMINAL_STYLES, TONES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results", type=Path, metavar="DIR", help="run directory with results.json"
    )
    parser.add_argument(
        "--conformance",
        type=Path,
        metavar="PATH",
        help="conformance.json or its directory (default: the results directory's)",
    )
    parser.add_argument(
        "--claims",
        type=Path,
        metavar="FILE",
        help="the ledger (default: scenarios/claims.toml)",
    )
    parser.add_argument(
        "--framework",
        type=Path,
        metavar="DIR",
        help="directory holding the covet package (default: the repo's framework/)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="where claims.json goes (default: --results)"
    )
    parser.add_argument(
        "--run",
        action="store_true",
        help="measure throughput claims the results do not cover (runs the quick suite)",
    )
    parser.add_argument(
        "--scaling",
        type=Path,
        metavar="DIR",
        help="a run at another --workers count: the 1 -> 2 worker scaling of the best figure",
    )


def _uncovered(specs: list[ClaimSpec], evidence: Evidence) -> list[ClaimSpec]:
    """Throughput claims with no matching trial in the evidence."""
    runs = evidence.results["runs"] if evidence.results is not None else []
    missing = []
    for spec in specs:
        if spec.kind != "throughput":
            continue
        p = spec.params
        if not any(r["app"] == p["app"] and r["scenario"] in p["scenarios"] for r in runs):
            missing.append(spec)
    return missing


def _run_missing(specs: list[ClaimSpec], out: Path) -> Path:
    """Measure the uncovered throughput claims with the runner; return the run directory."""
    from rich.console import Console

    from covetbench.run.progress import RichObserver
    from covetbench.run.runner import Runner, RunOptions
    from covetbench.run.schedule import build_plan
    from covetbench.run.suite import SuiteOverrides, apply_overrides, find_suite, load_suite

    apps = sorted({s.params["app"] for s in specs})
    scenarios = sorted({sc for s in specs for sc in s.params["scenarios"]})
    servers = sorted({sv for s in specs for sv in s.params.get("run_servers", ["uvicorn"])})
    suite = apply_overrides(
        load_suite(find_suite("quick")),
        SuiteOverrides(apps=apps, servers=servers, scenarios=scenarios),
    )
    run_dir = out / "claims-run"
    options = RunOptions(out_dir=run_dir, command=["covet-bench", *sys.argv[1:]], report=False)
    Runner(build_plan(suite), options, RichObserver(Console(highlight=False))).run()
    return run_dir


def _number(value: float | str | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def print_verdicts(verdicts: list[ClaimVerdict], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 140))
    table = Table(title="claims ledger", show_lines=True)
    for name in ("claim", "verdict", "measured", "expected", "ratio", "evidence"):
        table.add_column(name)
    for v in verdicts:
        evidence = v.evidence.splitlines()[0] if v.evidence else ""
        if v.hardware_line:
            evidence += f"\n{v.hardware_line}"
        elif v.to_reach:
            evidence += f"\n{v.to_reach}"
        if v.needs_command:
            evidence += f"\nproduce the evidence: {v.needs_command}"
        table.add_row(
            f"{v.statement}\n[dim]{v.id}[/dim]",
            v.verdict,
            _number(v.measured),
            _number(v.expected),
            _number(v.ratio, 3),
            evidence,
            style=TERMINAL_STYLES.get(TONES.get(v.verdict, "")),
        )
    console.print(table)
    console.print(f"wrote {path}", highlight=False)


def ledger_servers() -> str:
    """The servers the ledger's conformance claims name, comma-separated (`ci/bench --full`)."""
    return ",".join(conformance_servers(load_claims(scenarios_dir() / "claims.toml")))


def judge_directory(
    results: Path | None,
    out: Path,
    *,
    conformance: Path | None = None,
    ledger: Path | None = None,
    framework: Path | None = None,
    scaling: Path | None = None,
    measure: bool = False,
) -> tuple[list[ClaimVerdict], Path]:
    """Judge the ledger on what `results` (and the other paths) hold; write `out/claims.json`.

    The commit judged is this checkout's: soak and fuzz records of another one are stale.
    """
    repo = scenarios_dir().parent
    ledger = ledger or scenarios_dir() / "claims.toml"
    framework = framework or repo / "framework"
    commit, _ = git_info(repo)
    specs = load_claims(ledger)
    evidence = Evidence.gather(results, conformance, framework, commit=commit, scaling_dir=scaling)
    missing = _uncovered(specs, evidence) if measure else []
    if missing:
        run_dir = _run_missing(missing, out)
        if conformance is None and results is not None:
            conformance = results / CONFORMANCE_JSON
        evidence = Evidence.gather(
            run_dir, conformance, framework, commit=commit, scaling_dir=scaling
        )
    verdicts = judge_claims(specs, evidence)
    meta = collect_meta(sys.argv, None, cwd=repo)
    meta["results"] = str(evidence.results_dir) if evidence.results_dir else None
    if evidence.results is not None:
        run_meta = evidence.results["meta"]
        meta["results_git_commit"] = run_meta.get("git_commit")
        for key in ("cpu_model", "cores", "pinning", "host"):
            meta[key] = run_meta.get(key)
    return verdicts, write_claims(out, verdicts, meta)


def run(args: argparse.Namespace) -> int:
    out = args.out or args.results
    if out is None:
        print("covet-bench claims: give --out DIR (or --results DIR)", file=sys.stderr)
        return ExitCode.ERROR
    try:
        verdicts, path = judge_directory(
            args.results,
            out,
            conformance=args.conformance,
            ledger=args.claims,
            framework=args.framework,
            scaling=args.scaling,
            measure=args.run,
        )
    except BenchError as exc:
        print(f"covet-bench claims: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    print_verdicts(verdicts, path)
    return ExitCode.OK
