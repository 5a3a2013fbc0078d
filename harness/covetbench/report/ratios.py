"""The paired comparisons and the servers' steadiness, as the page and summary.md show them.

Ratios (`results.json["ratios"]`, `covetbench.run.ratios`) are what users read off a run:
"covet keeps 96 % [91-101 %] of raw ASGI on uvicorn". Each comes with its interval and, below
95 %, the level it actually has; a flagged ratio says why. The forest plot draws every ratio
with its interval against the 100 % line.

Stability is a figure of its own: per server, the median coefficient of variation of its
configurations' trials. A user picking a server cares how steady it is, not only how fast.

    ratios_chart(ratios)       # Chart | None
    stability_rows(summaries)  # [{"Server": "uvicorn", "Median CV": "12.1 %", ...}]
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from covetbench.records import FLAG_UNSTABLE, ConfigSummary, RatioRecord
from covetbench.report.palette import NEUTRAL_COLOUR
from covetbench.report.svg import FULL_WIDTH, Chart, chart_style, to_svg
from covetbench.report.tables import html_table
from covetbench.run.ratios import interval_words, pct

try:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
except ImportError as exc:  # pragma: no cover - the bench extra ships it
    raise ImportError("the report needs matplotlib: pip install 'covetpy[bench]'") from exc

#: most ratios one forest plot draws (the table holds all)
_CHART_ROWS = 40
_FLAGGED_COLOUR = "#b35900"


def ratios_table(ratios: Sequence[RatioRecord]) -> Markup | None:
    if not ratios:
        return None
    rows = [
        {
            "Comparison": r.label,
            "Ratio": pct(r.median),
            "Interval": interval_words(r),
            "Rounds": str(r.rounds),
            "Flags": ", ".join(r.flags) or "ok",
        }
        for r in ratios
    ]
    return html_table("ratios", rows, numeric=("Ratio", "Rounds"))


def ratios_chart(ratios: Sequence[RatioRecord]) -> Chart | None:
    """Forest plot: each ratio's median and interval, in %, against the 100 % line."""
    if not ratios:
        return None
    rows = list(ratios[:_CHART_ROWS])
    hidden = len(ratios) - len(rows)
    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH, 1.0 + 0.26 * len(rows)), layout="constrained")
        ax = fig.add_subplot()
        for y, r in enumerate(rows):
            colour = _FLAGGED_COLOUR if r.flags else NEUTRAL_COLOUR
            ax.plot([r.ci_low * 100, r.ci_high * 100], [y, y], color=colour, lw=2)
            ax.plot(r.median * 100, y, marker="o", color=colour, ms=5)
        ax.axvline(100, color="#333333", lw=1)
        ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=7.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.tick_params(axis="x", labeltop=True)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
        ax.set_xlabel("median of per-round ratios of requests/s (distribution-free interval)")
        ax.grid(axis="y", visible=False)
        alt = f"Paired ratios of requests per second for {len(rows)} comparisons. " + "; ".join(
            f"{r.label}: {pct(r.median)}" for r in rows[:8]
        )
        caption = (
            "Each ratio divides two trials of the same round (run back to back), so the host's "
            "drift cancels. Orange: a side or the ratio carries a flag (see the table, which "
            "also gives each interval's level)."
        )
        if hidden:
            caption += f" {hidden} more comparisons are in the table only."
        return Chart(to_svg(fig, alt), alt, caption, wide=True)


def stability_rows(summaries: Sequence[ConfigSummary]) -> list[dict[str, Any]]:
    """Per server: how many configurations, the median and range of their trials' CV, how
    many carry `unstable`, steadiest first."""
    by_server: dict[str, list[ConfigSummary]] = {}
    for s in summaries:
        if s.trials >= 2:
            by_server.setdefault(s.server, []).append(s)
    ranked = sorted(by_server.items(), key=lambda kv: statistics.median(s.cv for s in kv[1]))
    return [
        {
            "Server": server,
            "Configurations": str(len(group)),
            "Median CV": f"{statistics.median(s.cv for s in group) * 100:.1f} %",
            "CV range": f"{min(s.cv for s in group) * 100:.1f}-"
            f"{max(s.cv for s in group) * 100:.1f} %",
            "Unstable": str(sum(FLAG_UNSTABLE in s.config_flags for s in group)),
        }
        for server, group in ranked
    ]


def stability_table(summaries: Sequence[ConfigSummary]) -> Markup | None:
    rows = stability_rows(summaries)
    return html_table("stability", rows, numeric=("Configurations", "Median CV")) if rows else None
