"""The `covet` command line: `covet serve MODULE:ATTR [options]` (also `python -m covet`).

Options are derived from `covet.server.config.ServerConfig`; this is the only module that
turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from covet.server.config import ServerConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="covet", description="covet: ASGI framework and server")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve an ASGI app with covet's server")
    serve.add_argument("app", metavar="MODULE:ATTR", help="the ASGI app to serve")
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning"))
    ServerConfig.add_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `covet` console script; returns the exit code."""
    from covet.server import ServerError, run
    from covet.server.logconfig import configure_logging

    args = build_parser().parse_args(argv)
    try:
        config = ServerConfig.from_namespace(args)
        configure_logging(args.log_level, config.log_format, config.log_config)
        run(args.app, **vars(config))
    except ServerError as exc:
        print(f"covet: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
