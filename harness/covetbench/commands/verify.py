"""`covet-bench verify`: launch app x server pairs and check their answers, TechEmpower style.

    covet-bench verify                                  # every app on every installed server
    covet-bench verify --apps raw,covet --servers uvicorn --scenarios plaintext,json
    covet-bench verify --app mine=main:app --servers granian
    covet-bench verify --apps raw,covet --servers uvicorn \
        --database postgresql://postgres@127.0.0.1:5432/covetbench   # + the database scenarios

Prints one row per app x server x scenario; exit code 1 when anything failed (a server that
did not start counts as a failure), 0 otherwise.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from covetbench.commands._common import add_app_option, extra_apps
from covetbench.db.setup import prepare_database
from covetbench.exceptions import ExitCode, ServerStartError
from covetbench.load import LOAD_DRIVERS
from covetbench.records import FailureRecord, VerifyRecord
from covetbench.run.lock import signals_deferred
from covetbench.run.progress import verify_table
from covetbench.run.schedule import Pair, build_plan
from covetbench.run.suite import Suite, SuiteEntry
from covetbench.run.suite_reader import comma_list
from covetbench.scenarios import scenario_names
from covetbench.servers import RunningServer, ServerOptions, get_server, server_names
from covetbench.verify.pairs import verify_pairs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = comma_list(str)
    parser.add_argument("--apps", type=names, help="apps, comma-separated (default: all)")
    parser.add_argument(
        "--servers", type=names, help="servers, comma-separated (default: all installed)"
    )
    parser.add_argument("--scenarios", type=names, help="scenarios, comma-separated (default: all)")
    add_app_option(parser)
    parser.add_argument(
        "--logs", type=Path, default=None, metavar="DIR", help="keep server logs here"
    )
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="database of the db scenarios (filled first, like `db init`); without it the "
        "default scenarios leave them out",
    )


def _launch(pair: Pair, logs: Path, env: dict[str, str] | None) -> RunningServer | FailureRecord:
    log = logs / f"{pair.app.name}-{pair.server}.log"
    try:
        return get_server(pair.server).launch(pair.app, ServerOptions(), log, env=env)
    except ServerStartError as exc:
        return FailureRecord(pair.app.name, pair.server, None, "launch", str(exc), exc.log_tail)


def run(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    extra = extra_apps(args.app)
    entry = SuiteEntry(
        name="verify",
        apps=tuple(args.apps) if args.apps else None,
        servers=tuple(args.servers or server_names()),
        scenarios=tuple(args.scenarios or scenario_names(database=args.database is not None)),
        concurrency=(1,),
        loadgen=next(iter(LOAD_DRIVERS)),
    )
    suite = Suite(name="verify", entries=(entry,), database=args.database)
    plan = build_plan(suite, extra, check_loadgen=False)
    env = prepare_database(args.database).env if suite.needs_database and args.database else None
    records: list[VerifyRecord] = []
    failures: list[FailureRecord] = list(plan.skipped) if args.servers else []
    running: dict[Pair, RunningServer] = {}
    with tempfile.TemporaryDirectory(prefix="covet-verify-") as tmp:
        logs = args.logs or Path(tmp)
        try:
            with console.status("launching servers"):
                for pair in plan.pairs:
                    outcome = _launch(pair, logs, env)
                    if isinstance(outcome, FailureRecord):
                        failures.append(outcome)
                    else:
                        running[pair] = outcome
            with console.status(f"verifying {len(running)} servers"):
                for _, result in verify_pairs(plan, running):
                    records.extend(result)
        finally:
            with signals_deferred():
                for server in running.values():
                    server.stop()
    console.print(verify_table(records, failures))
    for failure in failures:
        if failure.log_tail:
            console.print(f"[bold]{failure.app}@{failure.server}[/] log tail:\n{failure.log_tail}")
    failed = any(r.status == "fail" for r in records) or any(f.stage != "skip" for f in failures)
    return ExitCode.FAILURE if failed else ExitCode.OK
