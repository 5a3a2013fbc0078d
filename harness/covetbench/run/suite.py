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
    database = "postgresql://postgres@127.0.0.1:5432/covetbench"   # for the db scenarios

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
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.apps import scenarios_dir
from covetbench.db.url import parse_url
from covetbench.exceptions import SuiteError, UnknownNameError, UsageError
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
    "database",
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
    #: database URL the TechEmpower database scenarios use (passed to every server launched)
    database: str | None = None

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

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["path"] = str(self.path) if self.path else None
        if self.database:  # recorded in results.json: never its password
            data["database"] = parse_url(self.database).shown
        return data


def comma_list(kind: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    """An argparse `type` turning `a,b,c` into a list of `kind` values."""

    def parse(text: str) -> list[Any]:
        return [kind(part.strip()) for part in text.split(",") if part.strip()]

    parse.__name__ = f"comma-separated {kind.__name__}"
    return parse


def _override(
    description: str,
    parse: Callable[[str], Any],
    minimum: int | None = None,
    metavar: str | None = None,
) -> Any:
    """A `SuiteOverrides` field: None by default, described for the command line."""
    metadata: dict[str, Any] = {"help": description, "parse": parse}
    if metavar is not None:
        metadata["metavar"] = metavar
    if minimum is not None:
        metadata["minimum"] = minimum
    return field(default=None, metadata=metadata)


@dataclass(frozen=True)
class SuiteOverrides:
    """Command-line overrides of a suite; None leaves the suite's value.

    The `run` command derives its options from these fields (`metadata["help"]`, and
    `metadata["parse"]` turning the option's text into the value, `metadata["metavar"]` when
    the field's name is not the right placeholder); `metadata["minimum"]` is the smallest value
    `apply_overrides` accepts. `max_cv` is `--max-cv PCT`.
    """

    apps: list[str] | None = _override("apps to run (comma-separated)", comma_list(str))
    servers: list[str] | None = _override("servers to run (comma-separated)", comma_list(str))
    scenarios: list[str] | None = _override("scenarios to run (comma-separated)", comma_list(str))
    loadgen: str | None = _override("load generator (e.g. wrk)", str)
    concurrency: list[int] | None = _override(
        "connections, comma-separated levels (e.g. 16,64)", comma_list(int), minimum=1
    )
    duration: int | None = _override("seconds per measured trial", int, minimum=1)
    warmup: int | None = _override("warmup seconds per configuration", int, minimum=0)
    trials: int | None = _override("measured trials per configuration", int, minimum=1)
    pipeline: int | None = _override("requests per write (wrk pipelining)", int, minimum=1)
    workers: int | None = _override("server worker processes", int, minimum=1)
    threads: int | None = _override("load generator threads", int, minimum=1)
    retries: int | None = _override(
        "repeats of a disturbed trial before keeping it flagged", int, minimum=0
    )
    max_cv: float | None = _override(
        "CV in %% of a configuration's trials above which it is flagged unstable",
        float,
        minimum=0,
        metavar="PCT",
    )
    database: str | None = _override(
        "database URL of the db scenarios: postgresql://... or sqlite:///...", str, metavar="URL"
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


class _Locator:
    """Finds the line of a key in TOML text: tomllib reports no positions for values."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _section_bounds(self, variant: int | None) -> tuple[int, int]:
        headers = [
            i for i, line in enumerate(self.lines) if re.match(r"^\s*\[", line.split("#")[0])
        ]
        variants = [i for i in headers if re.match(r"^\s*\[\[\s*variant\s*\]\]", self.lines[i])]
        if variant is None:
            return 0, headers[0] if headers else len(self.lines)
        if variant >= len(variants):
            return 0, len(self.lines)
        start = variants[variant]
        after = [i for i in headers if i > start]
        return start, after[0] if after else len(self.lines)

    def line(self, key: str, variant: int | None = None, value: str | None = None) -> int | None:
        """1-based line of `key = ...` (of the string `value` inside it, when given)."""
        start, end = self._section_bounds(variant)
        if key == "variant" and variant is not None:
            return start + 1
        pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                if value is not None:
                    for j in range(i, end):
                        if f'"{value}"' in self.lines[j] or f"'{value}'" in self.lines[j]:
                            return j + 1
                return i + 1
        return None


def _where(key: str, variant: int | None) -> str:
    """How an error names a field: `trials`, or `variant[0].scenarios` inside a variant."""
    return key if variant is None else f"variant[{variant}].{key}"


class _Reader:
    """Type-checks one table of a suite, raising SuiteError at the offending key's line."""

    def __init__(self, path: Path, locator: _Locator, table: dict[str, Any], variant: int | None):
        self.path = path
        self.locator = locator
        self.table = table
        self.variant = variant

    def fail(self, key: str, message: str, value: str | None = None) -> SuiteError:
        where = _where(key, self.variant)
        line = self.locator.line(key, self.variant, value)
        if line is None and self.variant is not None:
            line = self.locator.line("variant", self.variant)
        return SuiteError(str(self.path), line, where, message)

    def check_keys(self, allowed: Sequence[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown key; valid keys: {', '.join(allowed)}")

    def names(self, key: str) -> tuple[str, ...] | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a non-empty list of names")
        for item in value:
            if not isinstance(item, str) or not item:
                raise self.fail(key, f"expected names (strings), got {item!r}")
        return tuple(dict.fromkeys(value))

    def integer(self, key: str, minimum: int) -> int | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def integers(self, key: str, minimum: int) -> tuple[int, ...] | None:
        if key not in self.table:
            return None
        value = self.table[key]
        values = [value] if isinstance(value, int) else value
        if not isinstance(values, list) or not values:
            raise self.fail(key, "expected a whole number or a non-empty list of them")
        for item in values:
            if isinstance(item, bool) or not isinstance(item, int) or item < minimum:
                raise self.fail(key, f"expected whole numbers >= {minimum}, got {item!r}")
        return tuple(dict.fromkeys(values))

    def number(self, key: str, minimum: float) -> float | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= minimum:
            raise self.fail(key, f"expected a number > {minimum}, got {value!r}")
        return float(value)

    def text(self, key: str) -> str | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value


def load_suite(path: Path) -> Suite:
    """Read and check a suite file (types and keys; names are checked by `check_names`)."""
    path = Path(path)
    text, data = read_toml(path)
    locator = _Locator(text)
    top = _Reader(path, locator, data, None)
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
        reader = _Reader(path, locator, table, index)
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
        database=top.text("database"),
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
    locator = _Locator(text)
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
                    _where(key, variant),
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
        ("database", "database"),
    ):
        value = getattr(overrides, key)
        if value is not None:
            timing[target] = value
    return dataclasses.replace(suite, entries=entries, **timing)
