"""Suites: what a run measures, read from `scenarios/suites/<name>.toml`.

A suite names apps, servers, scenarios and concurrency levels (a matrix), how long to warm up
and measure, how many trials, and which load generator. Optional `[[variant]]` tables add
matrices that inherit every top-level key they do not set (e.g. pipelined plaintext):

    description = "quick look"
    apps = ["raw", "covet"]
    servers = ["uvicorn", "granian"]
    scenarios = ["plaintext", "json"]
    concurrency = [64]
    duration = 3        # seconds per measured trial (whole seconds: wrk's unit)
    warmup = 1          # seconds of warmup per configuration (0: none)
    trials = 2
    max_cv = 10         # % CV of the trials' requests/s above which a configuration is unstable
    locust_workers = 0  # loadgen "locust": 0 one process, N a master and N workers
    locustfile = "x.py" # loadgen "locust": run this file instead of each scenario's own
    precision = 5       # adaptive: add rounds until each median's interval is within +-5 %
    max_trials = 9      # ... at most this many trials per configuration
    time_budget = 270   # ... and the whole run within this many seconds
    rate = 2000         # open loop (loadgen = "open"): offered requests/s
    inject_stall = "1@3"  # stop the server for 1 s, 3 s into every trial (run.stall)
    database = "postgresql://postgres@127.0.0.1:5432/covetbench"   # for the db scenarios
    tls = true          # every server over https, a throw-away self-signed certificate

    [[variant]]
    name = "pipelined"
    scenarios = ["plaintext"]
    pipeline = 16

Errors name the file, the line and the field (`quick.toml:7: field 'trials': ...`); unknown
keys are errors, so a typo never silently falls back to a default.

    suite = load_suite(find_suite("quick"))
    suite = apply_overrides(suite, SuiteOverrides(duration=1, trials=1))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covetbench.apps import scenarios_dir
from covetbench.db.url import parse_url
from covetbench.exceptions import SuiteError, UnknownNameError, UsageError
from covetbench.run.stall import StallSpec
from covetbench.run.suite_reader import Locator, TableReader, comma_list, override, where
from covetbench.run.validity import MAX_CV
from covetbench.scenarios import SCENARIOS
from covetbench.tomlfile import read_toml

#: keys a `[[variant]]` may set; it inherits the rest from the top level
ENTRY_KEYS = ("apps", "servers", "scenarios", "concurrency", "pipeline", "loadgen")
SUITE_KEYS = (
    "description",
    *ENTRY_KEYS,
    "duration",
    "warmup",
    "trials",
    "workers",
    "threads",
    "timeout",
    "retries",
    "max_cv",
    "locustfile",
    "locust_workers",
    "precision",
    "max_trials",
    "time_budget",
    "rate",
    "inject_stall",
    "database",
    "tls",
    "variant",
)
VARIANT_KEYS = ("name", *ENTRY_KEYS)


@dataclass(frozen=True)
class SuiteEntry:
    """One matrix of a suite: every app x server x scenario x concurrency, at one pipeline depth.

    `apps` None means every built-in app.
    """

    name: str
    apps: tuple[str, ...] | None
    servers: tuple[str, ...]
    scenarios: tuple[str, ...]
    concurrency: tuple[int, ...]
    pipeline: int = 1
    loadgen: str = "wrk"


@dataclass(frozen=True)
class Suite:
    """A whole suite: its matrices plus timing shared by all of them."""

    name: str
    entries: tuple[SuiteEntry, ...]
    description: str = ""
    path: Path | None = None
    duration_s: int = 3
    warmup_s: int = 1
    trials: int = 2
    workers: int = 1
    #: generator threads per run; None: one per generator CPU
    threads: int | None = None
    timeout_s: float = 4.0
    #: how often a disturbed trial is repeated before it is kept flagged
    retries: int = 2
    #: CV (in %) of a configuration's trials above which it is flagged `unstable`
    max_cv_pct: float = MAX_CV * 100
    #: loadgen "locust": a locustfile replacing each scenario's own (None: the scenario's)
    locustfile: str | None = None
    #: loadgen "locust": 0 runs one locust process, N a master and N workers
    locust_workers: int = 0
    #: adaptive trials: the relative half-width (in %) of each median's interval to reach,
    #: `trials` being the minimum (`covetbench.run.adaptive`); None: exactly `trials` rounds
    precision_pct: float | None = None
    #: adaptive trials: most trials per configuration (None: 3 x `trials`)
    max_trials: int | None = None
    #: wall seconds the whole run may take, launch and verify included (None: no limit); no
    #: round starts that the remaining time cannot pay for, whatever the trial counts
    time_budget_s: float | None = None
    #: open loop: offered requests/s (`LoadRequest.rate`); None for closed loops
    rate: float | None = None
    #: stop the server's process tree during every measured trial (`run.stall`)
    inject_stall: StallSpec | None = None
    #: database URL the TechEmpower database scenarios use (passed to every server launched)
    database: str | None = None
    #: serve every server over https with a throw-away self-signed certificate (`servers.tls`)
    tls: bool = False

    @property
    def needs_database(self) -> bool:
        """Whether a scenario of the suite reads the TechEmpower database."""
        return any(
            spec.needs_database
            for entry in self.entries
            for name in entry.scenarios
            if (spec := SCENARIOS.get(name)) is not None
        )

    @property
    def max_cv(self) -> float:
        """`max_cv_pct` as the fraction `validity.judge_configs` takes."""
        return self.max_cv_pct / 100.0

    @property
    def precision(self) -> float | None:
        """`precision_pct` as the fraction `adaptive` and `validity` take (None: not adaptive)."""
        return None if self.precision_pct is None else self.precision_pct / 100.0

    @property
    def trial_limit(self) -> int:
        """Most trials a configuration can get: `trials`, or `max_trials` when adaptive."""
        if self.precision_pct is None:
            return self.trials
        return max(self.trials, self.max_trials or 3 * self.trials)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["path"] = str(self.path) if self.path else None
        if self.database:  # recorded in results.json: never its password
            data["database"] = parse_url(self.database).shown
        return data


@dataclass(frozen=True)
class SuiteOverrides:
    """Command-line overrides of a suite; None leaves the suite's value.

    The `run` command derives its options from these fields (`metadata["help"]`, and
    `metadata["parse"]` turning the option's text into the value, `metadata["metavar"]` when
    the field's name is not the right placeholder); `metadata["minimum"]` is the smallest value
    `apply_overrides` accepts. `max_cv` is `--max-cv PCT`.
    """

    apps: list[str] | None = override("apps to run (comma-separated)", comma_list(str))
    servers: list[str] | None = override("servers to run (comma-separated)", comma_list(str))
    scenarios: list[str] | None = override("scenarios to run (comma-separated)", comma_list(str))
    loadgen: str | None = override("load generator (e.g. wrk)", str)
    concurrency: list[int] | None = override(
        "connections, comma-separated levels (e.g. 16,64)", comma_list(int), minimum=1
    )
    duration: int | None = override("seconds per measured trial", int, minimum=1)
    warmup: int | None = override("warmup seconds per configuration", int, minimum=0)
    trials: int | None = override("measured trials per configuration", int, minimum=1)
    pipeline: int | None = override("requests per write (wrk pipelining)", int, minimum=1)
    workers: int | None = override("server worker processes", int, minimum=1)
    threads: int | None = override("load generator threads", int, minimum=1)
    retries: int | None = override(
        "repeats of a disturbed trial before keeping it flagged", int, minimum=0
    )
    max_cv: float | None = override(
        "CV in %% of a configuration's trials above which it is flagged unstable",
        float,
        minimum=0,
        metavar="PCT",
    )
    locustfile: str | None = override(
        "locustfile for --loadgen locust, replacing each scenario's own (scenarios/locustfiles/)",
        str,
        metavar="PATH",
    )
    locust_workers: int | None = override(
        "locust worker processes: 0 one process, N a master and N workers on the load CPUs",
        int,
        minimum=0,
        metavar="N",
    )
    precision: float | None = override(
        "adaptive trials: add interleaved rounds until each configuration's median interval "
        "is within +-PCT %% (--trials is then the minimum)",
        float,
        minimum=0,
        metavar="PCT",
    )
    max_trials: int | None = override(
        "adaptive trials: most trials per configuration (default 3 x --trials)", int, minimum=1
    )
    time_budget: float | None = override(
        "wall seconds the whole run may take; no round starts past it",
        float,
        minimum=1,
        metavar="SECONDS",
    )
    rate: float | None = override(
        "open-loop offered load in requests/s (--loadgen open)", float, minimum=0, metavar="R"
    )
    inject_stall: StallSpec | None = override(
        "SIGSTOP the server's process tree for SECONDS, AT seconds into every trial "
        "(the latency method's self-test)",
        StallSpec.parse,
        metavar="SECONDS@AT",
    )
    database: str | None = override(
        "database URL of the db scenarios: postgresql://... or sqlite:///...", str, metavar="URL"
    )
    tls: bool | None = override(
        "serve every server over https (a throw-away self-signed certificate)", bool, flag=True
    )


def suites_dir() -> Path:
    return scenarios_dir() / "suites"


def suite_names() -> list[str]:
    directory = suites_dir()
    return sorted(p.stem for p in directory.glob("*.toml")) if directory.is_dir() else []


def find_suite(name_or_path: str) -> Path:
    """`quick` -> `scenarios/suites/quick.toml`; a path to a .toml file is taken as is."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or "/" in name_or_path:
        if not candidate.is_file():
            raise SuiteError(str(candidate), None, None, "no such suite file")
        return candidate
    path = suites_dir() / f"{name_or_path}.toml"
    if not path.is_file():
        raise UnknownNameError("suite", name_or_path, suite_names())
    return path


def load_suite(path: Path) -> Suite:
    """Read and check a suite file (types and keys; names are checked by `check_names`)."""
    path = Path(path)
    text, data = read_toml(path)
    locator = Locator(text)
    top = TableReader(path, locator, data, None)
    top.check_keys(SUITE_KEYS)
    for key in ("servers", "scenarios", "concurrency"):
        if key not in data:
            raise SuiteError(str(path), None, key, "missing (every suite names it)")
    main = SuiteEntry(
        name="",
        apps=top.names("apps"),
        servers=top.names("servers") or (),
        scenarios=top.names("scenarios") or (),
        concurrency=top.integers("concurrency", 1) or (),
        pipeline=top.integer("pipeline", 1) or 1,
        loadgen=top.text("loadgen") or "wrk",
    )
    entries = [main]
    variants = data.get("variant", [])
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        raise top.fail("variant", "expected [[variant]] tables")
    for index, table in enumerate(variants):
        reader = TableReader(path, locator, table, index)
        reader.check_keys(VARIANT_KEYS)
        apps = reader.names("apps")
        entries.append(
            SuiteEntry(
                name=reader.text("name") or f"variant-{index + 1}",
                apps=apps if "apps" in table else main.apps,
                servers=reader.names("servers") or main.servers,
                scenarios=reader.names("scenarios") or main.scenarios,
                concurrency=reader.integers("concurrency", 1) or main.concurrency,
                pipeline=reader.integer("pipeline", 1) or main.pipeline,
                loadgen=reader.text("loadgen") or main.loadgen,
            )
        )
    defaults = Suite(name="", entries=())
    threads = top.integer("threads", 1)
    warmup = top.integer("warmup", 0)
    retries = top.integer("retries", 0)
    locustfile = top.text("locustfile")
    if locustfile is not None and not Path(locustfile).is_absolute():
        locustfile = str((path.parent / locustfile).resolve())  # relative to the suite file
    stall = top.text("inject_stall")
    try:
        inject_stall = StallSpec.parse(stall) if stall else None
    except UsageError as exc:
        raise top.fail("inject_stall", str(exc)) from None
    return Suite(
        name=path.stem,
        path=path,
        description=top.text("description") or "",
        entries=tuple(entries),
        duration_s=top.integer("duration", 1) or defaults.duration_s,
        warmup_s=defaults.warmup_s if warmup is None else warmup,
        trials=top.integer("trials", 1) or defaults.trials,
        workers=top.integer("workers", 1) or defaults.workers,
        threads=threads,
        timeout_s=top.number("timeout", 0) or defaults.timeout_s,
        retries=defaults.retries if retries is None else retries,
        max_cv_pct=top.number("max_cv", 0) or defaults.max_cv_pct,
        locustfile=locustfile,
        locust_workers=top.integer("locust_workers", 0) or 0,
        precision_pct=top.number("precision", 0),
        max_trials=top.integer("max_trials", 1),
        time_budget_s=top.number("time_budget", 0),
        rate=top.number("rate", 0),
        inject_stall=inject_stall,
        database=top.text("database"),
        tls=bool(top.flag("tls")),
    )


def check_names(
    suite: Suite,
    *,
    apps: Iterable[str],
    servers: Iterable[str],
    scenarios: Iterable[str],
    loadgens: Iterable[str],
) -> None:
    """Every name in the suite must be in its registry: SuiteError at its line otherwise."""
    valid = {
        "apps": sorted(apps),
        "servers": sorted(servers),
        "scenarios": sorted(scenarios),
        "loadgen": sorted(loadgens),
    }
    text = suite.path.read_text(encoding="utf-8") if suite.path else ""
    locator = Locator(text)
    for index, entry in enumerate(suite.entries):
        variant = None if index == 0 else index - 1
        for key, names in (
            ("apps", entry.apps or ()),
            ("servers", entry.servers),
            ("scenarios", entry.scenarios),
            ("loadgen", (entry.loadgen,)),
        ):
            for name in names:
                if name in valid[key]:
                    continue
                line = locator.line(key, variant, name) or locator.line(key, None, name)
                singular = {"apps": "app", "servers": "server", "scenarios": "scenario"}
                raise SuiteError(
                    str(suite.path or suite.name),
                    line,
                    where(key, variant),
                    f"unknown {singular.get(key, 'load generator')} {name!r}; "
                    f"valid: {', '.join(valid[key])}",
                )


_OVERRIDE_MINIMUMS: dict[str, int] = {
    spec.name: spec.metadata["minimum"]
    for spec in dataclasses.fields(SuiteOverrides)
    if "minimum" in spec.metadata
}


def apply_overrides(suite: Suite, overrides: SuiteOverrides) -> Suite:
    """The suite with the command line's values in place of its own.

    Matrix options (apps, servers, scenarios, concurrency, pipeline, loadgen) replace the value
    in every matrix, variants included.
    """
    for key, minimum in _OVERRIDE_MINIMUMS.items():
        value = getattr(overrides, key)
        values = value if isinstance(value, list) else [value]
        if value is not None and (not values or any(v < minimum for v in values)):
            option = key.replace("_", "-")
            raise UsageError(f"--{option} must be >= {minimum}, got {value!r}")
    for key in ("apps", "servers", "scenarios"):
        if getattr(overrides, key) == []:
            raise UsageError(f"--{key} needs at least one name")
    changes: dict[str, Any] = {}
    for key in ENTRY_KEYS:
        value = getattr(overrides, key)
        if value is not None:
            changes[key] = tuple(value) if isinstance(value, list) else value
    entries = tuple(dataclasses.replace(e, **changes) for e in suite.entries)
    timing: dict[str, Any] = {}
    for key, target in (
        ("duration", "duration_s"),
        ("warmup", "warmup_s"),
        ("trials", "trials"),
        ("workers", "workers"),
        ("threads", "threads"),
        ("retries", "retries"),
        ("max_cv", "max_cv_pct"),
        ("locustfile", "locustfile"),
        ("locust_workers", "locust_workers"),
        ("precision", "precision_pct"),
        ("max_trials", "max_trials"),
        ("time_budget", "time_budget_s"),
        ("rate", "rate"),
        ("inject_stall", "inject_stall"),
        ("database", "database"),
        ("tls", "tls"),
    ):
        value = getattr(overrides, key)
        if value is not None:
            timing[target] = value
    return dataclasses.replace(suite, entries=entries, **timing)
