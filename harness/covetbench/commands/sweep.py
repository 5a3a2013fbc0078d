"""`covet-bench sweep`: latency against offered load (open loop), the knee marked per curve.

    covet-bench sweep --apps raw --servers covet,uvicorn          # 10 % .. 120 % of capacity
    covet-bench sweep --apps covet --servers covet --capacity 20000 --duration 3
    covet-bench sweep --fractions 0.25,0.5,0.75,1,1.25 --knee-factor 10 --out reports/sweep

Writes `sweep.json` (validated against `results/sweep.schema.json`), `raw/`, `logs/` and
`report.html` (one chart per app x server) into `reports/<UTC time>-sweep/` or `--out`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from covetbench.apps import resolve_apps
from covetbench.commands._common import add_app_option, add_cpu_options, cpu_options, extra_apps
from covetbench.exceptions import ExitCode, UsageError
from covetbench.results.files import REPORT_HTML, SWEEP_JSON, run_dir
from covetbench.run.knee import DEFAULT_FRACTIONS, KneeRule
from covetbench.run.suite_reader import comma_list
from covetbench.run.sweep import Sweep, SweepOptions
from covetbench.servers import server_names

_DEFAULTS = SweepOptions(out_dir=Path("."), apps=[], servers=[])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--apps",
        type=comma_list(str),
        default=["raw"],
        metavar="NAMES",
        help="apps to sweep, comma-separated (default: raw)",
    )
    parser.add_argument(
        "--servers",
        type=comma_list(str),
        default=["covet"],
        metavar="NAMES",
        help="servers to sweep, comma-separated (default: covet)",
    )
    parser.add_argument(
        "--scenario", default=_DEFAULTS.scenario, help="scenario to load (default %(default)s)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=_DEFAULTS.concurrency,
        metavar="C",
        help="connections, for the capacity run and every rate (default %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=_DEFAULTS.duration_s,
        metavar="S",
        help="seconds per offered rate (default %(default)s)",
    )
    parser.add_argument(
        "--capacity-duration",
        type=int,
        default=_DEFAULTS.capacity_s,
        metavar="S",
        help="seconds of the closed-loop capacity run (default %(default)s)",
    )
    parser.add_argument(
        "--capacity",
        type=float,
        default=None,
        metavar="R",
        help="known capacity in req/s: skip the closed-loop run",
    )
    parser.add_argument(
        "--fractions",
        type=comma_list(float),
        default=list(DEFAULT_FRACTIONS),
        metavar="F,F",
        help="fractions of the capacity to offer (default 0.1..1.2)",
    )
    parser.add_argument(
        "--knee-factor",
        type=float,
        default=KneeRule.p99_factor,
        metavar="K",
        help="knee: first rate whose corrected p99 exceeds K x the lowest "
        "rate's, or that achieves < 95%% of the offered (default %(default)s)",
    )
    add_app_option(parser)
    add_cpu_options(parser)
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=_DEFAULTS.idle_timeout_s,
        metavar="S",
        help="longest wait for idle CPUs before each rate (default %(default)s; 0: no wait)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (default: reports/<UTC time>-sweep/)",
    )
    parser.add_argument("--no-report", action="store_true", help="do not render report.html")


def options_from(args: argparse.Namespace) -> SweepOptions:
    """The sweep the command line asks for; UsageError on a value out of range."""
    unknown = [s for s in args.servers if s not in server_names()]
    if unknown:
        raise UsageError(f"unknown server {unknown[0]!r}; valid: {', '.join(server_names())}")
    if args.concurrency < 1 or args.duration <= 0 or args.capacity_duration < 1:
        raise UsageError("--concurrency, --duration and --capacity-duration must be positive")
    if args.capacity is not None and args.capacity <= 0:
        raise UsageError(f"--capacity must be > 0, got {args.capacity:g}")
    if not args.fractions or any(f <= 0 for f in args.fractions):
        raise UsageError("--fractions must be positive numbers, e.g. 0.1,0.5,1.2")
    if args.knee_factor <= 1:
        raise UsageError(f"--knee-factor must be > 1, got {args.knee_factor:g}")
    server_cpus, loadgen_cpus = cpu_options(args)
    return SweepOptions(
        out_dir=args.out or run_dir("sweep"),
        apps=resolve_apps(args.apps, extra_apps(args.app)),
        servers=list(dict.fromkeys(args.servers)),
        scenario=args.scenario,
        concurrency=args.concurrency,
        duration_s=args.duration,
        capacity_s=args.capacity_duration,
        capacity_rps=args.capacity,
        fractions=tuple(sorted(set(args.fractions))),
        rule=KneeRule(p99_factor=args.knee_factor),
        server_cpus=server_cpus,
        loadgen_cpus=loadgen_cpus,
        idle_timeout_s=args.idle_timeout,
        command=["covet-bench", *sys.argv[1:]],
    )


def run(args: argparse.Namespace) -> int:
    from covetbench.scenarios import get_scenario

    get_scenario(args.scenario)  # UnknownNameError before anything starts
    options = options_from(args)
    document = Sweep(options).run()
    for curve in document["curves"]:
        knee = curve["knee_offered_rps"]
        where = f"knee at {knee:.0f} req/s" if knee is not None else "no knee"
        print(
            f"{curve['app']}@{curve['server']}: capacity {curve['capacity_rps']:.0f} req/s, "
            f"{where} ({curve['knee_reason']})"
        )
    print(f"results: {options.out_dir / SWEEP_JSON}")
    if not args.no_report:
        from covetbench.report import render_report

        render_report(options.out_dir)
        print(f"report:  {options.out_dir / REPORT_HTML}")
    return ExitCode.OK if document["curves"] else ExitCode.FAILURE
