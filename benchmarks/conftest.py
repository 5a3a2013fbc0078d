"""Shared set-up for the microbenchmarks: peer apps, in-process drivers, the summary table.

Every timed round is a batch of `asgi_driver.BATCH` (1000) sequential requests, so a round's
time in milliseconds reads directly as microseconds per request. The summary printed at the
end gives µs per request (best round and median round) and covet's ratio to Starlette.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
for path in (ROOT / "scenarios", BENCH_DIR):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from asgi_driver import RESULTS, AsgiDriver  # noqa: E402


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Module | None:
    # `pytest benchmarks/` under the repo's own config (python_files = test_*.py) still
    # collects bench_*.py; with `-c benchmarks/pytest.ini` pytest collects them itself.
    patterns = parent.config.getini("python_files")
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        if not any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
            return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def drivers() -> Iterator[dict[str, AsgiDriver]]:
    """One started driver per app name, created on first use, closed at the end."""
    cache: dict[str, AsgiDriver] = {}
    yield cache
    for driver in cache.values():
        driver.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("µs per request (in-process, sequential; best / median round)")
    for name in sorted(RESULTS):
        figures = RESULTS[name]
        write(f"{name:<40} {figures['min']:8.2f} {figures['median']:8.2f}")
    for name in sorted(RESULTS):
        kind, app, rest = name.split(" ", 2)
        peer = f"{kind} starlette {rest}"
        if app.startswith("covet") and peer in RESULTS:
            ratio = RESULTS[name]["min"] / RESULTS[peer]["min"]
            write(f"ratio {app} / starlette, {kind} {rest}: {ratio:.2f}x (best rounds)")
