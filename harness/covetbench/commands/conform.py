"""`covet-bench conform`: the ASGI / HTTP/1.1 / WebSocket conformance matrix.

    covet-bench conform --out out/conform                       # every server, every framework
    covet-bench conform --servers uvicorn,hypercorn --groups http11-framing --out out/c
    covet-bench conform --servers covet --apps none --fail-on-must covet --out out/c

Writes conformance.json, junit.xml and the HTML report into `--out` (default
`reports/<UTC time>-conform/`).
Exit code 0 when the matrix was produced, 1 when a server named by --fail-on-must failed a
MUST check, 2 on bad usage.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from covetbench.conformance.model import FAIL, FRAMEWORK_PREFIX, GROUPS
from covetbench.conformance.output import write_report
from covetbench.conformance.runner import (
    FRAMEWORKS,
    ConformanceRunner,
    ConformConfig,
)
from covetbench.exceptions import ExitCode, UnknownNameError, UsageError
from covetbench.results.files import run_dir
from covetbench.run.suite_reader import comma_list

_names = comma_list(str)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--servers", type=_names, help="servers (default: all)")
    parser.add_argument(
        "--apps",
        type=_names,
        help=f"framework apps for the framework group ({', '.join(FRAMEWORKS)}; 'none': skip)",
    )
    parser.add_argument("--groups", type=_names, help=f"check groups ({', '.join(GROUPS)})")
    parser.add_argument("--checks", type=_names, help="only these check ids (or id prefixes)")
    parser.add_argument("--out", type=Path, metavar="DIR")
    parser.add_argument("--no-autobahn", action="store_true", help="skip Autobahn|Testsuite")
    parser.add_argument(
        "--autobahn-exclude",
        type=_names,
        default=None,
        help="Autobahn case patterns to skip (default: 9.*,12.*,13.*)",
    )
    parser.add_argument(
        "--framework-server", default="uvicorn", help="server the framework apps run on"
    )
    parser.add_argument(
        "--fail-on-must",
        type=_names,
        default=[],
        metavar="SERVERS",
        help="exit 1 when one of these servers fails a MUST check",
    )


def _config(args: argparse.Namespace) -> ConformConfig:
    from covetbench.servers import server_names

    valid = server_names()
    servers = args.servers or valid
    for name in [*servers, args.framework_server]:
        if name not in valid:
            raise UnknownNameError("server", name, valid)
    frameworks = list(FRAMEWORKS) if args.apps is None else args.apps
    if frameworks == ["none"]:
        frameworks = []
    for name in frameworks:
        if name not in FRAMEWORKS:
            raise UnknownNameError("framework app", name, FRAMEWORKS)
    for group in args.groups or []:
        if group not in GROUPS:
            raise UnknownNameError("group", group, GROUPS)
    config = ConformConfig(
        servers=servers,
        out_dir=args.out or run_dir("conform"),
        frameworks=frameworks,
        groups=args.groups,
        ids=args.checks,
        autobahn=not args.no_autobahn,
        framework_server=args.framework_server,
    )
    if args.autobahn_exclude is not None:
        config.autobahn_exclude = args.autobahn_exclude
    return config


def run(args: argparse.Namespace) -> int:
    config = _config(args)
    runner = ConformanceRunner(config)
    if not runner.checks:
        raise UsageError("no check matches --groups/--checks")
    report = runner.run()
    json_path, junit_path = write_report(report, config.out_dir)
    from covetbench.report import render_report

    html: Path | None = None
    try:
        html = render_report(config.out_dir)
    except Exception as exc:  # the matrix is written; a report bug must not hide it
        print(f"report: not rendered ({exc.__class__.__name__}: {exc})")
    totals = report.totals()
    must_fails: dict[str, list[str]] = {}
    for check in report.checks:
        for column, result in report.results.get(check.id, {}).items():
            if check.level == "MUST" and result.status == FAIL:
                must_fails.setdefault(column, []).append(check.id)
    print(f"{'column':<22} {'PASS':>5} {'FAIL':>5} {'UNSUP':>6} {'ERROR':>6}  MUST failed")
    for column in report.columns:
        counts = totals.get(column, {})
        fails = must_fails.get(column, [])
        print(
            f"{column:<22} {counts.get('PASS', 0):>5} {counts.get('FAIL', 0):>5} "
            f"{counts.get('UNSUPPORTED', 0):>6} {counts.get('ERROR', 0):>6}  {len(fails)}"
        )
    print(f"wrote {json_path}, {junit_path}" + (f", {html}" if html else ""))
    print(f"took {report.meta.get('duration_s')}s")
    failing = [
        s for s in args.fail_on_must if must_fails.get(s) or must_fails.get(FRAMEWORK_PREFIX + s)
    ]
    if failing:
        for server in failing:
            print(f"{server}: MUST checks failed: {', '.join(must_fails.get(server, []))}")
        return ExitCode.FAILURE
    return ExitCode.OK
