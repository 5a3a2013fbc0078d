"""Errors raised by covet-bench.

BenchError
├── UsageError            bad command line or option value (exit code 2)
│   └── UnknownNameError  unknown app / server / scenario / load generator
├── SuiteError            a suite or scenario file is wrong (names file, line, field)
├── ServerStartError      a server did not become ready (carries its log tail)
├── LoadGeneratorError    a load generator is missing or failed
├── VerifyError           an endpoint failed verification
├── ResultsError          results on disk are missing, invalid or not comparable
└── DatabaseError         the benchmark database is unreachable, malformed or cannot be filled

`ExitCode` is what every command returns: the CLI maps UsageError and SuiteError to ERROR, any
other BenchError to FAILURE, a signal to 128 + its number.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ExitCode(enum.IntEnum):
    """The exit codes of `covet-bench`, the same for every command."""

    #: done; for a gate: no regression
    OK = 0
    #: a failure the command reports: a failed verify, a regression, a failed MUST check
    FAILURE = 1
    #: bad usage or data: unknown names, a bad suite, missing results, underpowered comparison
    ERROR = 2
    #: stopped by a signal: the code is this plus the signal number (130 for Ctrl-C)
    SIGNALLED = 128


class BenchError(Exception):
    """Root of every error covet-bench raises on purpose."""


class UsageError(BenchError):
    """The command line asked for something impossible."""


class UnknownNameError(UsageError):
    """A name is not in its registry; the message lists the valid ones."""

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid {kind}s: {', '.join(self.valid)}")


class SuiteError(BenchError):
    """A suite file is invalid. The message names the file, the line and the field."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = path if line is None else f"{path}:{line}"
        what = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{what} {message}")


class ServerStartError(BenchError):
    """A server process exited or never answered; `log_tail` holds its last output."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        super().__init__(message)


class LoadGeneratorError(BenchError):
    """A load generator is not installed or did not produce a result."""


class VerifyError(BenchError):
    """An endpoint failed verification."""


class ResultsError(BenchError):
    """Results are missing, fail their schema, or have nothing to compare."""


class DatabaseError(BenchError):
    """The benchmark database (`covet-bench db init`, the database rules) failed; the message
    names the URL it tried (without its password)."""
