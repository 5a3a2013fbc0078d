"""`covet-bench soak`: drive a server for a million requests and watch its memory.

    covet-bench soak --out reports/final/quick    # the covet app on covet's server, 1M requests
    covet-bench soak --server uvicorn --requests 200000 --checkpoint 20000 --out /tmp/s

Writes `OUT/soak.json` (`{"passed", "summary", "provenance", samples...}`, read by `covet-bench
claims`, which checks its provenance against the claim).
Exit 0 when the soak passed, 1 when it failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from covetbench.commands._config import add_config_arguments, config_from_args
from covetbench.exceptions import ExitCode
from covetbench.results.files import SOAK_JSON
from covetbench.robustness.soak import SoakConfig, run_soak


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, SoakConfig)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(SoakConfig, args, out_dir=args.out, command=list(sys.argv))
    record = run_soak(config)
    for sample in record["samples"]:
        print(
            f"  {sample['label']:<10} {sample['requests']:>10,} requests  "
            f"{sample['elapsed_s']:>7.1f}s  RSS {sample['rss_mb']:8.2f} MiB"
        )
    verdict = "PASSED" if record["passed"] else "FAILED"
    print(f"soak {verdict}: {record['summary']}")
    print(f"wrote {args.out / SOAK_JSON}")
    return ExitCode.OK if record["passed"] else ExitCode.FAILURE
