"""Run history: each `covet-bench run`'s summary, one JSON line per run, keyed by git commit.

The runner appends to `history.jsonl` beside its run directory (`reports/history.jsonl` for a
run in `reports/<stamp>-<suite>/`; `$COVETBENCH_HISTORY` overrides). The report reads it back
and draws median requests/s per configuration across commits.

    append_run(Path("reports/20261127T120000Z-quick"), results)   # -> reports/history.jsonl
    entries = load_history(Path("reports/history.jsonl"))
    series = trend_series(entries)   # {"covet/uvicorn/json c64": [("1c11b5f", 51234.0), ...]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from covetbench.records import KEY_FIELDS, ConfigKey
from covetbench.results.files import HISTORY_JSONL, RESULTS_JSON
from covetbench.results.store import upgrade

#: summary fields kept per configuration (the rest stays in the run's results.json)
_KEPT = (*KEY_FIELDS, "trials", "valid_trials", "ci_method", "config_flags")
_KEPT_FLOATS = ("median_rps", "ci_low", "ci_high", "ci_level", "cv")


def history_path(run_dir: Path) -> Path:
    """Where the history of runs like `run_dir` lives."""
    override = os.environ.get("COVETBENCH_HISTORY")
    return Path(override) if override else Path(run_dir).resolve().parent / HISTORY_JSONL


def history_entry(run_dir: Path, results: Mapping[str, Any]) -> dict[str, Any]:
    """One line of history from a run's `results.json` body."""
    meta = results.get("meta") or {}
    configs = []
    for row in results.get("summary") or []:
        item = {k: row.get(k) for k in _KEPT}
        item.update({k: row.get(k) for k in _KEPT_FLOATS})
        item["flagged"] = bool(row.get("flags") or row.get("config_flags"))
        configs.append(item)
    return {
        "git_commit": meta.get("git_commit"),
        "git_dirty": meta.get("git_dirty"),
        "started_at": meta.get("started_at"),
        "ended_at": meta.get("ended_at"),
        "suite": meta.get("suite"),
        "run_dir": str(run_dir),
        "summary": configs,
    }


def append_run(run_dir: Path, results: Mapping[str, Any], path: Path | None = None) -> Path:
    """Append the run's summary to the history file (created on first use); return its path."""
    target = path or history_path(run_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(history_entry(run_dir, results), allow_nan=False, sort_keys=True)
    # one write of one line in append mode: concurrent runs cannot interleave within a line
    with target.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
    return target


def record_run(run_dir: Path) -> Path | None:
    """Append the run in `run_dir` (its `results.json`) to the history; None if it has none."""
    try:
        results = upgrade(json.loads((Path(run_dir) / RESULTS_JSON).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None
    return append_run(Path(run_dir), results)


def load_history(path: Path) -> list[dict[str, Any]]:
    """Every readable entry, oldest first; a damaged line is skipped, a missing file is []."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    entries: list[dict[str, Any]] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("summary"), list):
            entries.append(entry)
    return entries


def config_label(row: Mapping[str, Any]) -> str:
    try:
        return ConfigKey.of(row).label
    except (KeyError, TypeError, ValueError):  # a damaged row: label it as it stands
        return "/".join(str(row.get(k)) for k in KEY_FIELDS)


def trend_series(entries: list[dict[str, Any]]) -> dict[str, list[tuple[str, float]]]:
    """Median requests/s per configuration, one point per commit (its latest run), in order."""
    commits: list[str] = []
    latest: dict[str, dict[str, float]] = {}
    for entry in entries:
        commit = str(entry.get("git_commit") or "unknown")[:12]
        if entry.get("git_dirty"):
            commit += "+"
        if commit in commits:
            commits.remove(commit)  # a re-run moves the commit to where it was last measured
        commits.append(commit)
        values = latest.setdefault(commit, {})
        for row in entry["summary"]:
            rps = row.get("median_rps")
            if isinstance(rps, int | float) and rps == rps:
                values[config_label(row)] = float(rps)
    series: dict[str, list[tuple[str, float]]] = {}
    for commit in commits:
        for label, rps in latest[commit].items():
            series.setdefault(label, []).append((commit, rps))
    return series
