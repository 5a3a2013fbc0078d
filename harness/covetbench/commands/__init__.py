"""One module per `covet-bench` subcommand, each with `add_arguments(parser)` and `run(args)`."""
