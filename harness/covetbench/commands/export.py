"""`covet-bench export`: a run directory in the formats CI tools read.

    covet-bench export reports/<run> --format bmf                      # Bencher: bmf.json
    covet-bench export reports/<run> --format github-action-benchmark  # customBiggerIsBetter
    covet-bench export reports/<run> --format github-action-benchmark --measure latency-p99
    covet-bench export reports/<run> --format junit --out -            # JUnit XML to stdout

Configurations flagged `errors`, `generator_bound`, `unstable` or `implausible` are left out of
the JSON formats (named on stderr) unless `--include-flagged`; JUnit shows them as skipped.
Exit 0 written, 2 no usable results. The formats: `covetbench.export`.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from covetbench.exceptions import ExitCode, ResultsError
from covetbench.export.bmf import bmf_document
from covetbench.export.github_action import MEASURES, entries
from covetbench.export.junit import junit_tree
from covetbench.export.source import load_run
from covetbench.results.files import BMF_JSON, EXPORT_JUNIT_XML, GITHUB_ACTION_BENCHMARK_JSON
from covetbench.results.store import atomic_write

#: format name -> default file name in the run directory
FORMATS: dict[str, str] = {
    "bmf": BMF_JSON,
    "github-action-benchmark": GITHUB_ACTION_BENCHMARK_JSON,
    "junit": EXPORT_JUNIT_XML,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, metavar="DIR", help="a run directory")
    parser.add_argument("--format", required=True, choices=list(FORMATS), help="output format")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="where to write ('-' for stdout; default DIR/<bmf.json | "
        "github-action-benchmark.json | junit-run.xml>)",
    )
    parser.add_argument(
        "--measure",
        choices=list(MEASURES),
        default="throughput",
        help="github-action-benchmark: which figure (throughput -> customBiggerIsBetter, "
        "latency -> customSmallerIsBetter; default %(default)s)",
    )
    parser.add_argument(
        "--include-flagged",
        action="store_true",
        help="JSON formats: keep configurations whose figure is flagged as untrustworthy",
    )


def render(args: argparse.Namespace) -> str:
    """The exported text; ResultsError when the directory has nothing usable."""
    run = load_run(args.directory, need_results=args.format != "junit")
    if args.format == "junit":
        tree = junit_tree(run)
        ET.indent(tree)
        return ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True) + "\n"
    kept, skipped = run.trusted(args.include_flagged)
    for reason in skipped:
        print(f"covet-bench export: left out (flagged) {reason}", file=sys.stderr)
    if args.format == "bmf":
        return json.dumps(bmf_document(kept), indent=2) + "\n"
    tool, _ = MEASURES[args.measure]
    print(f"covet-bench export: github-action-benchmark tool: {tool}", file=sys.stderr)
    return json.dumps(entries(kept, args.measure), indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    try:
        text = render(args)
    except ResultsError as exc:
        print(f"covet-bench export: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    if args.out == "-":
        sys.stdout.write(text)
        return ExitCode.OK
    path = Path(args.out) if args.out else args.directory / FORMATS[args.format]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
    except OSError as exc:
        print(f"covet-bench export: cannot write {path}: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    print(f"wrote {path}", file=sys.stderr)
    return ExitCode.OK
