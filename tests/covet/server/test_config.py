"""The config object, the CLI derived from it, and app loading."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from covet.cli import build_parser
from covet.server.config import ServerConfig, load_app
from covet.server.exceptions import ServerConfigError
from covet.server.parsers import get_parser_class

CONTRACT_FLAGS = [
    "--host",
    "--port",
    "--workers",
    "--http",
    "--loop",
    "--root-path",
    "--timeout-keep-alive",
    "--timeout-header",
    "--timeout-body",
    "--limit-concurrency",
    "--max-body",
    "--max-header-size",
    "--access-log",
    "--no-access-log",
]


def test_cli_has_every_contract_flag_and_one_per_field() -> None:
    parser = argparse.ArgumentParser()
    ServerConfig.add_arguments(parser)
    options = {opt for action in parser._actions for opt in action.option_strings}
    assert set(CONTRACT_FLAGS) <= options
    for f in fields(ServerConfig):
        assert "--" + f.name.replace("_", "-") in options


def test_cli_parses_into_config() -> None:
    args = build_parser().parse_args(
        ["serve", "m:app", "--port", "9001", "--http", "python", "--no-access-log"]
        + ["--limit-concurrency", "5", "--timeout-header", "2.5", "--root-path", "/api/"]
    )
    config = ServerConfig.from_namespace(args)
    assert args.app == "m:app"
    assert (config.port, config.http, config.access_log) == (9001, "python", False)
    assert config.limit_concurrency == 5 and config.timeout_header == 2.5
    assert config.root_path == "/api"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "m:app", "--http", "h11"])


@pytest.mark.parametrize(
    "options",
    [{"port": 70000}, {"workers": 0}, {"http": "h11"}, {"timeout_header": -1}],
    ids=["port", "workers", "http", "timeout"],
)
def test_invalid_config(options: dict[str, object]) -> None:
    with pytest.raises(ServerConfigError):
        ServerConfig(**options)  # type: ignore[arg-type]


def test_load_app() -> None:
    app = load_app("tests.covet.server.apps:raw_app")
    assert callable(app)
    for bad in ("nocolon", "tests.covet.server.apps:missing", "no_such_module_xyz:app"):
        with pytest.raises(ServerConfigError):
            load_app(bad)


def test_parser_registry() -> None:
    assert get_parser_class("python").__name__ == "PythonParser"
    assert get_parser_class("auto").__name__ in ("PythonParser", "HttptoolsParser")
    with pytest.raises(ServerConfigError):
        get_parser_class("h11")
