"""`covet-bench db init --url URL`: create and fill the TechEmpower tables the `db` suite needs.

    covet-bench db init                                   # postgresql://...:5432/covetbench
    covet-bench db init --url sqlite:///reports/tfb.db

PostgreSQL: the database is created when missing. Idempotent: tables already right are left
alone. Exit 0 when both tables are right, 1 (a `DatabaseError`, naming the URL) otherwise.
"""

from __future__ import annotations

import argparse

from covetbench.db.setup import init_database
from covetbench.db.url import DEFAULT_URL
from covetbench.exceptions import ExitCode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init", help="create and fill World (10,000 rows) and Fortune (12 rows)"
    )
    init.add_argument(
        "--url",
        default=DEFAULT_URL,
        help="postgresql://user@host:port/name or sqlite:///path (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    report = init_database(args.url)
    for table, filled in (("World", report.world_filled), ("Fortune", report.fortune_filled)):
        print(f"{table}: {'filled' if filled else 'already right, left alone'}")
    print(f"database ready: {report.url}")
    return ExitCode.OK
