"""Charts across runs: the baseline comparison (a forest plot of the gate's verdicts) and the
trend of median requests/s over the run history.

    chart = baseline_chart(view.comparisons, view.threshold_pct)
    chart = trend_chart(trend_series(load_history(path)))
"""

from __future__ import annotations

from covetbench.report.compare import BaselineRow
from covetbench.report.palette import LINE_COLOURS, NEUTRAL_COLOUR
from covetbench.report.svg import FULL_WIDTH, Chart, chart_style, rps_axis, short_name, to_svg
from covetbench.verdicts import IMPROVEMENT, NEUTRAL, REGRESSION, TONES

try:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
except ImportError as exc:  # pragma: no cover - the bench extra ships it
    raise ImportError("the report needs matplotlib: pip install 'covetpy[bench]'") from exc

_BASELINE_ROWS = 30


def baseline_chart(comparisons: list[BaselineRow], threshold_pct: float | None) -> Chart | None:
    """Forest plot of % change per configuration with its interval."""
    if not comparisons:
        return None
    # every decided row, then the largest changes, so a long run stays one readable chart
    decided = [c for c in comparisons if c.verdict in (REGRESSION, IMPROVEMENT)]
    rest = sorted((c for c in comparisons if c not in decided), key=lambda c: -abs(c.ratio - 1))
    rows = sorted(decided + rest[: max(_BASELINE_ROWS - len(decided), 0)], key=lambda d: d.ratio)
    hidden = len(comparisons) - len(rows)
    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH, 1.0 + 0.24 * len(rows)), layout="constrained")
        ax = fig.add_subplot()
        for y, d in enumerate(rows):
            colour = LINE_COLOURS.get(TONES.get(d.verdict, NEUTRAL), NEUTRAL_COLOUR)
            mid = (d.ratio - 1.0) * 100.0
            if d.ci_low is not None and d.ci_high is not None:
                ax.plot([(d.ci_low - 1) * 100, (d.ci_high - 1) * 100], [y, y], color=colour, lw=2)
            ax.plot(mid, y, marker="o", color=colour, ms=5)
        ax.axvline(0, color="#333333", lw=1)
        if threshold_pct:
            ax.axvspan(-threshold_pct, threshold_pct, color="#999999", alpha=0.15, lw=0)
        ax.set_yticks(range(len(rows)), [d.label for d in rows], fontsize=7.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)  # largest drop on top
        ax.tick_params(axis="x", labeltop=True)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:+.0f}%"))
        ax.set_xlabel("change in requests/s against the baseline (bootstrap interval)")
        ax.grid(axis="y", visible=False)
        worst = rows[0]
        alt = (
            f"Change in requests per second against the baseline for {len(rows)} configurations; "
            f"largest drop: {worst.label} at {(worst.ratio - 1) * 100:+.1f}%."
        )
        caption = "Red: regression, green: improvement, grey: no significant change."
        if threshold_pct:
            caption += f" Grey band: the ±{threshold_pct:g}% threshold."
        if hidden:
            caption += f" {hidden} smaller, undecided differences are in the table only."
        return Chart(to_svg(fig, alt), alt, caption)


_TREND_SERIES = 16


def trend_chart(series: dict[str, list[tuple[str, float]]]) -> Chart | None:
    """Median requests/s per configuration across commits (the run history), oldest left."""
    if not series:
        return None
    commits: list[str] = []
    for points in series.values():
        for commit, _rps in points:
            if commit not in commits:
                commits.append(commit)
    # the configurations measured most often, then the fastest: a long history stays readable
    ranked = sorted(series.items(), key=lambda kv: (-len(kv[1]), -kv[1][-1][1], kv[0]))
    shown = ranked[:_TREND_SERIES]
    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH, 4.2), layout="constrained")
        ax = fig.add_subplot()
        for label, points in shown:
            xs = [commits.index(commit) for commit, _ in points]
            ax.plot(
                xs, [rps for _, rps in points], marker="o", ms=4, lw=1.4, label=short_name(label)
            )
        ax.set_xticks(range(len(commits)), commits, rotation=30, ha="right", fontsize=7.5)
        ax.set_xlabel("commit (oldest left; + = uncommitted changes)")
        ax.set_ylabel("median requests/s")
        rps_axis(ax)
        ax.legend(fontsize=7, ncols=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        alt = (
            f"Median requests per second of {len(shown)} configurations across "
            f"{len(commits)} commits."
        )
        caption = "One point per commit: its latest run in the history file."
        if len(series) > len(shown):
            caption += f" {len(series) - len(shown)} more configurations are not drawn."
        return Chart(to_svg(fig, alt), alt, caption, wide=True)
