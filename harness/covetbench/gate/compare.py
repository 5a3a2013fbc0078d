"""The regression gate over two runs: match configurations, judge them as one family, decide.

What each configuration's verdict means is in `covetbench.gate.rule`; the Holm-Bonferroni
correction across configurations in `covetbench.gate.family`; the smallest drop each comparison
could have caught in `covetbench.gate.power`; gate.json and gate.md in `covetbench.gate.render`.

What the gate adds over its parts:

- A configuration of the baseline that the current run did not measure, or measured but also
  recorded as failed (a `FailureRecord` at launch, verify, load or skip) or as failing
  verification, is **missing**: a build that breaks an app must not pass because the broken app
  has nothing to compare. Each is named with the reason the current run gives.
- The exit code (`ExitCode`): 1 (FAILURE) for any regression or missing configuration; else 2
  (ERROR) for errors, nothing comparable, an underpowered or an inconclusive comparison; else 0.

With `GateConfig.paired` (`--paired`), trial i of each side is a pair (interleaved A/B): the
signed-rank test on per-trial log ratios replaces Mann-Whitney; `paired=None` pairs when both
runs carry `meta.ab`. Measured on this 2-core VM (10 interleaved runs, 8 trials a side, CV ~16 %)
pairing lost power against trial-to-trial noise (a 29 % slowdown caught 9/10 unpaired, 7/10
paired, 0/10 false alarms either way), so it is not the default.

    outcome = compare_dirs(Path("base"), Path("cur"), GateConfig(threshold_pct=5, alpha=0.01))
    outcome.exit_code   # 0 / 1 / 2
    write_outputs(outcome, Path("cur"))   # gate.json + gate.md (covetbench.gate.render)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.exceptions import ExitCode
from covetbench.gate.family import judge_family
from covetbench.gate.rule import BLOCKING_FLAGS, Comparison, measure_samples

# re-exported: readers of two runs (report/) take the rule's configuration from here
from covetbench.gate.rule import GateConfig as GateConfig
from covetbench.records import ConfigKey
from covetbench.results.meta import utc_now
from covetbench.results.store import load_results, trial_records
from covetbench.stats import group_by_key
from covetbench.verdicts import (
    ERROR,
    FAIL,
    GATE_INCONCLUSIVE,
    INCONCLUSIVE,
    MISSING,
    PASS,
    REGRESSION,
    UNDERPOWERED,
)

#: how many configurations a headline names before "and N more"
HEADLINE_NAMES = 5


def _names(labels: list[str]) -> str:
    shown = ", ".join(labels[:HEADLINE_NAMES])
    rest = len(labels) - HEADLINE_NAMES
    return shown + (f" and {rest} more" if rest > 0 else "")


@dataclass
class MissingConfig:
    """A baseline configuration the current run lacks or failed: a row of `gate.json["missing"]`."""

    key: ConfigKey
    reason: str
    verdict: str = MISSING

    def to_dict(self) -> dict[str, Any]:
        return {**self.key._asdict(), "verdict": self.verdict, "reason": self.reason}


@dataclass
class GateOutcome:
    """Everything the gate decided; `to_dict` is `gate.json`."""

    baseline: str
    current: str
    config: GateConfig
    comparisons: list[Comparison]
    missing: list[MissingConfig]
    current_only: list[dict[str, Any]]
    baseline_commit: str | None = None
    current_commit: str | None = None
    errors: list[str] = field(default_factory=list)

    def with_verdict(self, verdict: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == verdict]

    @property
    def regressions(self) -> list[Comparison]:
        return self.with_verdict(REGRESSION)

    @property
    def family_size(self) -> int:
        return len(self.comparisons)

    @property
    def exit_code(self) -> int:
        if self.regressions or self.missing:
            return ExitCode.FAILURE
        if self.errors or not self.comparisons:
            return ExitCode.ERROR
        if self.with_verdict(UNDERPOWERED) or self.with_verdict(GATE_INCONCLUSIVE):
            return ExitCode.ERROR
        return ExitCode.OK

    @property
    def headline(self) -> str:
        n = len(self.comparisons)
        failed = []
        if self.missing:
            names = _names([f"{m.key.label} ({m.reason})" for m in self.missing])
            many = "s" if len(self.missing) > 1 else ""
            failed.append(f"{len(self.missing)} baseline configuration{many} missing: {names}")
        if self.regressions:
            names = _names([c.key.label for c in self.regressions])
            failed.append(f"{len(self.regressions)} of {n} configurations regressed: {names}")
        if failed:
            return f"{FAIL}: " + "; ".join(failed)
        if self.errors and not self.comparisons:
            return f"{ERROR}: " + "; ".join(self.errors)
        if not self.comparisons:
            return f"{ERROR}: nothing comparable between baseline and current"
        weak = self.with_verdict(UNDERPOWERED)
        if weak:
            return f"{ERROR}: {len(weak)} of {n} comparisons are underpowered: {weak[0].note}"
        flagged = self.with_verdict(GATE_INCONCLUSIVE)
        if flagged:
            names = _names([f"{c.key.label} ({', '.join(c.blocking_flags)})" for c in flagged])
            return f"{INCONCLUSIVE}: {len(flagged)} of {n} comparisons flagged: {names}"
        seen = [c.detectable_change_pct for c in self.comparisons]
        known = [d for d in seen if d is not None]
        rules_out = ""
        if known:
            low, high = min(known), max(known)
            span = f"{low:g}%" if low == high else f"{low:g}-{high:g}%"
            rules_out = f"; it would have caught drops of {span} (80% power)"
        return (
            f"{PASS}: no regression beyond {self.config.threshold_pct:g}% in {n} configurations "
            f"(Holm-Bonferroni over {n}){rules_out}"
        )

    def to_dict(self) -> dict[str, Any]:
        from covetbench.gate.power import METHOD

        return {
            "baseline": self.baseline,
            "current": self.current,
            "baseline_commit": self.baseline_commit,
            "current_commit": self.current_commit,
            "threshold_pct": self.config.threshold_pct,
            "alpha": self.config.alpha,
            "confidence": self.config.confidence,
            "family_size": self.family_size,
            "correction": "holm-bonferroni",
            "metric": "rps",
            "rule": (
                "regression when the one-sided test (Mann-Whitney; Wilcoxon signed-rank on "
                "paired A/B trials), Holm-adjusted over the family, gives p < alpha AND the "
                "ratio of medians < 1 - threshold AND the bootstrap interval of the ratio lies "
                f"below 1; a comparison flagged {', '.join(sorted(BLOCKING_FLAGS))} is "
                "inconclusive unless adjusted p < alpha AND the whole interval lies below "
                "1 - threshold; a baseline configuration missing, failed or unverified in "
                "the current run fails"
            ),
            "detectable_change_method": METHOD,
            "generated_at": utc_now(),
            "headline": self.headline,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "missing": [m.to_dict() for m in self.missing],
            "current_only": self.current_only,
            "errors": self.errors,
            "exit_code": self.exit_code,
        }


def _config_flags(results: Mapping[str, Any]) -> set[tuple[ConfigKey, str]]:
    """(key, flag) for every configuration flag in a results document's summary."""
    return {
        (ConfigKey.of(row), str(flag))
        for row in results.get("summary") or []
        for flag in row.get("config_flags") or []
    }


def failure_reasons(current: Mapping[str, Any], key: ConfigKey) -> list[str]:
    """Why the current run could not be trusted to have measured `key`: its failure records
    (a pair-level one, scenario null, covers every scenario) and failed verifications."""
    reasons = []
    for row in current.get("failures") or []:
        if (row["app"], row["server"]) != (key.app, key.server):
            continue
        if row.get("scenario") in (None, key.scenario):
            reasons.append(f"{row['stage']} failed: {row['reason']}")
    for row in current.get("verify") or []:
        same = (row["app"], row["server"], row["scenario"]) == key[:3]
        if same and row.get("status") == "fail":
            reasons.append("verification failed: " + "; ".join(row.get("reasons") or []))
    return reasons


def compare_results(
    baseline: Mapping[str, Any],
    current: Mapping[str, Any],
    config: GateConfig,
    baseline_label: str = "baseline",
    current_label: str = "current",
) -> GateOutcome:
    """Compare two loaded `results.json` documents (see `load_results`)."""
    base_groups = group_by_key(trial_records(baseline))
    cur_groups = group_by_key(trial_records(current))
    paired = config.paired
    if paired is None:
        paired = bool(baseline["meta"].get("ab")) and bool(current["meta"].get("ab"))
    config_flags = _config_flags(baseline) | _config_flags(current)
    comparisons: list[Comparison] = []
    missing: list[MissingConfig] = []
    errors: list[str] = []
    for key, base_trials in base_groups.items():
        reasons = failure_reasons(current, key)
        cur_trials = cur_groups.get(key)
        if cur_trials is None and not reasons:
            reasons = ["not in the current run"]
        if reasons or cur_trials is None:
            missing.append(MissingConfig(key, "; ".join(reasons)))
            continue
        flags = {f for t in [*base_trials, *cur_trials] for f in t.flags}
        flags |= {flag for side_key, flag in config_flags if side_key == key}
        if paired:
            base_by = {t.trial: t.rps for t in base_trials}
            cur_by = {t.trial: t.rps for t in cur_trials}
            common = sorted(set(base_by) & set(cur_by))
            base_rps, cur_rps = [base_by[i] for i in common], [cur_by[i] for i in common]
        else:
            base_rps, cur_rps = [t.rps for t in base_trials], [t.rps for t in cur_trials]
        if not base_rps:
            errors.append(f"{key.label}: no trial numbers in common to pair")
            continue
        comparisons.append(measure_samples(key, base_rps, cur_rps, config, list(flags), paired))
    judge_family(comparisons, config)
    return GateOutcome(
        baseline=baseline_label,
        current=current_label,
        config=config,
        comparisons=comparisons,
        missing=missing,
        current_only=[k._asdict() for k in cur_groups if k not in base_groups],
        baseline_commit=baseline["meta"].get("git_commit"),
        current_commit=current["meta"].get("git_commit"),
        errors=errors,
    )


def compare_dirs(baseline_dir: Path, current_dir: Path, config: GateConfig) -> GateOutcome:
    """Load and compare two run directories; missing or invalid results raise `ResultsError`."""
    baseline = load_results(baseline_dir)
    current = load_results(current_dir)
    return compare_results(baseline, current, config, str(baseline_dir), str(current_dir))


def error_outcome(baseline: str, current: str, config: GateConfig, message: str) -> GateOutcome:
    """An outcome carrying only an error (exit code 2), so gate.json is written even then."""
    return GateOutcome(baseline, current, config, [], [], [], errors=[message])
