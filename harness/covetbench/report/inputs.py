"""Read whatever a run directory holds into one `ReportInputs`, noting what is missing.

A report directory may hold `results.json` (from `run`), `conformance.json` (from `conform`),
`claims.json` (from `claims`) and `gate.json` (from `gate`). Each is optional; a file that
cannot be read becomes a note shown in the report rather than an exception, so one broken input
never hides the others. Only when nothing at all is usable does `load_inputs` raise
`ResultsError`.

    inputs = load_inputs(Path("reports/run"), baseline=Path("reports/main"))
    inputs.summaries      # list[ConfigSummary]
    inputs.missing        # ["conformance.json", ...]
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from covetbench.exceptions import ResultsError
from covetbench.records import (
    ConfigSummary,
    FailureRecord,
    RatioRecord,
    TrialRecord,
    VerifyRecord,
)
from covetbench.results.files import (
    CLAIMS_JSON,
    CONFORMANCE_JSON,
    GATE_JSON,
    RESULTS_JSON,
    SWEEP_JSON,
)
from covetbench.results.store import load_results, trial_records
from covetbench.results.sweeps import load_sweep
from covetbench.run.ratios import paired_ratios, ratio_records
from covetbench.run.validity import judge_configs, max_cv_of

#: What produces each input, shown next to a missing one.
PRODUCERS: dict[str, str] = {
    RESULTS_JSON: "covet-bench run --out DIR",
    CONFORMANCE_JSON: "covet-bench conform --out DIR",
    CLAIMS_JSON: "covet-bench claims --out DIR",
    GATE_JSON: "covet-bench gate --baseline DIR --current DIR",
    SWEEP_JSON: "covet-bench sweep --out DIR",
}

_R = TypeVar("_R")


@dataclass
class ReportInputs:
    """Everything the report draws from, already parsed into the harness's records."""

    directory: Path
    meta: dict[str, Any] = field(default_factory=dict)
    trials: list[TrialRecord] = field(default_factory=list)
    summaries: list[ConfigSummary] = field(default_factory=list)
    #: paired ratios (`run.ratios`): from results.json, or computed from the trials
    ratios: list[RatioRecord] = field(default_factory=list)
    verify: list[VerifyRecord] = field(default_factory=list)
    failures: list[FailureRecord] = field(default_factory=list)
    conformance: dict[str, Any] | None = None
    claims: dict[str, Any] | None = None
    gate: dict[str, Any] | None = None
    sweep: dict[str, Any] | None = None
    baseline_dir: Path | None = None
    baseline_trials: list[TrialRecord] = field(default_factory=list)
    baseline_summaries: list[ConfigSummary] = field(default_factory=list)
    #: input files that are absent, in the order of PRODUCERS
    missing: list[str] = field(default_factory=list)
    #: problems worth a warning on the page (unreadable files, unfinished runs)
    problems: list[str] = field(default_factory=list)

    @property
    def has_results(self) -> bool:
        return bool(self.trials or self.summaries or self.verify or self.failures or self.meta)

    @property
    def is_empty(self) -> bool:
        return not (self.has_results or self.conformance or self.claims or self.gate or self.sweep)


def _record(cls: type[_R], data: Any) -> _R:
    """Build a record from a dict, ignoring fields the record does not know (newer writers)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object at the top level")
    return data


def _load_results_into(inputs: ReportInputs, directory: Path, *, baseline: bool) -> None:
    data = load_results(directory)
    trials = trial_records(data)
    summaries = [_record(ConfigSummary, s) for s in data["summary"]]
    if trials and not summaries:
        summaries = judge_configs(trials, max_cv=max_cv_of(data["meta"]))
        which = "the baseline's results.json" if baseline else "results.json"
        inputs.problems.append(
            f"{which} has trials but no summary (the run did not finish): medians are computed "
            "from the trials"
        )
    if baseline:
        inputs.baseline_trials = trials
        inputs.baseline_summaries = summaries
        return
    inputs.meta = dict(data["meta"])
    inputs.trials = trials
    inputs.summaries = summaries
    rows = data.get("ratios")
    inputs.ratios = ratio_records(rows) if rows else paired_ratios(trials, summaries)
    inputs.verify = [_record(VerifyRecord, v) for v in data["verify"]]
    inputs.failures = [_record(FailureRecord, f) for f in data["failures"]]


def load_inputs(directory: Path, baseline: Path | None = None) -> ReportInputs:
    """Read every report input found in `directory` (and results from `baseline`).

    Raises `ResultsError` when the directory does not exist or holds nothing usable.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ResultsError(f"{directory}: not a directory")
    inputs = ReportInputs(directory=directory, baseline_dir=baseline)
    for name in PRODUCERS:
        path = directory / name
        if not path.exists():
            inputs.missing.append(name)
            continue
        try:
            if name == RESULTS_JSON:
                _load_results_into(inputs, directory, baseline=False)
            elif name == CONFORMANCE_JSON:
                inputs.conformance = _read_json(path)
            elif name == CLAIMS_JSON:
                inputs.claims = _read_json(path)
            elif name == SWEEP_JSON:
                inputs.sweep = load_sweep(directory)
            else:
                inputs.gate = _read_json(path)
        except (ResultsError, TypeError, KeyError) as exc:
            inputs.problems.append(f"{name} could not be used: {exc}")
    if baseline is not None:
        try:
            _load_results_into(inputs, Path(baseline), baseline=True)
        except (ResultsError, TypeError, KeyError) as exc:
            inputs.problems.append(f"baseline could not be used: {exc}")
    if inputs.is_empty:
        found = ", ".join(PRODUCERS)
        detail = "; ".join(inputs.problems)
        raise ResultsError(
            f"{directory}: nothing to report: none of {found} is usable"
            + (f" ({detail})" if detail else "")
        )
    return inputs
