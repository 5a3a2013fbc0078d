"""Deterministic gate: instructions per request under callgrind, for machines too noisy for time.

Wall-clock gates on shared CI runners drown in noise; an instruction count does not. For each
target, `callgrind_driver.py` (a standalone script: the harness never imports the measured code)
runs N identical requests under `valgrind --tool=callgrind`, once with N = `requests_low` and
once with N = `requests_high`; start-up, imports and shutdown are the same in both runs, so

    instructions per request = (total(high) - total(low)) / (high - low)

Targets are of two kinds, keyed `KIND/APP/SCENARIO`:

- `app/<app>/<scenario>`: the app's ASGI callable driven in-process (minimal scope / receive /
  send), the in-process request path;
- `server-<parser>/<app>/<scenario>`: raw request bytes fed through covet's server protocol on a
  fake transport (one keep-alive connection), i.e. parser + request cycle + app.

Counts are made to repeat to the instruction: the driver gets a fixed environment and hash
seed, and each side runs from a checkout of one shape (`apps` and `covet` symlinks in a temporary
directory) with a fresh bytecode cache written by one native warm-up run.

Repeatable is not unbiased: where the heap's objects happen to land moves the per-request count.
The same commit counted 25,719 instructions/request (app/covet/plaintext) from one checkout and
25,819 from another, and 7 extra objects allocated before the app's import moved the first to
25,819 too (2026-12-05): a 0.4 % step from layout alone, 40 % of the default threshold. So each
target is counted under several heap layouts (`InstructionsConfig.layouts`: that many small
objects allocated by the driver before it imports the app) and the median is its figure; every
layout's count is kept in `per_layout`.

The comparison against a baseline is `covetbench.gate.instructions.compare`.

    config = InstructionsConfig()
    current = measure_targets(build_targets(["covet"], ["plaintext"], ["python"]), config)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.apps import AppTarget
from covetbench.exceptions import BenchError, UsageError
from covetbench.scenarios import KIND_WEBSOCKET, ScenarioSpec, get_scenario

DRIVER = Path(__file__).resolve().with_name("callgrind_driver.py")
#: parsers of covet's server that `server-<parser>` targets may name
PARSERS = ("python", "httptools")

_TOTAL_RE = re.compile(rb"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


class InstrumentError(BenchError):
    """valgrind is missing, or the driver failed under it (the message holds its output)."""


@dataclass(frozen=True)
class InstructionsConfig:
    """How each target is counted and judged."""

    requests_low: int = 20
    requests_high: int = 220
    threshold_pct: float = 1.0
    timeout_s: float = 600.0
    #: heap layouts each target is counted under (objects the driver allocates first); the
    #: median of their counts is the target's figure (see the module docstring)
    layouts: tuple[int, ...] = (0, 5, 13)

    def __post_init__(self) -> None:
        if not 1 <= self.requests_low < self.requests_high:
            raise UsageError("--requests LOW,HIGH: need 1 <= LOW < HIGH")
        if not self.layouts or min(self.layouts) < 0:
            raise UsageError("need at least one heap layout, none negative")
        if not self.threshold_pct > 0:
            raise UsageError("--threshold must be > 0")


@dataclass(frozen=True)
class CountTarget:
    """One thing to count: an app in-process (`parser` None) or behind covet's server parser."""

    app: AppTarget
    scenario: ScenarioSpec
    parser: str | None = None

    @property
    def kind(self) -> str:
        return "app" if self.parser is None else f"server-{self.parser}"

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.app.name}/{self.scenario.name}"

    def driver_args(self, requests: int, heap_pad: int = 0) -> list[str]:
        mode = ["app"] if self.parser is None else ["server"]
        args = [*mode, self.app.import_string, "--requests", str(requests)]
        if heap_pad:
            args += ["--heap-pad", str(heap_pad)]
        if self.parser is not None:
            args += ["--http", self.parser]
        args += ["--method", self.scenario.method, "--path", self.scenario.path]
        for name, value in self.scenario.headers.items():
            args += ["--header", f"{name}:{value}"]
        if self.scenario.body:
            args += ["--body-hex", self.scenario.body.hex()]
        return args


@dataclass
class Measurement:
    """Instructions per request of one target (the median over heap layouts), the two totals
    of the median layout, and every layout's figure."""

    key: str
    per_request: float
    total_low: int
    total_high: int
    per_layout: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "instructions_per_request": round(self.per_request, 1),
            "total_low": self.total_low,
            "total_high": self.total_high,
            "per_layout": [round(v, 1) for v in self.per_layout],
        }


def valgrind_path() -> str | None:
    return shutil.which("valgrind")


def valgrind_version() -> str | None:
    path = valgrind_path()
    if path is None:
        return None
    proc = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def build_targets(
    apps: Iterable[AppTarget], scenarios: Iterable[str], parsers: Iterable[str | None]
) -> list[CountTarget]:
    """Every app x scenario x parser (None: in-process); WebSocket scenarios are skipped."""
    specs = [get_scenario(name) for name in scenarios]
    chosen = list(parsers)
    for parser in chosen:
        if parser is not None and parser not in PARSERS:
            raise UsageError(f"unknown parser {parser!r}; valid parsers: {', '.join(PARSERS)}")
    return [
        CountTarget(app, spec, parser)
        for parser in chosen
        for app in apps
        for spec in specs
        if spec.kind != KIND_WEBSOCKET
    ]


#: the driver's whole environment, fixed: the inherited one differs between shells and machines,
#: and its size moves the stack, hence addresses and the cost of anything hashed by identity
#: (with the inherited environment the server path moved up to 0.3 % between two shells)
_FIXED_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LC_ALL": "C.UTF-8",
    # same hashes, no .pyc written between the two runs: both start up identically
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def _driver_env(pythonpath: str, pycache: Path | None = None) -> dict[str, str]:
    # the driver runs in a scratch directory: relative entries would point nowhere
    entries = (str(Path(p).resolve()) for p in pythonpath.split(os.pathsep) if p)
    env = {**_FIXED_ENV, "PYTHONPATH": os.pathsep.join(entries)}
    if pycache is not None:
        # every side's bytecode in a fresh cache of one shape (a worktree has no .pyc, this
        # checkout has them: loading one and compiling the other left counts ~1 % apart)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        del env["PYTHONDONTWRITEBYTECODE"]
    return env


def _warm_bytecode(driver_args: list[str], env: dict[str, str], timeout_s: float) -> None:
    """One native run that writes the bytecode cache, so both counted runs only read it."""
    try:
        subprocess.run(
            [sys.executable, str(DRIVER), *driver_args],
            env=env,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstrumentError(f"bytecode warm-up timed out after {timeout_s:.0f}s") from exc


def count_instructions(
    driver_args: list[str],
    pythonpath: str,
    timeout_s: float = 600.0,
    python: str | None = None,
    pycache: Path | None = None,
) -> int:
    """Instructions of one driver run under callgrind (the whole process, start-up included)."""
    valgrind = valgrind_path()
    if valgrind is None:
        raise InstrumentError("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="covet-cg-") as tmp:
        out = Path(tmp) / "callgrind.out"
        argv = [
            valgrind,
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            python or sys.executable,
            str(DRIVER),
            *driver_args,
        ]
        try:
            proc = subprocess.run(
                argv,
                env=_driver_env(pythonpath, pycache),
                capture_output=True,
                timeout=timeout_s,
                check=False,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired as exc:
            raise InstrumentError(f"callgrind run timed out after {timeout_s:.0f}s") from exc
        if proc.returncode != 0 or not out.is_file():
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-8:]
            raise InstrumentError(
                f"driver {' '.join(driver_args[:2])} exited {proc.returncode}: " + " | ".join(tail)
            )
        match = _TOTAL_RE.search(out.read_bytes())
    if match is None:
        raise InstrumentError("callgrind output has no summary/totals line")
    return int(match.group(1))


def measure(target: CountTarget, pythonpath: str, config: InstructionsConfig) -> Measurement:
    """Instructions per request of `target`, by the difference of two request counts, under
    each heap layout of `config`; the median layout's figure is the target's."""
    counted: list[tuple[float, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="covet-pyc-") as pycache:
        cache = Path(pycache)
        _warm_bytecode(target.driver_args(1), _driver_env(pythonpath, cache), config.timeout_s)
        for pad in config.layouts:
            # two independent processes whose counts do not depend on timing: side by side
            with ThreadPoolExecutor(max_workers=2) as pool:
                runs = [
                    pool.submit(
                        count_instructions,
                        target.driver_args(n, pad),
                        pythonpath,
                        config.timeout_s,
                        None,
                        cache,
                    )
                    for n in (config.requests_low, config.requests_high)
                ]
                low, high = (run.result() for run in runs)
            per_request = (high - low) / (config.requests_high - config.requests_low)
            if per_request <= 0:
                raise InstrumentError(
                    f"{target.key}: {high} - {low} instructions is not a positive count"
                )
            counted.append((per_request, low, high))
    per_request, low, high = sorted(counted)[(len(counted) - 1) // 2]
    return Measurement(target.key, per_request, low, high, [c[0] for c in counted])


def measure_targets(
    targets: list[CountTarget],
    config: InstructionsConfig,
    pythonpath_for: Callable[[CountTarget], str] | None = None,
    on_done: Callable[[Measurement], None] | None = None,
) -> list[Measurement]:
    """Measure each target in turn (`pythonpath_for` default: the app's own directory)."""
    results: list[Measurement] = []
    for target in targets:
        path = pythonpath_for(target) if pythonpath_for else target.app.pythonpath or ""
        result = measure(target, path, config)
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results


def document(
    measurements: list[Measurement], config: InstructionsConfig, meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The `instructions.json` body of one side."""
    return {
        "meta": {
            **meta,
            "valgrind": valgrind_version(),
            "python": sys.version.split()[0],
            "requests_low": config.requests_low,
            "requests_high": config.requests_high,
            "heap_layouts": list(config.layouts),
        },
        "measurements": [m.as_dict() for m in measurements],
    }


def baseline_pythonpath(
    baseline_path: Path, builtin: Iterable[str]
) -> Callable[[CountTarget], str]:
    """For a code path of REV (`checkout.revision_path`): its `apps` and `covet` come first.

    Built-in apps resolve to REV's copy; a user's `--app` keeps its directory, after REV's
    `covet`, so it too runs on REV's framework.
    """
    names = set(builtin)

    def pythonpath(target: CountTarget) -> str:
        if target.app.name in names:
            return str(baseline_path)
        return os.pathsep.join([str(baseline_path), target.app.pythonpath or ""])

    return pythonpath
