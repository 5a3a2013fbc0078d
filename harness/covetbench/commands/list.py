"""`covet-bench list`: what can be measured here, installed or not, with versions."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from covetbench.apps import builtin_apps
from covetbench.exceptions import ExitCode
from covetbench.load import LOAD_DRIVERS
from covetbench.results.meta import FRAMEWORK_DISTRIBUTIONS
from covetbench.run.suite import find_suite, load_suite, suite_names
from covetbench.scenarios import SCENARIOS
from covetbench.servers import SERVERS
from covetbench.servers.base import distribution_version


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        nargs="?",
        choices=("apps", "servers", "scenarios", "loadgens", "suites"),
        help="list only this",
    )


def _installed(version: str | None, installed: bool = True) -> str:
    if installed and version is not None:
        return f"[green]yes[/] {version}"
    return "[red]no[/]"


def _tables() -> dict[str, Table]:
    apps = Table(title="Apps", title_justify="left")
    for column in ("name", "import", "framework"):
        apps.add_column(column)
    for name, target in builtin_apps().items():
        distribution = FRAMEWORK_DISTRIBUTIONS.get(name)
        if distribution is None:
            framework = "plain ASGI"
        else:
            framework = _installed(distribution_version(distribution))
        apps.add_row(name, target.import_string, framework)

    servers = Table(title="Servers", title_justify="left")
    for column in ("name", "installed", "distribution"):
        servers.add_column(column)
    for name, adapter in SERVERS.items():
        version = adapter.version()
        servers.add_row(name, _installed(version, adapter.is_installed()), adapter.distribution)

    scenarios = Table(title="Scenarios", title_justify="left")
    for column in ("name", "request", "wrk", "description"):
        scenarios.add_column(column)
    for name, spec in SCENARIOS.items():
        scenarios.add_row(
            name,
            f"{spec.method} {spec.path}",
            "yes" if spec.wrk_loadable else "no",
            spec.description,
        )

    loadgens = Table(title="Load generators", title_justify="left")
    for column in ("name", "installed", "how to install"):
        loadgens.add_column(column)
    for name, driver in LOAD_DRIVERS.items():
        installed = driver.is_installed()
        loadgens.add_row(
            name, _installed(driver.version(), installed), "" if installed else driver.install_hint
        )

    suites = Table(title="Suites", title_justify="left")
    for column in ("name", "description"):
        suites.add_column(column)
    for name in suite_names():
        try:
            description = load_suite(find_suite(name)).description
        except Exception as exc:  # one broken suite file must not hide the others
            description = f"[red]{exc}[/]"
        suites.add_row(name, description)
    return {
        "apps": apps,
        "servers": servers,
        "scenarios": scenarios,
        "loadgens": loadgens,
        "suites": suites,
    }


def run(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    for name, table in _tables().items():
        if args.what in (None, name):
            console.print(table)
    return ExitCode.OK
