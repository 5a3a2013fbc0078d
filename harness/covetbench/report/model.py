"""The views the report draws from the records: facets, the compared concurrency, the fastest.

Charts and tables both go through these helpers so they always agree on which configuration is
"the" one shown for a scenario.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from covetbench.records import ConfigKey, ConfigSummary, TrialRecord

#: Latency percentiles drawn, as (key in latency_ms, label, percentile).
PERCENTILES: list[tuple[str, str, float]] = [
    ("p50", "p50", 50.0),
    ("p90", "p90", 90.0),
    ("p99", "p99", 99.0),
    ("p999", "p99.9", 99.9),
]


def summary_key(s: ConfigSummary) -> ConfigKey:
    return s.key


def is_flagged(s: ConfigSummary) -> bool:
    """True when any trial of the configuration carries a validity flag."""
    return bool(s.flags) or s.valid_trials < s.trials


@dataclass
class Facet:
    """One scenario (per load generator when several were used) and its configurations."""

    label: str
    scenario: str
    loadgen: str
    summaries: list[ConfigSummary]

    @property
    def apps(self) -> list[str]:
        return sorted({s.app for s in self.summaries})

    @property
    def servers(self) -> list[str]:
        return sorted({s.server for s in self.summaries})

    @property
    def levels(self) -> list[int]:
        return sorted({s.concurrency for s in self.summaries})

    @property
    def reference_concurrency(self) -> int:
        """The level most configurations were measured at; on ties the one where they ran
        fastest (median over configurations), so the bars show each server near its peak."""
        counts = Counter(s.concurrency for s in self.summaries)

        def typical(c: int) -> float:
            return statistics.median(s.median_rps for s in self.summaries if s.concurrency == c)

        return max(counts, key=lambda c: (counts[c], typical(c), c))

    def at_reference(self) -> list[ConfigSummary]:
        c = self.reference_concurrency
        return [s for s in self.summaries if s.concurrency == c]

    def fastest(self) -> tuple[ConfigSummary | None, ConfigSummary | None]:
        """(fastest configuration without flags, fastest of all) over every concurrency."""
        ranked = sorted(self.summaries, key=lambda s: s.median_rps, reverse=True)
        valid = next((s for s in ranked if not is_flagged(s)), None)
        return valid, (ranked[0] if ranked else None)


def facets(summaries: Iterable[ConfigSummary]) -> list[Facet]:
    """Group summaries by scenario (and load generator when there are several)."""
    items = list(summaries)
    several_loadgens = len({s.loadgen for s in items}) > 1
    groups: dict[tuple[str, str], list[ConfigSummary]] = {}
    for s in items:
        groups.setdefault((s.scenario, s.loadgen), []).append(s)
    return [
        Facet(
            label=f"{scenario} · {loadgen}" if several_loadgens else scenario,
            scenario=scenario,
            loadgen=loadgen,
            summaries=group,
        )
        for (scenario, loadgen), group in sorted(groups.items())
    ]


def median_of(trials: list[TrialRecord], attr: str) -> float | None:
    values = [float(getattr(t, attr)) for t in trials]
    return statistics.median(values) if values else None


def human_rps(value: float) -> str:
    """12345 -> "12.3k"; short labels for bars."""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def flag_counts(trials: Iterable[TrialRecord]) -> Counter[str]:
    """How many trials carry each validity flag."""
    return Counter(f for t in trials for f in t.flags)
