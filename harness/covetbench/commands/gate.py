"""`covet-bench gate`: fail CI on a statistically significant throughput regression.

    covet-bench gate --baseline reports/main --current reports/pr [--threshold 5] [--alpha 0.01]
    covet-bench gate --ab origin/main --apps covet --servers uvicorn,covet --trials 6

Writes `gate.json` and `gate.md` into `--out` (default: the current run directory; with
`--ab`, the A/B directory holding `baseline/` and `current/`), prints a table. Exit 0 pass,
1 a regression or a baseline configuration missing, failed or unverified, 2 usage or data error,
an underpowered or an inconclusive (flagged) comparison. The rule is in `covetbench.gate.rule`,
the family-wise correction in `covetbench.gate.family`, A/B in `covetbench.run.ab`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from covetbench.commands._common import (
    add_cpu_options,
    add_suite_overrides,
    cpu_options,
    suite_overrides,
)
from covetbench.exceptions import BenchError, ExitCode, ResultsError
from covetbench.gate.compare import GateOutcome, compare_dirs, error_outcome
from covetbench.gate.render import TABLE_HEADER, row_verdicts, table_rows, write_outputs
from covetbench.gate.rule import GateConfig
from covetbench.results.files import run_dir
from covetbench.verdicts import TERMINAL_STYLES, TONES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = GateConfig()
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="baseline run directory")
    parser.add_argument("--current", type=Path, metavar="DIR", help="current run directory")
    parser.add_argument(
        "--threshold",
        type=float,
        default=defaults.threshold_pct,
        metavar="PCT",
        help="smallest throughput change that counts, in %% (default %(default)s)",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=defaults.alpha,
        help="family-wise significance level, Holm-Bonferroni over the configurations "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where gate.json and gate.md go (default: the current run directory)",
    )
    parser.add_argument(
        "--paired",
        action="store_true",
        help="pair trial i of each side (interleaved A/B runs): Wilcoxon signed-rank test",
    )
    ab = parser.add_argument_group("same-job A/B")
    ab.add_argument(
        "--ab",
        metavar="REV",
        help="build the baseline from git revision REV in a temporary worktree and interleave "
        "A and B trials on this machine",
    )
    ab.add_argument("--suite", default="quick", help="suite for --ab (default %(default)s)")
    add_suite_overrides(ab, "--ab; ")
    add_cpu_options(ab, "--ab: ")


def print_outcome(outcome: GateOutcome, gate_path: Path | None, md_path: Path | None) -> None:
    """The terminal view: a rich table, the headline and where the files went."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 140))
    if outcome.comparisons or outcome.missing:
        table = Table(title="covet-bench gate (throughput, requests/s)")
        for name in TABLE_HEADER:
            table.add_column(name, justify="right" if name in ("c", "p (Holm)") else "left")
        for row, verdict in zip(table_rows(outcome), row_verdicts(outcome), strict=True):
            table.add_row(*row, style=TERMINAL_STYLES.get(TONES.get(verdict, "")))
        console.print(table)
        console.print(
            f"family: {outcome.family_size} configurations (Holm-Bonferroni, "
            f"alpha {outcome.config.alpha:g} family-wise)",
            highlight=False,
        )
    for key in outcome.current_only:
        console.print(f"only in current (no baseline): {key}", highlight=False)
    style = "bold red" if outcome.exit_code else "bold green"
    console.print(outcome.headline, style=style, highlight=False)
    if gate_path and md_path:
        console.print(f"wrote {gate_path} and {md_path}", highlight=False)


def _run_ab(args: argparse.Namespace, config: GateConfig) -> tuple[Path, Path]:
    from covetbench.gate.rule import trials_needed
    from covetbench.run.ab import AbRequest, run_ab

    given = dataclasses.asdict(suite_overrides(args))
    overrides = {name: value for name, value in given.items() if value is not None}
    server_cpus, loadgen_cpus = cpu_options(args)
    request = AbRequest(
        rev=args.ab,
        suite=args.suite,
        root=args.out or run_dir("ab"),
        overrides=overrides,
        min_trials=trials_needed(config.alpha, paired=True) + 1,
        server_cpus=server_cpus,
        loadgen_cpus=loadgen_cpus,
        command=["covet-bench", *sys.argv[1:]],
    )
    return run_ab(request)


def run(args: argparse.Namespace) -> int:
    try:
        config = GateConfig(threshold_pct=args.threshold, alpha=args.alpha, paired=args.paired)
    except ValueError as exc:
        print(f"covet-bench gate: {exc}", file=sys.stderr)
        return ExitCode.ERROR

    if args.ab is not None:
        if args.baseline is not None or args.current is not None:
            print("covet-bench gate: --ab replaces --baseline/--current", file=sys.stderr)
            return ExitCode.ERROR
        try:
            baseline_dir, current_dir = _run_ab(args, config)
        except BenchError as exc:
            print(f"covet-bench gate --ab: {exc}", file=sys.stderr)
            return ExitCode.ERROR
        args.out = args.out or baseline_dir.parent
    elif args.baseline is None or args.current is None:
        print(
            "covet-bench gate: give --baseline DIR and --current DIR, or --ab REV",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    else:
        baseline_dir, current_dir = args.baseline, args.current

    out_dir: Path | None = args.out if args.out is not None else current_dir
    try:
        outcome = compare_dirs(baseline_dir, current_dir, config)
    except ResultsError as exc:
        print(f"covet-bench gate: {exc}", file=sys.stderr)
        outcome = error_outcome(str(baseline_dir), str(current_dir), config, str(exc))
        if args.out is None and not current_dir.is_dir():
            out_dir = None  # nowhere sensible to write
    gate_path = md_path = None
    if out_dir is not None:
        gate_path, md_path = write_outputs(outcome, out_dir)
    print_outcome(outcome, gate_path, md_path)
    return outcome.exit_code
