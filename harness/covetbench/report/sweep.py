"""The sweep section of the report: one chart per app x server from `sweep.json`.

Each chart has two panels over the offered rate: latency (corrected p50 and p99 from the
intended start, and the service-time p99 dashed, log scale) and achieved against offered
requests/s (the diagonal is "kept up"). The knee is a vertical line on both, its reason in the
caption; points the validity judge flagged are drawn hollow.

    section = sweep_section(load_sweep(directory))
    section["charts"][0].svg
"""

from __future__ import annotations

from typing import Any

from covetbench.records import LATENCY_METHODS, LATENCY_OPEN_LOOP
from covetbench.report.palette import NEUTRAL_COLOUR
from covetbench.report.svg import FULL_WIDTH, Chart, chart_style, short_name, to_svg

try:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
except ImportError as exc:  # pragma: no cover - the bench extra ships it
    raise ImportError("the report needs matplotlib: pip install 'covetpy[bench]'") from exc

_P50 = "#4c78a8"
_P99 = "#e45756"
_KNEE = "#54a24b"


def _series(points: list[dict[str, Any]], table: str, key: str) -> list[tuple[float, float]]:
    out = []
    for p in points:
        value = (p.get(table) or {}).get(key)
        if value is not None and value > 0:
            out.append((float(p["offered_rps"]), float(value)))
    return out


def sweep_chart(curve: dict[str, Any]) -> Chart:
    """Latency and achieved rate against offered rate for one app x server."""
    points = list(curve["points"])
    label = f"{curve['app']} on {curve['server']}"
    knee = curve.get("knee_offered_rps")
    with chart_style():
        fig = Figure(figsize=(FULL_WIDTH, 3.0), layout="constrained")
        lat, rate = fig.subplots(1, 2)
        for table, key, colour, style, name in (
            ("latency_ms", "p50", _P50, "-", "p50 (from intended start)"),
            ("latency_ms", "p99", _P99, "-", "p99 (from intended start)"),
            ("latency_uncorrected_ms", "p99", _P99, ":", "p99 service time (from send)"),
        ):
            series = _series(points, table, key)
            if series:
                lat.plot(
                    *zip(*series, strict=True), color=colour, ls=style, marker="o", ms=3, label=name
                )
        flagged = [p for p in points if p.get("flags")]
        for p in flagged:
            value = (p.get("latency_ms") or {}).get("p99")
            if value:
                lat.plot(
                    [p["offered_rps"]],
                    [value],
                    marker="o",
                    ms=7,
                    mfc="white",
                    color=NEUTRAL_COLOUR,
                    ls="none",
                )
        lat.set_yscale("log")
        lat.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g} ms"))
        lat.set_xlabel("offered requests/s")
        lat.set_title("latency", loc="left")
        offered = [float(p["offered_rps"]) for p in points]
        achieved = [float(p["achieved_rps"]) for p in points]
        rate.plot(offered, offered, color=NEUTRAL_COLOUR, ls="--", lw=0.8, label="offered")
        rate.plot(offered, achieved, color=_P50, marker="o", ms=3, label="achieved")
        rate.set_xlabel("offered requests/s")
        rate.set_title("achieved requests/s", loc="left")
        for ax in (lat, rate):
            if knee is not None:
                ax.axvline(float(knee), color=_KNEE, lw=1.2, label="knee")
            ax.axvline(
                float(curve["capacity_rps"]),
                color=NEUTRAL_COLOUR,
                lw=0.8,
                ls=":",
                label="closed-loop capacity",
            )
        lat.legend(fontsize=7, loc="upper left")
        rate.legend(fontsize=7, loc="upper left")
        fig.suptitle(
            f"{short_name(curve['app'])} on {short_name(curve['server'])} — "
            f"{curve['scenario']} at {curve['concurrency']} connections, open loop",
            x=0.0,
            ha="left",
            fontweight="bold",
        )
        where = f"knee at {float(knee):.0f} req/s" if knee is not None else "no knee"
        alt = (
            f"Latency percentiles and achieved requests/s against offered requests/s for "
            f"{label}; {where}."
        )
        caption = (
            f"{label}: capacity {float(curve['capacity_rps']):.0f} req/s "
            f"({curve['capacity_method']}); {where}: {curve['knee_reason']}. "
            f"{len(flagged)} of {len(points)} rate(s) carry a validity flag (hollow markers)."
        )
        return Chart(to_svg(fig, alt), alt, caption, True)


def sweep_section(data: dict[str, Any]) -> dict[str, Any]:
    """What the template's sweep section shows: the rule, the charts, the failures."""
    rule = data["rule"]
    return {
        "rule": (
            f"Knee: the first offered rate whose corrected p99 exceeds {rule['p99_factor']:g} x "
            f"the lowest rate's p99, or whose achieved rate is below "
            f"{rule['achieved_fraction']:.0%} of the offered. Rates: "
            + ", ".join(f"{f:.0%}" for f in rule["fractions"])
            + f" of the closed-loop capacity, {rule['duration_s']:g} s each, "
            f"{rule['concurrency']} connections, scenario {rule['scenario']}."
        ),
        "method": LATENCY_METHODS[LATENCY_OPEN_LOOP],
        "charts": [sweep_chart(c) for c in data["curves"] if c["points"]],
        "failures": [
            f"{f['app']}@{f['server']} ({f['stage']}): {f['reason']}" for f in data["failures"]
        ],
    }
