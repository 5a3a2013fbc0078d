"""Render `report.html` and `summary.md` from whatever a run directory holds.

    from covetbench.report import render_report
    html = render_report(Path("reports/2026-11-27-quick"), baseline=Path("reports/main"))

The page is one self-contained file: CSS inline, charts as inline SVG, data as `data:` URIs, no
script at all, and a Content-Security-Policy that forbids any fetch. Jinja2 autoescaping is on:
every name, header, reason and piece of evidence from the inputs renders as text.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from covetbench.records import ALL_FLAG_DESCRIPTIONS, RATIO_APP_VS_RAW
from covetbench.report.charts import latency_chart, resources_chart, scaling_chart, throughput_chart
from covetbench.report.compare import BaselineView, baseline_view
from covetbench.report.comparison_charts import baseline_chart, trend_chart
from covetbench.report.inputs import PRODUCERS, ReportInputs, load_inputs
from covetbench.report.markdown import summary_markdown
from covetbench.report.model import (
    config_flag_labels,
    facets,
    flag_counts,
    is_flagged,
    latency_notes,
)
from covetbench.report.palette import Palette
from covetbench.report.ratios import ratios_chart, ratios_table, stability_table
from covetbench.report.sweep import sweep_section
from covetbench.report.tables import (
    baseline_table,
    configs_table,
    conformance_table,
    flags_table,
    headline_table,
    verify_table,
    versions_table,
)
from covetbench.report.views import claims_view, conformance_view, inline, text
from covetbench.results.files import (
    CLAIMS_JSON,
    CONFORMANCE_JSON,
    GATE_JSON,
    REPORT_HTML,
    RESULTS_JSON,
    SUMMARY_MD,
    SWEEP_JSON,
)
from covetbench.results.history import history_path, load_history, trend_series
from covetbench.results.store import atomic_write, trials_to_csv
from covetbench.run.ratios import ratio_sentence
from covetbench.stats import group_by_key
from covetbench.verdicts import IMPROVEMENT, REFUTED

try:
    import jinja2
except ImportError as exc:  # pragma: no cover - the bench extra ships it
    raise ImportError("the report needs jinja2: pip install 'covetpy[bench]'") from exc


#: What each input adds, for the "not in this report" banner.
_WHAT: dict[str, str] = {
    RESULTS_JSON: "throughput, latency, scaling, resources, validity and verification",
    CONFORMANCE_JSON: "the conformance matrix",
    CLAIMS_JSON: "the claims ledger",
    GATE_JSON: "the regression gate's verdicts",
    SWEEP_JSON: "latency against offered load (open loop) and its knee",
}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("covetbench.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _data_uri(text: str, mime: str = "text/csv") -> str:
    return f"data:{mime};charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode(
        "ascii"
    )


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"


def _palette(inputs: ReportInputs) -> Palette:
    servers = {s.server for s in inputs.summaries} | {t.server for t in inputs.trials}
    servers |= {f.server for f in inputs.failures} | {v.server for v in inputs.verify}
    if inputs.conformance:
        servers |= {str(s) for s in inputs.conformance.get("servers") or []}
    apps = {s.app for s in inputs.summaries} | {t.app for t in inputs.trials}
    return Palette.build(servers, apps)


def _cards(
    inputs: ReportInputs,
    claims: list[dict[str, str]],
    conformance: dict[str, Any] | None,
    baseline: BaselineView | None,
) -> list[dict[str, str]]:
    cards: list[dict[str, str]] = []
    if inputs.has_results:
        flagged = sum(1 for s in inputs.summaries if is_flagged(s))
        total = len(inputs.summaries)
        cards.append(
            {
                "label": "Configurations measured",
                "value": f"{total}" + (" — all flagged" if total and flagged == total else ""),
                "detail": f"{len(inputs.trials)} trials; {flagged} configuration(s) flagged"
                + ("; do not quote these figures" if total and flagged == total else ""),
                "tone": "bad" if total and flagged == total else ("warn" if flagged else "good"),
                "href": "validity",
            }
        )
        stages = Counter(f.stage for f in inputs.failures)
        warned = sum(1 for v in inputs.verify if v.status == "warn")
        detail = ", ".join(f"{n} at {stage}" for stage, n in sorted(stages.items())) or "none"
        cards.append(
            {
                "label": "Could not be measured",
                "value": f"{len(inputs.failures)}",
                "detail": detail + (f"; {warned} verify warning(s)" if warned else ""),
                "tone": "bad" if inputs.failures else ("warn" if warned else "good"),
                "href": "validity",
            }
        )
    if conformance:
        must_fail = 0
        passed = total_cells = 0
        for _group, checks in conformance["groups"]:
            for check in checks:
                for cell in check["cells"]:
                    total_cells += 1
                    passed += cell["status"] == "PASS"
                    must_fail += check["level"].upper() == "MUST" and cell["status"] in (
                        "FAIL",
                        "ERROR",
                    )
        cards.append(
            {
                "label": "Conformance",
                "value": f"{passed}/{total_cells} pass",
                "detail": f"{must_fail} MUST failure(s), {len(conformance['servers'])} server(s)",
                "tone": "bad" if must_fail else "good",
                "href": "conformance",
            }
        )
    if claims:
        verdicts = Counter(c["verdict"] for c in claims)
        cards.append(
            {
                "label": "Claims",
                "value": f"{verdicts.get(REFUTED, 0)} refuted",
                "detail": ", ".join(f"{n} {v.lower()}" for v, n in sorted(verdicts.items())),
                "tone": "bad" if verdicts.get(REFUTED) else "good",
                "href": "claims",
            }
        )
    if baseline is not None:
        regressions = len(baseline.regressions)
        improvements = sum(1 for c in baseline.comparisons if c.verdict == IMPROVEMENT)
        cards.append(
            {
                "label": "Against the baseline",
                "value": f"{regressions} regression(s)",
                "detail": f"{len(baseline.comparisons)} compared, {improvements} improvement(s)",
                "tone": "bad" if regressions else "good",
                "href": "baseline",
            }
        )
    return cards


def _validity_lines(inputs: ReportInputs) -> list[str]:
    counts = flag_counts(inputs.trials)
    lines = [
        f"{n} trial(s) {flag}: {ALL_FLAG_DESCRIPTIONS.get(flag, 'see Validity')}"
        for flag, n in counts.most_common()
    ]
    lines += [
        f"{len(labels)} configuration(s) {flag}: {ALL_FLAG_DESCRIPTIONS.get(flag, 'see Validity')}"
        for flag, labels in config_flag_labels(inputs.summaries).items()
    ]
    fails = [v for v in inputs.verify if v.status == "fail"]
    if fails:
        lines.append(f"{len(fails)} configuration(s) failed verification and were not loaded")
    if inputs.failures:
        lines.append(
            f"{len(inputs.failures)} configuration(s) could not be measured (see Validity)"
        )
    return lines


#: Run metadata shown as "Machine and run", in this order; the rest goes to "Run configuration".
_MACHINE_FIELDS = {
    "cpu_model": "CPU",
    "cores": "Cores",
    "cores_available": "Cores available",
    "pinning": "CPU pinning",
    "host": "Host",
    "platform": "Platform",
    "suite": "Suite",
    "git_commit": "Git commit",
    "git_dirty": "Uncommitted changes",
    "started_at": "Started",
    "ended_at": "Ended",
    "executable": "Python executable",
    "loadgens": "Load generators",
}


def _machine(meta: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(label, inline(meta[key])) for key, label in _MACHINE_FIELDS.items() if key in meta]
    suite_config = meta.get("suite_config")
    if isinstance(suite_config, dict) and suite_config.get("tls"):
        rows.append(("Transport", "TLS: https with a throw-away self-signed certificate"))
    return rows


def _run_config(meta: dict[str, Any]) -> str:
    """Everything else the runner recorded (suite, server options...), as JSON."""
    skip = set(_MACHINE_FIELDS) | {"versions", "command"}
    rest = {k: v for k, v in meta.items() if k not in skip}
    return text(rest) if rest else ""


def _first_line(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return fh.readline().strip() or None
    except OSError:
        return None


def _commands(inputs: ReportInputs) -> list[tuple[str, str]]:
    """The exact command lines: covet-bench's, each server's (logs/*.options.json) and the
    load generator's per scenario and concurrency (first line of its raw output)."""
    out = []
    if inputs.meta.get("command"):
        out.append(("covet-bench", text(inputs.meta["command"])))
    servers = []
    for path in sorted((inputs.directory / "logs").glob("*.options.json")):
        try:
            command = json.loads(path.read_text(encoding="utf-8")).get("command")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(command, list):
            line = shlex.join(str(c) for c in command)
            servers.append(f"# {path.name.removesuffix('.options.json')}\n{line}")
    if servers:
        out.append(("Servers (logs/*.options.json)", "\n".join(servers)))
    loads: dict[tuple[str, str, int], str] = {}
    for t in inputs.trials:
        key = (t.scenario, t.loadgen, t.concurrency)
        if key not in loads and t.raw_output_file:
            first = _first_line(inputs.directory / t.raw_output_file)
            if first:
                loads[key] = f"# {t.scenario} c{t.concurrency} ({t.app} on {t.server})\n{first}"
    if loads:
        out.append(("Load generator, one trial per scenario and level", "\n".join(loads.values())))
    return out


def _downloads(inputs: ReportInputs) -> list[dict[str, str]]:
    files = []
    if inputs.trials:
        files.append(
            ("Every trial", "trials.csv", trials_to_csv(t.to_dict() for t in inputs.trials))
        )
    if inputs.summaries:
        files.append(
            (
                "Per configuration",
                "summary.csv",
                trials_to_csv(s.to_dict() for s in inputs.summaries),
            )
        )
    return [
        {
            "label": label,
            "filename": name,
            "href": _data_uri(text),
            "size": _size(len(text.encode())),
        }
        for label, name, text in files
    ]


def build_context(inputs: ReportInputs, comparison: BaselineView | None) -> dict[str, Any]:
    """Everything the template needs, computed from the inputs."""
    palette = _palette(inputs)
    views = facets(inputs.summaries)
    trials = group_by_key(inputs.trials)
    conformance = conformance_view(inputs.conformance) if inputs.conformance else None
    claims = claims_view(inputs.claims) if inputs.claims else []
    baseline = None
    if comparison is not None:
        baseline = {
            "source": comparison.source,
            "headline": comparison.headline,
            "threshold_pct": comparison.threshold_pct,
            "alpha": comparison.alpha,
            "chart": baseline_chart(comparison.comparisons, comparison.threshold_pct),
            "table": baseline_table(comparison),
        }
    history_file = history_path(inputs.directory)
    trend = trend_chart(trend_series(load_history(history_file)))
    history = {"chart": trend, "source": str(history_file)} if trend is not None else None
    meta = inputs.meta
    subtitle = " · ".join(
        str(x)
        for x in (
            meta.get("suite") and f"suite {meta['suite']}",
            meta.get("cpu_model"),
            meta.get("cores") and f"{meta['cores']} cores",
            meta.get("started_at"),
        )
        if x
    )
    nav = [("headline", "Headline")]
    sections = [
        ("throughput", "Throughput", bool(views)),
        ("ratios", "Ratios", bool(inputs.ratios)),
        ("latency", "Latency", bool(views)),
        ("scaling", "Scaling", any(len(f.levels) > 1 for f in views)),
        ("resources", "Resources", bool(views and inputs.trials)),
        ("baseline", "Baseline", baseline is not None),
        ("history", "History", history is not None),
        ("validity", "Validity", inputs.has_results),
        ("conformance", "Conformance", conformance is not None),
        ("claims", "Claims", bool(claims)),
        ("sweep", "Sweep", inputs.sweep is not None),
        ("setup", "Setup", True),
        ("data", "Data", bool(inputs.trials or inputs.summaries)),
    ]
    nav += [(anchor, label) for anchor, label, shown in sections if shown]
    return {
        "title": "covet-bench report",
        "subtitle": subtitle or inputs.directory.name,
        "directory": str(inputs.directory),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nav": nav,
        "missing": [
            {"name": n, "what": _WHAT[n], "producer": PRODUCERS[n]} for n in inputs.missing
        ],
        "problems": inputs.problems,
        "cards": _cards(inputs, claims, conformance, comparison),
        "headline_table": headline_table(views) if views else None,
        "legend_servers": sorted({(s, palette.server(s)) for f in views for s in f.servers}),
        "validity_lines": _validity_lines(inputs),
        "throughput_charts": [throughput_chart(f, trials, palette) for f in views],
        "latency_charts": [c for f in views if (c := latency_chart(f, palette))],
        "scaling_charts": [c for f in views if (c := scaling_chart(f, palette))],
        "resources_charts": [c for f in views if (c := resources_chart(f, trials, palette))],
        "configs_table": configs_table(inputs.summaries, trials) if views else None,
        "ratios_chart": ratios_chart(inputs.ratios),
        "ratios_table": ratios_table(inputs.ratios),
        "ratio_sentences": [ratio_sentence(r) for r in inputs.ratios if r.kind == RATIO_APP_VS_RAW],
        "stability_table": stability_table(inputs.summaries),
        "canary": meta.get("canary"),
        "has_results": inputs.has_results,
        "flags_table": flags_table(inputs.trials, inputs.summaries),
        "flag_definitions": ALL_FLAG_DESCRIPTIONS,
        "latency_notes": latency_notes(inputs.trials),
        "sweep": sweep_section(inputs.sweep) if inputs.sweep is not None else None,
        "verify_table": verify_table(inputs.verify),
        "verify_count": len(inputs.verify),
        "failures": inputs.failures,
        "conformance": conformance,
        "conformance_table": conformance_table(conformance["counts"]) if conformance else None,
        "claims": claims,
        "baseline": baseline,
        "history": history,
        "machine": _machine(meta),
        "commands": _commands(inputs),
        "run_config": _run_config(meta),
        "versions_table": versions_table(meta),
        "downloads": _downloads(inputs),
    }


def _write(path: Path, content: str) -> None:
    atomic_write(path, content)
    path.chmod(0o644)  # mkstemp made it private; a report is meant to be shared


def render_report(dir: Path, baseline: Path | None = None) -> Path:
    """Write `dir/report.html` and `dir/summary.md`; return the HTML path.

    Reads whatever of results.json, conformance.json, claims.json and gate.json is in `dir`
    (and results.json from `baseline`). Raises `ResultsError` when nothing at all is there.
    """
    directory = Path(dir)
    inputs = load_inputs(directory, baseline)
    comparison = baseline_view(inputs)
    html = _environment().get_template("report.html.j2").render(build_context(inputs, comparison))
    out = directory / REPORT_HTML
    _write(out, html)
    _write(directory / SUMMARY_MD, summary_markdown(inputs, comparison))
    return out
