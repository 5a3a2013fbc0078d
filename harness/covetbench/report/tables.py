"""Tables as escaped HTML, built with pandas (`DataFrame` + `Styler`).

Every cell and header goes through Styler's HTML escaping, so names, reasons and versions from
results files render as text. Numbers are formatted here, in one place, and right-aligned.
Tables whose cells must expand (evidence, log tails) are drawn by the template instead.

    tables.headline_table(facets)   # Markup('<style>...</style><table ...>')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from markupsafe import Markup

from covetbench.records import (
    FLAG_DESCRIPTIONS,
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


def _status_colour(value: Any) -> str:
    return STATUS_COLOURS.get(str(value), "")


def headline_rows(facets: list[Facet]) -> list[dict[str, Any]]:
    """One row per scenario: the fastest configuration without flags, and what to doubt."""
    rows = []
    for facet in facets:
        valid, overall = facet.fastest()
        best = valid or overall
        if best is None:
            continue
        others = sorted(
            (s for s in facet.summaries if (s.app, s.server) != (best.app, best.server)),
            key=lambda s: s.median_rps,
            reverse=True,
        )
        runner = others[0] if others else None
        note = "clean"
        if valid is None:
            note = f"every configuration flagged ({', '.join(best.flags)})"
        elif overall is not None and overall is not valid:
            note = (
                f"{overall.app} · {overall.server} measured faster "
                f"({_num(overall.median_rps)}/s) but is flagged: {', '.join(overall.flags)}"
            )
        elif best.flags:
            note = ", ".join(best.flags)
        rows.append(
            {
                "Scenario": facet.label,
                "Fastest (app · server)": f"{best.app} · {best.server}",
                "Conns": best.concurrency,
                "Requests/s": _num(best.median_rps),
                "95% interval": f"{_num(best.ci95_low)} – {_num(best.ci95_high)}",
                "p99 ms": _ms(best.median_latency_ms.get("p99")),
                "Runner-up": f"{runner.app} · {runner.server}" if runner else DASH,
                "Lead": _num((best.median_rps / runner.median_rps - 1) * 100, 1, "%")
                if runner and runner.median_rps
                else DASH,
                "Validity": note,
            }
        )
    return rows


def headline_table(facets: list[Facet]) -> Markup:
    rows = headline_rows(facets)
    return _table(
        "headline",
        rows,
        numeric=["Conns", "Requests/s", "95% interval", "p99 ms", "Lead"],
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
                "95% interval": f"{_num(s.ci95_low)} – {_num(s.ci95_high)}",
                "CV": _num(s.cv * 100, 1, "%"),
                "p50 ms": _ms(s.median_latency_ms.get("p50")),
                "p99 ms": _ms(s.median_latency_ms.get("p99")),
                "p99.9 ms": _ms(s.median_latency_ms.get("p999")),
                "CPU %": _num(cpu),
                "Req/s per core": _num(per_core),
                "RSS MB": _num(median_of(group, "server_rss_mb"), 1),
                "Clean trials": f"{s.valid_trials}/{s.trials}",
                "Flags": ", ".join(s.flags) or DASH,
            }
        )
    numeric = ["Conns", "Requests/s", "95% interval", "CV", "p50 ms", "p99 ms", "p99.9 ms"]
    numeric += ["CPU %", "Req/s per core", "RSS MB", "Clean trials"]
    return _table(
        "configs",
        rows,
        numeric=numeric,
        row_class=lambda i: "flagged" if is_flagged(ordered[i]) else "",
    )


def flags_table(trials: list[TrialRecord]) -> Markup | None:
    """Each flag that occurred: what it means in plain words and where it occurred."""
    counts = flag_counts(trials)
    if not counts:
        return None
    rows = []
    for flag, n in counts.most_common():
        configs = sorted(
            {
                f"{t.app} · {t.server} · {t.scenario} · c{t.concurrency}"
                for t in trials
                if flag in t.flags
            }
        )
        shown = ", ".join(configs[:6]) + (
            f" and {len(configs) - 6} more" if len(configs) > 6 else ""
        )
        rows.append(
            {
                "Flag": flag,
                "What it means": FLAG_DESCRIPTIONS.get(
                    flag, "not described by this version of covet-bench"
                ),
                "Trials": n,
                "Configurations": shown,
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
            "95% interval": (
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
        numeric=["Baseline req/s", "Current req/s", "Change", "95% interval", "p-value"],
        colour=("Verdict", _status_colour),
    )
