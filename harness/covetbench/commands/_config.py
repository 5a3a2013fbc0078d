"""Options derived from a typed config dataclass: one `--flag` per field carrying a `help`.

@dataclass
class SoakConfig:
    requests: int = field(default=1_000_000, metadata={"help": "requests to send"})

add_config_arguments(parser, SoakConfig)          # --requests N (default 1000000)
config = config_from_args(SoakConfig, args, out_dir=args.out)
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def _option_fields(cls: type[Any]) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if "help" in f.metadata]


def add_config_arguments(parser: argparse.ArgumentParser, cls: type[Any]) -> None:
    """One option per field of `cls` with a `help` in its metadata, typed by its default."""
    for spec in _option_fields(cls):
        default = spec.default
        parser.add_argument(
            "--" + spec.name.replace("_", "-"),
            dest=spec.name,
            type=spec.metadata.get("type", type(default)),
            default=default,
            metavar=spec.metadata.get("metavar", spec.name.split("_")[-1].upper()),
            help=spec.metadata["help"] + " (default %(default)s)",
        )


def config_from_args(cls: type[T], args: argparse.Namespace, **extra: Any) -> T:
    """Build `cls` from the parsed options plus `extra` (fields the CLI does not expose)."""
    values = {spec.name: getattr(args, spec.name) for spec in _option_fields(cls)}
    return cls(**values, **extra)
