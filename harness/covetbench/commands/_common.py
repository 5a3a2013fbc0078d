"""Options shared by the commands that launch servers (run, verify)."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

from covetbench.apps import builtin_apps, parse_app_option
from covetbench.exceptions import UsageError
from covetbench.servers import AppTarget


def parse_cpus(text: str, option: str) -> list[int]:
    """`0`, `0,2`, `0-3` -> CPU numbers, each one this process may run on."""
    cpus: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            low, _, high = part.partition("-")
            cpus.extend(range(int(low), int(high or low) + 1))
    except ValueError:
        raise UsageError(f"{option} {text!r}: expected CPU numbers like 0, 0,2 or 0-3") from None
    if not cpus:
        raise UsageError(f"{option} {text!r}: no CPU given")
    allowed = sorted(os.sched_getaffinity(0))
    missing = [c for c in cpus if c not in allowed]
    if missing:
        raise UsageError(
            f"{option} {text!r}: CPU {missing[0]} is not available; available: "
            f"{','.join(str(c) for c in allowed)}"
        )
    return list(dict.fromkeys(cpus))


def add_app_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="NAME=module:attr",
        help="add your own ASGI app (repeatable), imported from the current directory",
    )


def extra_apps(values: list[str]) -> list[AppTarget]:
    return [parse_app_option(value) for value in values]


def app_names(extra: list[AppTarget]) -> list[str]:
    return [*builtin_apps(), *(a.name for a in extra)]


def add_suite_overrides(parser: Any, note: str = "") -> None:
    """One `--option` per `SuiteOverrides` field (`max_cv` is `--max-cv`), for `run` and for
    `gate --ab`; `note` goes before "default: the suite's" in each help text. `parser` is an
    argparse parser or argument group."""
    from covetbench.run.suite import SuiteOverrides

    for spec in dataclasses.fields(SuiteOverrides):
        if spec.metadata["flag"]:
            parser.add_argument(
                "--" + spec.name.replace("_", "-"),
                dest=spec.name,
                action="store_const",
                const=True,
                default=None,
                help=f"{spec.metadata['help']} ({note}default: the suite's)",
            )
            continue
        parser.add_argument(
            "--" + spec.name.replace("_", "-"),
            dest=spec.name,
            type=spec.metadata["parse"],
            default=None,
            metavar=spec.metadata.get("metavar", spec.name.upper()),
            help=f"{spec.metadata['help']} ({note}default: the suite's)",
        )


def suite_overrides(args: argparse.Namespace) -> Any:
    """The `SuiteOverrides` the options of `add_suite_overrides` gave."""
    from covetbench.run.suite import SuiteOverrides

    names = [f.name for f in dataclasses.fields(SuiteOverrides)]
    return SuiteOverrides(**{name: getattr(args, name) for name in names})


def add_cpu_options(parser: Any, note: str = "") -> None:
    """`--server-cpus` (default core 0) and `--loadgen-cpus` (default core 1), read back with
    `cpu_options(args)`."""
    parser.add_argument(
        "--server-cpus",
        default="0",
        metavar="CPUS",
        help=f"{note}CPUs the servers are pinned to (default %(default)s)",
    )
    parser.add_argument(
        "--loadgen-cpus",
        default="1",
        metavar="CPUS",
        help=f"{note}CPUs the load generators are pinned to (default %(default)s)",
    )


def cpu_options(args: argparse.Namespace) -> tuple[list[int], list[int]]:
    """(server CPUs, generator CPUs) from the options of `add_cpu_options`."""
    return (
        parse_cpus(args.server_cpus, "--server-cpus"),
        parse_cpus(args.loadgen_cpus, "--loadgen-cpus"),
    )
