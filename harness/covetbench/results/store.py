"""Results on disk: `results.json` (validated against `schema.json`) and `results.csv`.

A run directory holds `results.json`, `results.csv`, `raw/` (generator output per trial) and
`logs/` (server logs). `ResultsWriter` rewrites both files after every record it is handed, each
atomically (temporary file in the same directory, fsync, `os.replace`), so a crash or a Ctrl-C
never leaves a half-written file and never loses a finished trial. Every write is validated
against the schema first: an invalid record raises `ResultsError` and the file on disk keeps its
last valid content.

    meta = collect_meta(sys.argv, {"server_cpus": [0], "loadgen_cpus": [1]}, suite="quick")
    writer = ResultsWriter(Path("reports/run"), meta)
    writer.add_trial(trial)            # results.json + results.csv rewritten
    writer.finish(judge_configs(trials))   # summary (with configuration flags) and meta.ended_at
    data = load_results(Path("reports/run"))
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from covetbench.exceptions import ResultsError
from covetbench.records import (
    CI_METHOD_BOOTSTRAP,
    SCHEMA_VERSION,
    ConfigSummary,
    FailureRecord,
    RatioRecord,
    TrialRecord,
    VerifyRecord,
)
from covetbench.results.files import RESULTS_CSV, RESULTS_JSON
from covetbench.results.meta import utc_now

SCHEMA_FILE = "schema.json"

#: Column order of results.csv; any other flattened field follows these.
_CSV_LEADING = [
    "app",
    "server",
    "scenario",
    "loadgen",
    "concurrency",
    "pipeline",
    "trial",
    "rps",
    "requests",
    "duration_s",
    "error_rate",
    "latency_ms_p50",
    "latency_ms_p90",
    "latency_ms_p99",
    "latency_ms_p999",
    "latency_ms_max",
    "latency_ms_mean",
    "errors_non2xx",
    "errors_connect",
    "errors_read",
    "errors_write",
    "errors_timeout",
    "server_cpu_pct",
    "loadgen_cpu_pct",
    "server_rss_mb",
    "interference_pct",
    "flags",
    "retries",
    "server_cpus",
    "loadgen_cpus",
    "started_at",
    "ended_at",
    "raw_output_file",
]


@functools.cache
def results_schema(schema_file: str = SCHEMA_FILE) -> dict[str, Any]:
    """The JSON Schema of `results.json` (or of another record, e.g. `sweep.schema.json`),
    shipped inside the package."""
    text = resources.files("covetbench.results").joinpath(schema_file).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(schema_file: str = SCHEMA_FILE) -> Any:
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - the bench extra ships it
        raise ResultsError(
            "validating results needs jsonschema: pip install 'covetpy[bench]'"
        ) from exc
    return jsonschema.Draft202012Validator(results_schema(schema_file))


def validate_results(
    data: Mapping[str, Any], source: str = RESULTS_JSON, schema_file: str = SCHEMA_FILE
) -> None:
    """Raise `ResultsError` naming `source` and the JSON path of the first schema violation."""
    errors = sorted(_validator(schema_file).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ResultsError(f"{source}: invalid at {where}: {first.message}{more}")


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old or the new content, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # Make the rename itself durable; not every filesystem lets a directory be opened.
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def trials_to_csv(runs: Iterable[Mapping[str, Any]]) -> str:
    """One row per trial; `latency_ms` and `errors` flattened to `latency_ms_p50`, ...;
    list fields (flags, cpus) joined with `;`."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - the bench extra ships it
        raise ResultsError(
            "writing results.csv needs pandas: pip install 'covetpy[bench]'"
        ) from exc
    rows = list(runs)
    if rows:
        frame = pd.json_normalize(rows, sep="_")
        frame = frame.apply(lambda col: col.map(_csv_cell))
        leading = [c for c in _CSV_LEADING if c in frame.columns]
        frame = frame[leading + [c for c in frame.columns if c not in leading]]
    else:
        frame = pd.DataFrame(columns=_CSV_LEADING)
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


class ResultsWriter:
    """Accumulates one run's records and keeps `results.json` / `results.csv` current on disk.

    Every `add_*` call and `finish` validates the whole document and rewrites both files
    atomically, so the directory always holds every finished trial. `meta` is normally
    `collect_meta(...)`; it must satisfy the schema's `meta` (the constructor writes a first,
    empty `results.json` and raises `ResultsError` if it does not).

        writer = ResultsWriter(out_dir, collect_meta(sys.argv, pinning, suite="quick"))
        writer.add_verify(VerifyRecord("covet", "uvicorn", "json", "pass"))
        writer.add_trial(trial)
        writer.finish(judge_configs(writer.trials))
    """

    def __init__(self, out_dir: Path, meta: Mapping[str, Any]) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.trials: list[TrialRecord] = []
        self._data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "meta": dict(meta),
            "verify": [],
            "failures": [],
            "runs": [],
            "summary": [],
        }
        self._write()

    @property
    def json_path(self) -> Path:
        return self.out_dir / RESULTS_JSON

    @property
    def csv_path(self) -> Path:
        return self.out_dir / RESULTS_CSV

    @property
    def raw_dir(self) -> Path:
        """`raw/`: generator output per trial (created on first use)."""
        path = self.out_dir / "raw"
        path.mkdir(exist_ok=True)
        return path

    @property
    def logs_dir(self) -> Path:
        """`logs/`: server logs (created on first use)."""
        path = self.out_dir / "logs"
        path.mkdir(exist_ok=True)
        return path

    @property
    def data(self) -> dict[str, Any]:
        """The document as last written (do not mutate)."""
        return self._data

    def add_trial(self, trial: TrialRecord) -> None:
        """Record one finished trial and persist it at once."""
        self._append("runs", trial.to_dict())
        self.trials.append(trial)

    def flag_trials(self, flagged: Sequence[bool], flag: str) -> None:
        """Add `flag` to the trials (in the order they were added) where `flagged` is True: for
        flags judged over the whole run, such as `host_slow`."""
        for trial, row, add in zip(self.trials, self._data["runs"], flagged, strict=True):
            if add and flag not in trial.flags:
                trial.flags.append(flag)
                row["flags"] = list(trial.flags)
        self._write()

    def add_verify(self, record: VerifyRecord) -> None:
        self._append("verify", record.to_dict())

    def add_failure(self, record: FailureRecord) -> None:
        self._append("failures", record.to_dict())

    def finish(
        self,
        summary: Sequence[ConfigSummary],
        ratios: Sequence[RatioRecord] = (),
        canary: Mapping[str, Any] | None = None,
    ) -> None:
        """Store the per-configuration statistics, the paired ratios, the canary's summary
        and the end time; may be called again."""
        data, meta = self._data, self._data["meta"]
        previous = (data["summary"], data.get("ratios"), meta.get("ended_at"), meta.get("canary"))
        data["summary"] = [s.to_dict() for s in summary]
        data["ratios"] = [r.to_dict() for r in ratios]
        meta["ended_at"] = utc_now()
        meta["canary"] = dict(canary) if canary is not None else None
        try:
            self._write()
        except ResultsError:
            data["summary"], data["ratios"], meta["ended_at"], meta["canary"] = previous
            raise

    def _append(self, section: str, record: dict[str, Any]) -> None:
        self._data[section].append(record)
        try:
            self._write()
        except ResultsError:
            self._data[section].pop()
            raise

    def _write(self) -> None:
        validate_results(self._data, str(self.json_path))
        try:
            text = json.dumps(self._data, indent=2, allow_nan=False) + "\n"
        except ValueError as exc:  # NaN or infinity: not JSON, and not a measurement
            raise ResultsError(f"{self.json_path}: refusing to write {exc}") from exc
        atomic_write(self.json_path, text)
        atomic_write(self.csv_path, trials_to_csv(self._data["runs"]))


def write_results(out_dir: Path, data: Mapping[str, Any]) -> Path:
    """Validate a whole results document and write `results.json` + `results.csv` atomically.

    For documents assembled elsewhere (e.g. the gate's A/B split); a run uses `ResultsWriter`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RESULTS_JSON
    validate_results(data, str(path))
    try:
        text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    except ValueError as exc:
        raise ResultsError(f"{path}: refusing to write {exc}") from exc
    atomic_write(path, text)
    atomic_write(out_dir / RESULTS_CSV, trials_to_csv(data["runs"]))
    return path


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A results document of an older schema in today's shape; today's returned as it is.

    Schema 1 summaries had `ci95_low`/`ci95_high` from a bootstrap of the median whose level
    was never known (it is [min, max] at n <= 5): they become `ci_low`/`ci_high` with
    `ci_level` None and `ci_method` "bootstrap", and no configuration flags (never judged).
    Fields the old row lacks are left out, so the schema still names what is missing.
    """
    if data.get("schema_version") != 1 or not isinstance(data.get("summary"), list):
        return data
    summary = []
    for row in data["summary"]:
        if isinstance(row, dict) and "ci_low" not in row:
            row = dict(row)
            for old, new in (("ci95_low", "ci_low"), ("ci95_high", "ci_high")):
                if old in row:
                    row[new] = row.pop(old)
            row.setdefault("ci_level", None)
            row.setdefault("ci_method", CI_METHOD_BOOTSTRAP)
            row.setdefault("config_flags", [])
        summary.append(row)
    return {**data, "schema_version": SCHEMA_VERSION, "summary": summary}


def load_results(path: Path) -> dict[str, Any]:
    """Read and validate `results.json` from a run directory (or the file itself); files of an
    older schema are upgraded first (`upgrade`), so every reader sees today's shape.

    Raises `ResultsError` naming the file when it is missing, not JSON, or fails the schema
    (with the JSON path of the failing field, e.g. `runs/3/rps`).
    """
    path = Path(path)
    file = path / RESULTS_JSON if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{file}: not found (is {path} a covet-bench run directory?)") from None
    except OSError as exc:
        raise ResultsError(f"{file}: cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{file}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{file}: invalid at (root): expected an object")
    data = upgrade(data)
    validate_results(data, str(file))
    return data


def trial_records(data: Mapping[str, Any]) -> list[TrialRecord]:
    """The `runs` of a loaded results document as `TrialRecord`s (unknown keys ignored)."""
    fields = set(TrialRecord.__dataclass_fields__)
    return [TrialRecord(**{k: v for k, v in run.items() if k in fields}) for run in data["runs"]]
