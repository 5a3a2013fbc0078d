"""`covet-bench fuzz`: send malformed HTTP/1.1 to a server and check it survives.

    covet-bench fuzz --out reports/final/quick --cases 2000   # the covet app on covet's server
    covet-bench fuzz --server uvicorn --cases 500 --seed 7 --out /tmp/f

Writes `OUT/fuzz.json` (`{"passed", "summary", "provenance", outcomes...}`, read by `covet-bench
claims`, which checks its provenance against the claim).
Exit 0 when the server survived and answered well, 1 when it crashed, stopped answering, answered
a 5xx (501/505 aside) or twice, or logged a traceback; 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from covetbench.commands._config import add_config_arguments, config_from_args
from covetbench.exceptions import ExitCode
from covetbench.results.files import FUZZ_JSON
from covetbench.robustness.fuzz import FuzzConfig, run_fuzz


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, FuzzConfig)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(FuzzConfig, args, out_dir=args.out, command=list(sys.argv))
    record = run_fuzz(config)
    for row in record["failing_inputs"] + record["flagged_inputs"]:
        mutations = ",".join(row["mutations"])
        print(f"  case {row['case']} [{row['outcome']}] {mutations}: {row['input'][:120]}")
    verdict = "PASSED" if record["passed"] else "FAILED"
    print(f"fuzz {verdict}: {record['summary']}")
    print(f"wrote {args.out / FUZZ_JSON}")
    return ExitCode.OK if record["passed"] else ExitCode.FAILURE
