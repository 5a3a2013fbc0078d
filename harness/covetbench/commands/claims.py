"""`covet-bench claims`: judge the claims ledger against the evidence on disk.

    covet-bench claims --results reports/run [--conformance DIR|FILE] [--out DIR]

Writes `claims.json` into `--out` (default: the results directory) and prints a table. Exit 0
when the ledger was judged (whatever the verdicts), 2 on a usage or ledger error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from covetbench.apps import scenarios_dir
from covetbench.claims import (
    INCONCLUSIVE,
    REFUTED,
    VALIDATED,
    ClaimVerdict,
    Evidence,
    judge_claims,
    load_claims,
    write_claims,
)
from covetbench.exceptions import BenchError
from covetbench.results import collect_meta

_STYLES = {VALIDATED: "green", REFUTED: "bold red", INCONCLUSIVE: "yellow"}


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
        if v.to_reach:
            evidence += f"\n{v.to_reach}"
        table.add_row(
            f"{v.statement}\n[dim]{v.id}[/dim]",
            v.verdict,
            _number(v.measured),
            _number(v.expected),
            _number(v.ratio, 3),
            evidence,
            style=_STYLES.get(v.verdict),
        )
    console.print(table)
    console.print(f"wrote {path}", highlight=False)


def run(args: argparse.Namespace) -> int:
    out = args.out or args.results
    if out is None:
        print("covet-bench claims: give --out DIR (or --results DIR)", file=sys.stderr)
        return 2
    repo = scenarios_dir().parent
    ledger = args.claims or scenarios_dir() / "claims.toml"
    framework = args.framework or repo / "framework"
    try:
        specs = load_claims(ledger)
        evidence = Evidence.gather(args.results, args.conformance, framework)
        verdicts = judge_claims(specs, evidence)
        meta = collect_meta(sys.argv, None, cwd=repo)
        meta["results"] = str(args.results) if args.results else None
        if evidence.results is not None:
            run_meta = evidence.results["meta"]
            meta["results_git_commit"] = run_meta.get("git_commit")
            for key in ("cpu_model", "cores", "pinning", "host"):
                meta[key] = run_meta.get(key)
        path = write_claims(out, verdicts, meta)
    except BenchError as exc:
        print(f"covet-bench claims: {exc}", file=sys.stderr)
        return 2
    print_verdicts(verdicts, path)
    return 0
