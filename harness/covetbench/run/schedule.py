"""From a suite to a plan: which servers to launch and which configurations to load, in order.

A *pair* (app x server) is one launched server process; a *configuration* is one pair loaded
with one scenario at one concurrency and pipeline depth (one `TrialRecord.key`). Trials are
interleaved across configurations: round 1 runs every configuration once, round 2 again in
reverse order, round 3 forward... so drift of the machine spreads evenly over all of them and
no configuration always runs first or last in a round. Within a round, configurations that are
compared run next to each other: every app on one server, scenario and load, the `raw` floor
first, so each paired ratio (`run.ratios`) divides trials taken seconds apart.

    plan = build_plan(suite, extra_apps=[])
    plan.configs          # in pairing order; `run.adaptive` chooses each round from them
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from covetbench.apps import resolve_apps
from covetbench.exceptions import UsageError
from covetbench.load import get_loadgen
from covetbench.records import ConfigKey, FailureRecord
from covetbench.run.suite import Suite
from covetbench.run.validity import FLOOR_APP
from covetbench.scenarios import ScenarioSpec, get_scenario
from covetbench.servers import AppTarget, ServerAdapter, get_server


@dataclass(frozen=True)
class Pair:
    """One app served by one server: launched once, loaded by several configurations."""

    app: AppTarget
    server: str

    @property
    def label(self) -> str:
        return f"{self.app.name}@{self.server}"


@dataclass(frozen=True)
class Config:
    """One measured configuration: a pair, a scenario, a concurrency and a pipeline depth."""

    pair: Pair
    scenario: ScenarioSpec
    concurrency: int
    pipeline: int
    loadgen: str

    @property
    def key(self) -> ConfigKey:
        return ConfigKey(
            self.pair.app.name,
            self.pair.server,
            self.scenario.name,
            self.loadgen,
            self.concurrency,
            self.pipeline,
        )

    @property
    def label(self) -> str:
        deep = f" p{self.pipeline}" if self.pipeline > 1 else ""
        return f"{self.pair.label} {self.scenario.name} c{self.concurrency}{deep}"

    def file_stem(self, trial: int | str) -> str:
        deep = f"-p{self.pipeline}" if self.pipeline > 1 else ""
        return (
            f"{self.pair.app.name}-{self.pair.server}-{self.scenario.name}-{self.loadgen}"
            f"-c{self.concurrency}{deep}-t{trial}"
        )


@dataclass
class Plan:
    """Everything a run will do, decided before any process starts."""

    suite: Suite
    pairs: list[Pair]
    configs: list[Config]
    #: pairs not run because their server is not installed, as results' failure records
    skipped: list[FailureRecord] = field(default_factory=list)

    def configs_of(self, pair: Pair) -> list[Config]:
        return [c for c in self.configs if c.pair == pair]

    def partner(self, key: ConfigKey) -> ConfigKey | None:
        """The configuration `key` is paired with in a ratio: the `raw` floor on the same
        server and load (None for the floor itself, or when the plan has no floor there)."""
        floor = key._replace(app=FLOOR_APP)
        if key.app == FLOOR_APP or all(c.key != floor for c in self.configs):
            return None
        return floor

    @property
    def loadgens(self) -> list[str]:
        return list(dict.fromkeys(c.loadgen for c in self.configs))

    @property
    def servers(self) -> list[str]:
        return list(dict.fromkeys(p.server for p in self.pairs))


def build_plan(
    suite: Suite, extra_apps: Sequence[AppTarget] = (), *, check_loadgen: bool = True
) -> Plan:
    """Resolve every name of `suite` (UnknownNameError lists the valid ones) into a plan.

    A server that is not installed (or, in a TLS run, cannot serve TLS) is skipped with a
    record saying so; a scenario the load generator cannot drive, or a database scenario
    without a database URL, is a UsageError; a configuration two matrices share runs once.
    `check_loadgen` False (verify only) accepts every scenario.
    """
    pairs: dict[tuple[str, str], Pair] = {}
    configs: dict[ConfigKey, Config] = {}
    skipped: dict[tuple[str, str], FailureRecord] = {}
    for entry in suite.entries:
        apps = resolve_apps(list(entry.apps) if entry.apps else None, list(extra_apps))
        adapters = [get_server(name) for name in entry.servers]
        unusable = {adapter.name: _unusable(adapter, suite.tls) for adapter in adapters}
        scenarios = [get_scenario(name) for name in entry.scenarios]
        driver = get_loadgen(entry.loadgen)
        for spec in scenarios:
            if check_loadgen and not driver.supports(spec):
                raise UsageError(f"{driver.name} cannot drive scenario {spec.name!r}")
        for app in apps:
            for adapter in adapters:
                reason = unusable[adapter.name]
                if reason is not None:
                    skipped.setdefault(
                        (app.name, adapter.name),
                        FailureRecord(app.name, adapter.name, None, "skip", reason),
                    )
                    continue
                pair = pairs.setdefault((app.name, adapter.name), Pair(app, adapter.name))
                for spec in scenarios:
                    for concurrency in entry.concurrency:
                        config = Config(pair, spec, concurrency, entry.pipeline, driver.name)
                        configs.setdefault(config.key, config)
    if suite.database is None:
        needing = [c.scenario.name for c in configs.values() if c.scenario.needs_database]
        if needing:
            raise UsageError(
                f"scenario {needing[0]!r} reads the TechEmpower database: give its URL with "
                "--database URL or `database = URL` in the suite "
                "(then `covet-bench db init --url URL` is done for you)"
            )
    return Plan(
        suite, list(pairs.values()), pairing_order(configs.values()), list(skipped.values())
    )


def _unusable(adapter: ServerAdapter, tls: bool) -> str | None:
    """Why a run cannot launch `adapter` (None: it can): not installed, or, over TLS, no TLS
    (never measured in plain text in a TLS run)."""
    if not adapter.is_installed():
        return f"server {adapter.name!r} is not installed"
    if tls and (why := adapter.tls_unsupported()) is not None:
        return f"--tls: {why}"
    return None


def pairing_order(configs: Iterable[Config]) -> list[Config]:
    """`configs` with every app of one server, scenario, generator, concurrency and pipeline
    depth side by side (groups in order of first appearance), the `raw` floor first in each."""
    groups: dict[tuple[str, str, str, int, int], list[Config]] = {}
    for config in configs:
        key = config.key
        group = (key.server, key.scenario, key.loadgen, key.concurrency, key.pipeline)
        groups.setdefault(group, []).append(config)
    ordered: list[Config] = []
    for members in groups.values():
        ordered += sorted(members, key=lambda c: c.pair.app.name != FLOOR_APP)
    return ordered
