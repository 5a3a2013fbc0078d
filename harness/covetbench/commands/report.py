"""`covet-bench report DIR [--baseline DIR]`: (re)write DIR/report.html and DIR/summary.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from covetbench.exceptions import ExitCode, ResultsError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir",
        type=Path,
        metavar="DIR",
        help="run directory holding results.json, conformance.json, claims.json and/or gate.json",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        default=None,
        help="run directory to compare with (its results.json)",
    )


def run(args: argparse.Namespace) -> int:
    """Render the report; exit 0, or 2 when there is nothing usable to report."""
    from covetbench.report import render_report

    try:
        html = render_report(args.dir, baseline=args.baseline)
    except ResultsError as exc:
        print(f"covet-bench report: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    print(f"report: {html}")
    print(f"summary: {html.with_name('summary.md')}")
    return ExitCode.OK
