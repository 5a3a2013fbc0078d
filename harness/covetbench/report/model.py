"""The views the report draws from the records: facets, the compared concurrency, the fastest.

Charts and tables both go through these helpers so they always agree on which configuration is
"the" one shown for a scenario.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from covetbench.records import LATENCY_METHODS, ConfigKey, ConfigSummary, TrialRecord
from covetbench.run.standing import tied

#: Latency percentiles drawn, as (key in latency_ms, label, percentile).
PERCENTILES: list[tuple[str, str, float]] = [
    ("p50", "p50", 50.0),
    ("p90", "p90", 90.0),
    ("p99", "p99", 99.0),
    ("p999", "p99.9", 99.9),
]


def latency_notes(trials: Iterable[TrialRecord]) -> list[str]:
    """What kind of percentile each generator's latency figures are (wrk's back-filled ones,
    the open loop's from the intended start...), once per generator and method, for the notes
    under every latency table."""
    seen: dict[str, None] = {}
    for t in trials:
        method = t.latency_method
        if method is None:
            text = "how these percentiles were measured was not recorded (an older run)"
        else:
            text = LATENCY_METHODS.get(method, method)
        seen.setdefault(f"{t.loadgen}: {text}")
    return list(seen)


def summary_key(s: ConfigSummary) -> ConfigKey:
    return s.key


def is_flagged(s: ConfigSummary) -> bool:
    """True when any trial of the configuration carries a validity flag, or the configuration
    itself carries one (`unstable`, `too_few_trials`, `implausible`): the opposite of "ok"."""
    return not s.ok


def levels_note(summaries: Iterable[ConfigSummary]) -> str:
    """How sure the intervals drawn together are, for a caption: the weakest one's level.

    "" when every interval reaches 95 %; else e.g. "min-max, 50 %" (never "95 %" below it).
    """
    notes = [s.interval_note for s in summaries]
    unknown = [n for n in notes if n.endswith("level unknown")]
    if unknown:
        return unknown[0]
    weakest = min(
        (s for s in summaries if s.ci_level is not None and s.interval_note),
        key=lambda s: s.ci_level or 0.0,
        default=None,
    )
    return "" if weakest is None else weakest.interval_note


@dataclass(frozen=True)
class Headline:
    """The standing of one scenario: a `winner` only when its interval overlaps no other's,
    else `tied` (every configuration within noise of the leader, the leader first)."""

    leader: ConfigSummary
    winner: ConfigSummary | None
    tied: tuple[ConfigSummary, ...]
    #: winner's median over the runner-up's, minus 1 (None without a winner)
    lead: float | None
    runner_up: ConfigSummary | None
    #: True when every configuration is flagged and the standing is among flagged ones
    all_flagged: bool
    #: the fastest configuration of all when it is flagged and so left out of the standing
    faster_flagged: ConfigSummary | None


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

    def headline(self) -> Headline | None:
        """Who is fastest, if anyone (`validity.tied`): among the unflagged configurations
        (all of them when every one is flagged), each app x server at its best concurrency,
        so a server is never "tied" with itself at another level."""
        if not self.summaries:
            return None
        clean = [s for s in self.summaries if not is_flagged(s)]
        pool = clean or self.summaries
        best: dict[tuple[str, str], ConfigSummary] = {}
        for s in sorted(pool, key=lambda s: s.median_rps, reverse=True):
            best.setdefault((s.app, s.server), s)
        standing = tied({k: (s.median_rps, s.ci_low, s.ci_high) for k, s in best.items()})
        ranked = list(best.values())
        leader = best[standing.tied[0]]
        overall = max(self.summaries, key=lambda s: s.median_rps)
        return Headline(
            leader=leader,
            winner=best[standing.winner] if standing.winner is not None else None,
            tied=tuple(best[k] for k in standing.tied),
            lead=standing.lead,
            runner_up=ranked[1] if len(ranked) > 1 else None,
            all_flagged=not clean,
            faster_flagged=overall if clean and is_flagged(overall) else None,
        )


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


def config_flag_labels(summaries: Iterable[ConfigSummary]) -> dict[str, list[str]]:
    """Each configuration flag that occurred -> the labels of the configurations carrying it."""
    found: dict[str, list[str]] = {}
    for s in summaries:
        for flag in s.config_flags:
            found.setdefault(flag, []).append(s.key.label)
    return {flag: sorted(labels) for flag, labels in sorted(found.items())}


def flag_counts(trials: Iterable[TrialRecord]) -> Counter[str]:
    """How many trials carry each validity flag."""
    return Counter(f for t in trials for f in t.flags)
