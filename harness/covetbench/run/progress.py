"""What the user sees while a run goes: a rich progress bar with ETA, notes, and result tables.

`RichObserver` turns the runner's hooks into a live progress display; `summary_table` and
`verify_table` render records as rich tables. Nothing here decides anything: it only draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from covetbench.records import FailureRecord, TrialRecord, VerifyRecord, interval_note
from covetbench.run.observer import RunObserver
from covetbench.run.schedule import Plan

_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def _rps(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class RichObserver(RunObserver):
    """Progress bar with ETA (in seconds of planned work), one line per kept trial."""

    def __init__(self, console: Console, verbose: bool = True) -> None:
        self.console = console
        self.verbose = verbose
        self.progress = Progress(
            TextColumn("[bold]{task.description}", table_column=None),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def begin(self, plan: Plan, total_units: float) -> None:
        suite = plan.suite
        self.console.print(
            f"[bold]{suite.name or 'run'}[/]: {len(plan.pairs)} app x server pairs, "
            f"{len(plan.configs)} configurations, {suite.trials} trials of {suite.duration_s} s "
            f"(warmup {suite.warmup_s} s)"
        )
        self.progress.start()
        self._task = self.progress.add_task("starting", total=max(total_units, 1.0))

    def step(self, description: str) -> None:
        if self._task is not None:
            self.progress.update(self._task, description=description)

    def advance(self, units: float) -> None:
        if self._task is not None:
            self.progress.advance(self._task, units)

    def trial(self, record: TrialRecord) -> None:
        if not self.verbose:
            return
        flags = f" [yellow]{', '.join(record.flags)}[/]" if record.flags else ""
        deep = f" p{record.pipeline}" if record.pipeline > 1 else ""
        self.console.print(
            f"  {record.app}@{record.server} {record.scenario} c{record.concurrency}{deep} "
            f"trial {record.trial}: [bold]{_rps(record.rps)}[/] req/s, "
            f"p99 {_ms(record.latency_ms.get('p99'))} ms, CPU server "
            f"{record.server_cpu_pct:.0f}% gen {record.loadgen_cpu_pct:.0f}%{flags}"
        )

    def failure(self, record: FailureRecord) -> None:
        where = f"{record.app}@{record.server}" + (f" {record.scenario}" if record.scenario else "")
        style = "dim" if record.stage == "skip" else "red"
        self.console.print(f"  [{style}]{record.stage}: {where}: {record.reason}[/]")

    def note(self, message: str) -> None:
        self.console.print(f"  [yellow]{message}[/]")

    def end(self) -> None:
        self.progress.stop()


def interval_cell(low: float, high: float, level: float | None, method: str) -> str:
    """`19.3k-21.0k`, with the level where it is below 95 %: `19.3k-21.0k (min-max, 75 %)`."""
    note = interval_note(level, method)
    return f"{_rps(low)}-{_rps(high)}" + (f" ({note})" if note else "")


def summary_table(summary: Iterable[Mapping[str, Any]], title: str = "Results") -> Table:
    """Median requests/s with its interval (and the interval's level below 95 %), CV, p99, clean
    trials and every flag, trial and configuration flags alike: "ok" only when there is none."""
    table = Table(title=title, title_justify="left")
    table.add_column("configuration")
    for column in ("req/s", "interval", "CV", "p99 ms", "clean"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("flags")
    for row in summary:
        latency = row.get("median_latency_ms") or {}
        flags = [*(row.get("flags") or [])]
        flags += [f for f in row.get("config_flags") or [] if f not in flags]
        deep = f" p{row['pipeline']}" if int(row.get("pipeline") or 1) > 1 else ""
        table.add_row(
            f"{row['app']}@{row['server']} {row['scenario']} c{row['concurrency']}{deep}",
            _rps(row["median_rps"]),
            interval_cell(row["ci_low"], row["ci_high"], row.get("ci_level"), row["ci_method"]),
            f"{100 * row['cv']:.0f}%",
            _ms(latency.get("p99")),
            f"{row['valid_trials']}/{row['trials']}",
            f"[yellow]{', '.join(flags)}[/]" if flags else "[green]ok[/]",
        )
    return table


def verify_table(records: Sequence[VerifyRecord], failures: Sequence[FailureRecord] = ()) -> Table:
    """pass / warn / fail per app x server x scenario, with reasons."""
    table = Table(title="Verify", title_justify="left")
    for column in ("app", "server", "scenario", "status", "reasons"):
        table.add_column(column)
    for record in records:
        style = _STATUS_STYLE.get(record.status, "")
        table.add_row(
            record.app,
            record.server,
            record.scenario,
            f"[{style}]{record.status}[/]",
            "; ".join(record.reasons),
        )
    for failure in failures:
        status = "skip" if failure.stage == "skip" else "fail"
        table.add_row(
            failure.app,
            failure.server,
            failure.scenario or "*",
            f"[{_STATUS_STYLE[status]}]{status}[/]",
            failure.reason,
        )
    return table
