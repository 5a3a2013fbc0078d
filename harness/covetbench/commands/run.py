"""`covet-bench run [SUITE]`: launch, verify and load a suite; write results and the report.

    covet-bench run quick
    covet-bench run quick --apps raw,covet --servers uvicorn --duration 2 --trials 3
    covet-bench run my-suite.toml --app mine=main:app --out reports/mine
    covet-bench run full --max-cv 5      # flag configurations whose trials' CV exceeds 5 %
    covet-bench run quick --claims       # end with the claims ledger judged (what ci/bench runs)

Options that change the suite come from `SuiteOverrides` (one option per field).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from covetbench.commands._common import (
    add_app_option,
    add_cpu_options,
    add_suite_overrides,
    app_names,
    cpu_options,
    extra_apps,
    suite_overrides,
)
from covetbench.exceptions import BenchError, ExitCode, UsageError
from covetbench.load import get_loadgen, loadgen_names
from covetbench.records import RATIO_APP_VS_RAW
from covetbench.results.files import run_dir
from covetbench.results.store import load_results
from covetbench.run.progress import RichObserver, summary_table
from covetbench.run.ratios import ratio_records, ratio_sentence
from covetbench.run.runner import Runner, RunOptions
from covetbench.run.schedule import build_plan
from covetbench.run.suite import (
    apply_overrides,
    check_names,
    find_suite,
    load_suite,
)
from covetbench.scenarios import scenario_names
from covetbench.servers import server_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "suite",
        nargs="?",
        default="quick",
        help="suite name (scenarios/suites/NAME.toml) or path to a .toml file (default: quick)",
    )
    add_suite_overrides(parser)
    add_app_option(parser)
    add_cpu_options(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (default: reports/<UTC time>-<suite>/)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=RunOptions.idle_timeout_s,
        metavar="S",
        help="longest wait for idle CPUs before each trial (default %(default)s; 0: no wait)",
    )
    parser.add_argument("--no-report", action="store_true", help="do not render report.html")
    parser.add_argument(
        "--no-canary",
        action="store_true",
        help="do not time the host canary on the server's core before each trial",
    )
    parser.add_argument(
        "--claims",
        action="store_true",
        help="end by judging the claims ledger on this run's results (claims.json), shown first "
        "in the report; claims needing other evidence name the command producing it",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per trial")


def judge_run_claims(out: Path, render: bool, console: Console) -> Path | None:
    """The claims this run's results can judge, written to `out/claims.json`, then the report
    (whose first screen shows them); a ledger error is reported, never loses the results."""
    from covetbench.commands.claims import judge_directory, print_verdicts

    try:
        verdicts, path = judge_directory(out, out)
    except BenchError as exc:
        console.print(f"[yellow]claims not judged[/]: {exc}")
    else:
        print_verdicts(verdicts, path)
    if not render:
        return None
    from covetbench.report import render_report

    try:
        return render_report(out)
    except Exception as exc:  # the results and verdicts stand without their report
        console.print(f"[yellow]report not rendered[/]: {type(exc).__name__}: {exc}")
        return None


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=False, highlight=False)
    extra = extra_apps(args.app)
    suite = load_suite(find_suite(args.suite))
    check_names(
        suite,
        apps=app_names(extra),
        servers=server_names(),
        scenarios=scenario_names(),
        loadgens=loadgen_names(),
    )
    suite = apply_overrides(suite, suite_overrides(args))
    if suite.locustfile and not Path(suite.locustfile).is_file():
        raise UsageError(f"locustfile {suite.locustfile!r}: no such file")
    open_loops = [e.loadgen for e in suite.entries if get_loadgen(e.loadgen).needs_rate]
    if open_loops and suite.rate is None:
        raise UsageError(f"--loadgen {open_loops[0]} needs --rate R (requests/s to offer)")
    server_cpus, loadgen_cpus = cpu_options(args)
    plan = build_plan(suite, extra)
    if not plan.configs:
        reasons = "; ".join(f"{r.app}@{r.server}: {r.reason}" for r in plan.skipped)
        raise UsageError(f"nothing to run{': ' + reasons if reasons else ''}")
    if set(server_cpus) & set(loadgen_cpus):
        console.print("[yellow]server and load generator share CPUs: figures will be lower[/]")
    out = args.out or run_dir(suite.name or "run")
    runner = Runner(
        plan,
        RunOptions(
            out_dir=out,
            server_cpus=server_cpus,
            loadgen_cpus=loadgen_cpus,
            command=["covet-bench", *sys.argv[1:]],
            # with --claims the report is rendered once the verdicts are in
            report=not args.no_report and not args.claims,
            idle_timeout_s=args.idle_timeout,
            canary=not args.no_canary,
        ),
        RichObserver(console, verbose=not args.quiet),
    )
    try:
        runner.run()
    except KeyboardInterrupt:
        kept = len(runner.writer.trials) if runner.writer else 0
        console.print(f"[yellow]interrupted[/]: {kept} finished trials kept in {out}")
        raise
    data = load_results(out)
    console.print(summary_table(data["summary"], title=f"Results: {suite.name}"))
    for ratio in ratio_records(data.get("ratios") or []):
        if ratio.kind == RATIO_APP_VS_RAW:
            console.print(ratio_sentence(ratio), markup=False, highlight=False)
    failures = data["failures"]
    if failures:
        console.print(f"[yellow]{len(failures)} configurations not measured[/] (see results.json)")
    report_path = runner.report_path
    if args.claims:
        report_path = judge_run_claims(out, not args.no_report, console)
    console.print(f"results: {out / 'results.json'}")
    if report_path is not None:
        console.print(f"report:  {report_path}")
    return ExitCode.OK if data["runs"] else ExitCode.FAILURE
