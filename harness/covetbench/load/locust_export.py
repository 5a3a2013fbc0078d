"""Runs INSIDE locust (passed as an extra `-f` by `LocustDriver`): the final failures as CSV.

Locust's `--csv` files are rewritten by a greenlet once a second and are not rewritten at exit,
so after a short run they miss up to the last second (a 2 s run here: 3,115 requests in the
CSV, 5,740 in `--json-file`). `--json-file` is final but holds no failure messages, and the
kinds of failure (status, connection, timeout, a rejected body) are what the trial record
needs. So at `quit` (after the runner has stopped every user and, on a master, taken the
workers' last reports) this listener writes `PREFIX_final_failures.csv` with locust's own
`StatsCSV` writer: locust's format, final figures. (Not the request stats: writing
`--json-file` empties locust's per-name entries, `get_stripped_report`, so they are read from
that JSON.) Workers write nothing; their failures reach the master, which writes the merged
ones.

It defines no User class, so locust takes the users from the scenario's locustfile.
"""

from __future__ import annotations

import csv
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from covetbench.load.locust_stats import FINAL_FAILURES_SUFFIX

_environment: list[Environment] = []


def _remember(environment: Environment, **_: Any) -> None:
    _environment.append(environment)


def _write_final(**_: Any) -> None:
    if not _environment:
        return
    environment = _environment[-1]
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix or isinstance(environment.runner, WorkerRunner):
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    with open(prefix + FINAL_FAILURES_SUFFIX, "w", newline="", encoding="utf-8") as fh:
        writer.failures_csv(csv.writer(fh))


# locust's `add_listener` carries no annotations
events.init.add_listener(_remember)  # type: ignore[no-untyped-call]
events.quit.add_listener(_write_final)  # type: ignore[no-untyped-call]
