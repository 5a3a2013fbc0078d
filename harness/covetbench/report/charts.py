"""Charts as inline SVG, drawn by matplotlib on bare `Figure` objects (no pyplot, no GUI).

Every chart comes back as a `Chart` (`covetbench.report.svg`): its SVG markup (with
`role="img"`, an `aria-label` and a `<title>` carrying the alt text) and a caption. Servers keep
one colour and apps one colour and marker everywhere (`Palette`); flagged configurations are
hatched, flagged trials drawn as black crosses.

    chart = throughput_chart(facet, group_by_key(trials), palette)
    chart.svg    # Markup('<svg role="img" aria-label="..." ...>')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from covetbench.records import ConfigKey, ConfigSummary, TrialRecord
from covetbench.report.model import (
    PERCENTILES,
    Facet,
    human_rps,
    is_flagged,
    levels_note,
    median_of,
)
from covetbench.report.palette import NEUTRAL_COLOUR, Palette
from covetbench.report.svg import (
    FULL_WIDTH,
    HALF_WIDTH,
    Chart,
    chart_style,
    rps_axis,
    short_name,
    to_svg,
)

try:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
except ImportError as exc:  # pragma: no cover - the bench extra ships it
    raise ImportError("the report needs matplotlib: pip install 'covetpy[bench]'") from exc


def _interval_words(summaries: Sequence[ConfigSummary]) -> str:
    """What an error bar is, with the weakest level where it is below 95 %."""
    note = levels_note(summaries)
    if note:
        return f"interval of the median ({note} at the weakest)"
    return "95 % interval of the median"


def _colour_ticks(ax: Any, apps: list[str], palette: Palette) -> None:
    for label, app in zip(ax.get_xticklabels(), apps, strict=False):
        label.set_color(palette.app(app))
        label.set_fontweight("bold")


_Cell = tuple[float, float, float, bool]  # value, ci low, ci high, flagged


def _grouped_bars(
    ax: Any,
    apps: list[str],
    servers: list[str],
    cell: Callable[[str, str], _Cell | None],
    palette: Palette,
    *,
    labels: bool,
) -> dict[tuple[str, str], float]:
    """Bars per app (groups) x server (colours); returns each bar's x position."""
    width = 0.8 / max(len(servers), 1)
    xs: dict[tuple[str, str], float] = {}
    crowded = len(apps) * len(servers) > 40
    for j, server in enumerate(servers):
        for i, app in enumerate(apps):
            got = cell(app, server)
            if got is None:
                continue
            value, low, high, flagged = got
            x = i - 0.4 + width * (j + 0.5)
            xs[(app, server)] = x
            colour = palette.server(server)
            ax.bar(
                x,
                value,
                width * 0.92,
                color=colour,
                hatch="///" if flagged else None,
                edgecolor="#222222" if flagged else colour,
                linewidth=0.8 if flagged else 0,
            )
            if high > low:
                yerr = [[max(value - low, 0.0)], [max(high - value, 0.0)]]
                ax.errorbar(x, value, yerr=yerr, fmt="none", ecolor="#222222", capsize=2.5, lw=1)
            if labels:
                ax.annotate(
                    human_rps(value) + (" !" if flagged else ""),
                    (x, max(high, value)),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=6.5 if crowded else 7.5,
                    rotation=90 if crowded else 0,
                    color="#b00020" if flagged else "#333333",
                )
    ax.set_xticks(range(len(apps)), [short_name(a) for a in apps])
    ax.set_xlim(-0.55, len(apps) - 0.45)
    ax.grid(axis="x", visible=False)
    _colour_ticks(ax, apps, palette)
    return xs


def _server_handles(servers: list[str], palette: Palette) -> list[Any]:
    return [Patch(facecolor=palette.server(s), label=short_name(s)) for s in servers]


_FLAGGED_HANDLE_KW: dict[str, Any] = {
    "facecolor": "white",
    "edgecolor": "#222222",
    "hatch": "///",
    "label": "flagged",
}


def throughput_chart(
    facet: Facet, trials: dict[ConfigKey, list[TrialRecord]], palette: Palette
) -> Chart:
    """Grouped bars app x server at the facet's reference concurrency, with trial dots."""
    rows = facet.at_reference()
    c = facet.reference_concurrency
    apps = sorted({s.app for s in rows})
    servers = sorted({s.server for s in rows})
    by_cell = {(s.app, s.server): s for s in rows}

    def cell(app: str, server: str) -> _Cell | None:
        s = by_cell.get((app, server))
        return None if s is None else (s.median_rps, s.ci_low, s.ci_high, is_flagged(s))

    wide = len(rows) > 16
    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH if wide else HALF_WIDTH, 3.5), layout="constrained")
        ax = fig.add_subplot()
        xs = _grouped_bars(ax, apps, servers, cell, palette, labels=True)
        for (app, server), x in xs.items():
            s = by_cell[(app, server)]
            for t in trials.get(s.key, []):
                ax.plot(
                    x,
                    t.rps,
                    marker="x" if t.flags else "o",
                    ms=4 if t.flags else 2.5,
                    color="#000000" if t.flags else "#ffffff",
                    mec="#000000",
                    mew=1.0 if t.flags else 0.5,
                    zorder=3,
                )
        rps_axis(ax)
        ax.margins(y=0.15)
        ax.set_ylabel("requests/s (median, interval)")
        ax.set_title(f"{facet.label} — {c} connections", loc="left", fontweight="bold")
        handles = _server_handles(servers, palette)
        handles.append(Patch(**_FLAGGED_HANDLE_KW))
        handles.append(Line2D([], [], ls="", marker="x", color="#000000", label="flagged trial"))
        ncols = len(handles) if len(handles) <= 6 else (len(handles) + 1) // 2
        fig.legend(handles=handles, loc="outside lower center", ncols=ncols)
        standing = Facet(facet.label, facet.scenario, facet.loadgen, rows).headline()
        if standing is not None and standing.winner is not None:
            best = standing.winner
            verdict = f"Fastest: {best.app} on {best.server} at {best.median_rps:,.0f} requests/s."
        else:
            tied = standing.tied if standing is not None else ()
            names = ", ".join(f"{s.app} on {s.server}" for s in tied)
            verdict = f"Tied within noise: {names}."
        alt = (
            f"Requests per second for scenario {facet.label} at {c} connections, grouped by app "
            f"and coloured by server. {verdict}"
        )
        flagged = sum(1 for s in rows if is_flagged(s))
        bar = _interval_words(rows)
        caption = (
            f"Median of {max(s.trials for s in rows)} trials, error bar = {bar}, dots = "
            f"individual trials. {flagged} of {len(rows)} bars hatched: a trial or the "
            "configuration carries a validity flag."
            if flagged
            else f"Median of the trials, error bar = {bar}, dots = trials. No flags."
        )
        return Chart(to_svg(fig, alt), alt, caption, wide)


def _nines(percentile: float) -> float:
    return -math.log10(1.0 - percentile / 100.0)


def latency_chart(facet: Facet, palette: Palette) -> Chart | None:
    """Median latency percentile curves (log scale), one panel per app, one line per server."""
    rows = facet.at_reference()
    c = facet.reference_concurrency
    apps = sorted({s.app for s in rows})
    plotted = 0
    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH, 2.9), layout="constrained")
        axes = fig.subplots(1, len(apps), sharey=True, squeeze=False)[0]
        servers_seen: set[str] = set()
        for ax, app in zip(axes, apps, strict=True):
            for s in sorted((s for s in rows if s.app == app), key=lambda s: s.server):
                points = [
                    (_nines(p), float(v))
                    for key, _label, p in PERCENTILES
                    if (v := s.median_latency_ms.get(key)) is not None and v > 0
                ]
                if not points:
                    continue
                flagged = is_flagged(s)
                colour = palette.server(s.server)
                ax.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    color=colour,
                    marker=palette.marker(app),
                    ms=4,
                    ls="--" if flagged else "-",
                    mfc="white" if flagged else colour,
                )
                servers_seen.add(s.server)
                plotted += 1
            ax.set_title(short_name(app), color=palette.app(app), fontweight="bold", loc="left")
            ax.set_xticks(
                [_nines(p) for _k, _l, p in PERCENTILES], [lb for _k, lb, _p in PERCENTILES]
            )
            ax.set_xlim(0.1, 3.2)
        if not plotted:
            return None
        axes[0].set_yscale("log")
        axes[0].yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axes[0].yaxis.set_minor_locator(NullLocator())
        axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g} ms"))
        axes[0].set_ylabel("latency (log scale)")
        handles = _server_handles(sorted(servers_seen), palette)
        handles.append(
            Line2D([], [], ls="--", color=NEUTRAL_COLOUR, mfc="white", marker="o", label="flagged")
        )
        fig.legend(handles=handles, loc="outside right upper")
        fig.suptitle(
            f"{facet.label} — latency percentiles at {c} connections",
            x=0.0,
            ha="left",
            fontweight="bold",
        )
        alt = (
            f"Latency percentiles p50 to p99.9 on a log scale for scenario {facet.label} at {c} "
            f"connections, one panel per app ({', '.join(apps)}), one line per server."
        )
        caption = (
            "Median over trials of each percentile, as each generator reports it (wrk: its own "
            "back-filled percentiles, see the note below). Dashed lines: the configuration "
            "carries a validity flag."
        )
        return Chart(to_svg(fig, alt), alt, caption)


def scaling_chart(facet: Facet, palette: Palette) -> Chart | None:
    """Requests/s against concurrency, one panel per app; None with a single level."""
    levels = facet.levels
    if len(levels) < 2:
        return None
    apps = facet.apps
    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH, 2.9), layout="constrained")
        axes = fig.subplots(1, len(apps), sharey=True, squeeze=False)[0]
        for ax, app in zip(axes, apps, strict=True):
            for server in facet.servers:
                series = sorted(
                    (s for s in facet.summaries if s.app == app and s.server == server),
                    key=lambda s: s.concurrency,
                )
                if not series:
                    continue
                colour = palette.server(server)
                x = [s.concurrency for s in series]
                ax.plot(
                    x,
                    [s.median_rps for s in series],
                    color=colour,
                    marker=palette.marker(app),
                    ms=4,
                )
                ax.fill_between(
                    x,
                    [s.ci_low for s in series],
                    [s.ci_high for s in series],
                    color=colour,
                    alpha=0.15,
                    lw=0,
                )
                bad = [s for s in series if is_flagged(s)]
                if bad:
                    ax.plot(
                        [s.concurrency for s in bad],
                        [s.median_rps for s in bad],
                        ls="",
                        marker="x",
                        color="#000000",
                        ms=6,
                        mew=1.2,
                        zorder=4,
                    )
            ax.set_xscale("log", base=2)
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(levels, [str(c) for c in levels])
            ax.set_xlabel("connections")
            ax.set_title(short_name(app), color=palette.app(app), fontweight="bold", loc="left")
        rps_axis(axes[0])
        axes[0].set_ylabel("requests/s (median)")
        handles = _server_handles(facet.servers, palette)
        handles.append(Line2D([], [], ls="", marker="x", color="#000000", label="flagged"))
        fig.legend(handles=handles, loc="outside right upper")
        fig.suptitle(
            f"{facet.label} — scaling with connections", x=0.0, ha="left", fontweight="bold"
        )
        alt = (
            f"Requests per second against connections ({', '.join(map(str, levels))}) for "
            f"scenario {facet.label}, one panel per app, one line per server, shaded interval."
        )
        caption = (
            f"Shaded band: {_interval_words(facet.summaries)}. A flat line means the server "
            "saturated; crosses mark flagged points."
        )
        return Chart(to_svg(fig, alt), alt, caption)


def resources_chart(
    facet: Facet, trials: dict[ConfigKey, list[TrialRecord]], palette: Palette
) -> Chart | None:
    """Server CPU % and RSS at the reference concurrency (medians over trials)."""
    rows = facet.at_reference()
    c = facet.reference_concurrency
    apps = sorted({s.app for s in rows})
    servers = sorted({s.server for s in rows})
    per_cell = {(s.app, s.server): trials.get(s.key, []) for s in rows}
    if not any(per_cell.values()):
        return None
    flagged = {(s.app, s.server): is_flagged(s) for s in rows}
    cores = {len(t.server_cpus) for ts in per_cell.values() for t in ts if t.server_cpus}

    def metric(attr: str) -> Callable[[str, str], _Cell | None]:
        def cell(app: str, server: str) -> _Cell | None:
            value = median_of(per_cell.get((app, server), []), attr)
            return None if value is None else (value, value, value, flagged[(app, server)])

        return cell

    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH, 2.9), layout="constrained")
        cpu_ax, rss_ax = fig.subplots(1, 2)
        _grouped_bars(cpu_ax, apps, servers, metric("server_cpu_pct"), palette, labels=False)
        cpu_ax.set_ylabel("server CPU % (100 = one core)")
        if len(cores) == 1:
            limit = 100.0 * cores.pop()
            cpu_ax.axhline(limit, color="#b00020", ls=":", lw=1)
            cpu_ax.annotate(
                "pinned cores",
                (cpu_ax.get_xlim()[1], limit),
                ha="right",
                va="bottom",
                fontsize=7,
                color="#b00020",
            )
        cpu_ax.set_title("server CPU", loc="left", fontweight="bold")
        _grouped_bars(rss_ax, apps, servers, metric("server_rss_mb"), palette, labels=False)
        rss_ax.set_ylabel("server RSS (MB)")
        rss_ax.set_title("server memory (RSS)", loc="left", fontweight="bold")
        handles = _server_handles(servers, palette)
        handles.append(Patch(**_FLAGGED_HANDLE_KW))
        fig.legend(handles=handles, loc="outside right upper")
        fig.suptitle(
            f"{facet.label} — resources at {c} connections", x=0.0, ha="left", fontweight="bold"
        )
        alt = (
            f"Server CPU percent and resident memory in MB for scenario {facet.label} at {c} "
            "connections, grouped by app and coloured by server."
        )
        caption = (
            "Medians over trials; CPU covers the server's whole process tree (workers included)."
        )
        return Chart(to_svg(fig, alt), alt, caption)
