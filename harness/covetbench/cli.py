"""`covet-bench`: one entry point, one module per subcommand under `covetbench.commands`.

Each command module exposes `add_arguments(parser)` and `run(args) -> int`. A command whose
module cannot be imported (a missing optional dependency) is still listed, saying why. Exit codes
are `covetbench.exceptions.ExitCode`: 0 success, 1 a failure the command reports (a failed
verify, a regression...), 2 bad usage (unknown names, a bad suite file, a bad option), 130
interrupted by Ctrl-C (143 by SIGTERM).

    covet-bench list
    covet-bench run quick --servers uvicorn --duration 2
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from types import FrameType, ModuleType

from covetbench.exceptions import BenchError, ExitCode, SuiteError, UsageError

#: every subcommand, in the order `--help` lists them
COMMANDS: dict[str, str] = {
    "list": "list apps, servers, scenarios, load generators and suites",
    "verify": "launch app x server pairs and verify their responses",
    "run": "run a benchmark suite and write results and a report",
    "report": "render the HTML report of a run directory",
    "gate": "fail on a throughput regression or a baseline configuration gone missing",
    "instructions": "deterministic gate: callgrind instructions per request vs a baseline",
    "claims": "check the project's published claims against measurements",
    "export": "export a run as Bencher BMF, github-action-benchmark JSON or JUnit XML",
    "conform": "run the ASGI / HTTP / WebSocket conformance matrix",
    "soak": "drive a server for 1M requests and check its memory does not grow",
    "fuzz": "send malformed HTTP/1.1 and check the server survives it",
    "sweep": "latency against offered load (open loop), knee marked",
    "db": "create and fill the TechEmpower database (db init --url URL)",
}


class Interrupted(KeyboardInterrupt):
    """A signal asked the run to stop; the exit code is 128 + `signum`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _load_command(name: str) -> tuple[ModuleType | None, str | None]:
    """The command's module, or None and why it cannot be imported."""
    try:
        return importlib.import_module(f"covetbench.commands.{name}"), None
    except Exception as exc:  # a broken command must not take the others down
        return None, f"not available: {type(exc).__name__}: {exc}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covet-bench",
        description="Launch, verify, load and report on ASGI apps and servers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in COMMANDS.items():
        module, why = _load_command(name)
        help_text = summary if module is not None else f"{summary} ({why})"
        command = sub.add_parser(name, help=help_text, description=summary)
        if module is not None:
            module.add_arguments(command)
        command.set_defaults(_module=module, _unavailable=why)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `covet-bench` with `argv` (default: the process's) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return ExitCode.ERROR
    module: ModuleType | None = args._module
    if module is None:
        print(f"covet-bench {args.command}: {args._unavailable}", file=sys.stderr)
        return ExitCode.ERROR
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code: int = module.run(args)
        return code
    except (UsageError, SuiteError) as exc:
        print(f"covet-bench {args.command}: error: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except BenchError as exc:
        print(f"covet-bench {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return ExitCode.FAILURE
    except Interrupted as exc:
        print(f"covet-bench {args.command}: stopped by signal {exc.signum}", file=sys.stderr)
        return ExitCode.SIGNALLED + exc.signum
    except KeyboardInterrupt:
        print(f"covet-bench {args.command}: interrupted", file=sys.stderr)
        return ExitCode.SIGNALLED + signal.SIGINT
    finally:
        signal.signal(signal.SIGTERM, previous)
