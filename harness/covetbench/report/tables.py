"""Tables as escaped HTML, built with pandas (`DataFrame` + `Styler`).

Every cell and header goes through Styler's HTML escaping, so names, reasons and versions from
results files render as text. Numbers are formatted here, in one place, and right-aligned.
Tables whose cells must expand (evidence, log tails) are drawn by the template instead.

    tables.headline_table(facets)   # Markup('<style>...</style><table ...>')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from markupsafe import Markup

from covetbench.records import (
    ALL_FLAG_DESCRIPTIONS,
    ConfigKey,
    ConfigSummary,
    TrialRecord,
    VerifyRecord,
)
from covetbench.report.compare import BaselineView
from covetbench.report.model import Facet, flag_counts, is_flagged, median_of
from covetbench.report.palette import STATUS_COLOURS
from covetbench.report.views import CONFORMANCE_STATUSES, DASH

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - the bench extra ships it
    raise ImportError("the report needs pandas: pip install 'covetpy[bench]'") from exc


def _num(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return DASH
    return f"{value:,.{digits}f}{suffix}"


def _ms(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _table(
    name: str,
    rows: Sequence[dict[str, Any]],
    *,
    numeric: Iterable[str] = (),
    colour: tuple[str, Callable[[Any], str]] | None = None,
    row_class: Callable[[int], str] | None = None,
) -> Markup:
    """Render rows (dicts with the same keys, values already formatted) as one escaped table."""
    frame = pd.DataFrame(list(rows))
    styler = (
        frame.style.set_uuid(name)
        .format(escape="html", na_rep=DASH)
        .format_index(escape="html", axis=1)
        .hide(axis="index")
        .set_table_attributes(f'class="data t-{name}"')
    )
    right = [c for c in numeric if c in frame.columns]
    if right:
        styler = styler.set_properties(
            subset=right, **{"text-align": "right", "white-space": "nowrap"}
        )
    if colour is not None and colour[0] in frame.columns:
        column, pick = colour
        styler = styler.map(
            lambda v: f"background-color: {pick(v)}" if pick(v) else "", subset=[column]
        )
    if row_class is not None:
        classes = pd.DataFrame(
            [[row_class(i)] * len(frame.columns) for i in range(len(frame))],
            index=frame.index,
            columns=frame.columns,
        )
        styler = styler.set_td_classes(classes)
    # the wrapper scrolls sideways instead of widening the page when names are long
    return Markup('<div class="table-wrap">') + Markup(styler.to_html()) + Markup("</div>")


#: `_table` for the report's other table modules
html_table = _table


def _status_colour(value: Any) -> str:
    return STATUS_COLOURS.get(str(value), "")


def interval_text(s: ConfigSummary) -> str:
    """`19,300 – 21,000`, with the level where it is below 95 %: `… (min-max, 75 %)`."""
    note = s.interval_note
    return f"{_num(s.ci_low)} – {_num(s.ci_high)}" + (f" ({note})" if note else "")


def _name(s: ConfigSummary) -> str:
    return f"{s.app} · {s.server}"


def headline_rows(facets: list[Facet]) -> list[dict[str, Any]]:
    """One row per scenario: the fastest configuration without flags when its interval stands
    clear of every other ("tied within noise" and the tied set otherwise), and what to doubt."""
    rows = []
    for facet in facets:
        head = facet.headline()
        if head is None:
            continue
        best = head.leader
        note = "clean"
        if head.all_flagged:
            note = f"every configuration flagged ({', '.join(best.all_flags)})"
        elif head.faster_flagged is not None:
            overall = head.faster_flagged
            note = (
                f"{_name(overall)} measured faster "
                f"({_num(overall.median_rps)}/s) but is flagged: {', '.join(overall.all_flags)}"
            )
        if head.winner is not None:
            fastest = _name(head.winner)
            runner = head.runner_up
            lead = _num(head.lead * 100, 1, "%") if head.lead is not None else DASH
        else:
            fastest = "tied within noise: " + ", ".join(_name(s) for s in head.tied)
            runner = None
            lead = "tied"
        rows.append(
            {
                "Scenario": facet.label,
                "Fastest (app · server)": fastest,
                "Conns": best.concurrency,
                "Requests/s": _num(best.median_rps),
                "Interval": interval_text(best),
                "p99 ms": _ms(best.median_latency_ms.get("p99")),
                "Runner-up": _name(runner) if runner else DASH,
                "Lead": lead,
                "Validity": note,
            }
        )
    return rows


def headline_table(facets: list[Facet]) -> Markup:
    rows = headline_rows(facets)
    return _table(
        "headline",
        rows,
        numeric=["Conns", "Requests/s", "Interval", "p99 ms", "Lead"],
        row_class=lambda i: "" if rows[i]["Validity"] == "clean" else "flagged",
    )


def configs_table(
    summaries: list[ConfigSummary], trials: dict[ConfigKey, list[TrialRecord]]
) -> Markup:
    """Every configuration, fastest first within each scenario."""
    ordered = sorted(summaries, key=lambda s: (s.scenario, s.loadgen, s.concurrency, -s.median_rps))
    rows = []
    for s in ordered:
        group = trials.get(s.key, [])
        cpu = median_of(group, "server_cpu_pct")
        per_core = s.median_rps / (cpu / 100.0) if cpu else None
        rows.append(
            {
                "Scenario": s.scenario,
                "App": s.app,
                "Server": s.server,
                "Loadgen": s.loadgen,
                "Conns": s.concurrency,
                "Requests/s": _num(s.median_rps),
                "Interval": interval_text(s),
                "CV": _num(s.cv * 100, 1, "%"),
                "p50 ms": _ms(s.median_latency_ms.get("p50")),
                "p99 ms": _ms(s.median_latency_ms.get("p99")),
                "p99.9 ms": _ms(s.median_latency_ms.get("p999")),
                "CPU %": _num(cpu),
                "Req/s per core": _num(per_core),
                "RSS MB": _num(median_of(group, "server_rss_mb"), 1),
                "Clean trials": f"{s.valid_trials}/{s.trials}",
                "Flags": ", ".join(s.all_flags) or "ok",
            }
        )
    numeric = ["Conns", "Requests/s", "Interval", "CV", "p50 ms", "p99 ms", "p99.9 ms"]
    numeric += ["CPU %", "Req/s per core", "RSS MB", "Clean trials"]
    return _table(
        "configs",
        rows,
        numeric=numeric,
        row_class=lambda i: "flagged" if is_flagged(ordered[i]) else "",
    )


def _configurations(labels: set[str]) -> str:
    shown = sorted(labels)
    return ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")


def flags_table(
    trials: list[TrialRecord], summaries: Sequence[ConfigSummary] = ()
) -> Markup | None:
    """Each flag that occurred, trial and configuration flags alike: what it means in plain
    words, how often and where it occurred."""
    counts = flag_counts(trials)
    config_counts = Counter(f for s in summaries for f in s.config_flags)
    if not counts and not config_counts:
        return None
    rows = []
    for flag, n in counts.most_common():
        configs = {
            f"{t.app} · {t.server} · {t.scenario} · c{t.concurrency}"
            for t in trials
            if flag in t.flags
        }
        rows.append(
            {
                "Flag": flag,
                "What it means": ALL_FLAG_DESCRIPTIONS.get(
                    flag, "not described by this version of covet-bench"
                ),
                "Trials": n,
                "Configurations": _configurations(configs),
            }
        )
    for flag, n in config_counts.most_common():
        configs = {
            f"{s.app} · {s.server} · {s.scenario} · c{s.concurrency}"
            for s in summaries
            if flag in s.config_flags
        }
        rows.append(
            {
                "Flag": flag,
                "What it means": ALL_FLAG_DESCRIPTIONS.get(
                    flag, "not described by this version of covet-bench"
                ),
                "Trials": f"{n} config(s)",
                "Configurations": _configurations(configs),
            }
        )
    return _table("flags", rows, numeric=["Trials"])


def versions_table(meta: dict[str, Any]) -> Markup | None:
    """Versions as (group, name, version) rows; absent distributions shown as not installed."""
    versions = meta.get("versions")
    if not isinstance(versions, dict):
        return None
    rows = []
    for group, value in versions.items():
        if isinstance(value, dict):
            for name, version in sorted(value.items()):
                rows.append({"Kind": group, "Name": name, "Version": version or "not installed"})
        else:
            rows.append({"Kind": "runtime", "Name": group, "Version": value})
    return _table("versions", rows) if rows else None


def verify_table(records: list[VerifyRecord]) -> Markup | None:
    bad = [r for r in records if r.status != "pass"]
    if not bad:
        return None
    rows = [
        {
            "Status": r.status.upper(),
            "App": r.app,
            "Server": r.server,
            "Scenario": r.scenario,
            "Reasons": "; ".join(r.reasons) or DASH,
        }
        for r in sorted(bad, key=lambda r: (r.status != "fail", r.app, r.server, r.scenario))
    ]
    return _table(
        "verify",
        rows,
        colour=(
            "Status",
            lambda v: {"FAIL": STATUS_COLOURS["FAIL"], "WARN": STATUS_COLOURS["INCONCLUSIVE"]}.get(
                v, ""
            ),
        ),
    )


def conformance_table(counts: list[dict[str, Any]]) -> Markup:
    """Per server: checks by status, and MUST-level failures (the ones that break apps)."""
    return _table(
        "conformance-summary",
        counts,
        numeric=[*CONFORMANCE_STATUSES, "MUST failures"],
        colour=("MUST failures", lambda v: STATUS_COLOURS["FAIL"] if v else STATUS_COLOURS["PASS"]),
    )


def baseline_table(view: BaselineView) -> Markup | None:
    if not view.comparisons:
        return None
    ordered = sorted(view.comparisons, key=lambda c: c.ratio)
    rows = [
        {
            "Configuration": c.label,
            "Baseline req/s": _num(c.baseline_median),
            "Current req/s": _num(c.current_median),
            "Change": f"{c.delta_pct:+.1f}%",
            "Bootstrap interval": (
                f"{(c.ci_low - 1) * 100:+.1f}% … {(c.ci_high - 1) * 100:+.1f}%"
                if c.ci_low is not None and c.ci_high is not None
                else DASH
            ),
            "p-value": f"{c.p_value:.3g}" if c.p_value is not None else DASH,
            "Verdict": c.verdict,
            "Note": c.note or DASH,
        }
        for c in ordered
    ]
    return _table(
        "baseline",
        rows,
        numeric=["Baseline req/s", "Current req/s", "Change", "Bootstrap interval", "p-value"],
        colour=("Verdict", _status_colour),
    )
