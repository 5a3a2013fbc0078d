"""`summary.md`: the report's digest for CI step summaries and pull-request comments.

Short on purpose: the claims' verdicts first (with what a throughput figure was measured on, or
the command that produces missing evidence), then the headline table, the paired ratios and
each server's stability, regressions, validity (trial flags, and each configuration flag with
the configurations that carry it) and conformance in a few lines each, pointing at
`report.html` for the rest. Every value from the inputs is escaped for Markdown and HTML, since
GitHub renders both in comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from covetbench.records import ALL_FLAG_DESCRIPTIONS, RATIO_APP_VS_RAW
from covetbench.report.compare import BaselineView
from covetbench.report.inputs import PRODUCERS, ReportInputs
from covetbench.report.model import config_flag_labels, facets, flag_counts, latency_notes
from covetbench.report.ratios import stability_rows
from covetbench.report.tables import headline_rows
from covetbench.report.views import CONFORMANCE_STATUSES, claims_view, conformance_view
from covetbench.run.ratios import ratio_sentence

_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md(value: Any) -> str:
    """One table cell or inline text: HTML-escaped, Markdown specials backslashed, one line."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(v) for v in row) + " |" for row in rows]
    return lines


def summary_markdown(inputs: ReportInputs, baseline: BaselineView | None) -> str:
    """The digest as Markdown text."""
    meta = inputs.meta
    out = ["## covet-bench summary", ""]
    where = [
        f"suite {meta['suite']}" if meta.get("suite") else "",
        str(meta.get("cpu_model") or ""),
    ]
    if meta.get("git_commit"):
        where.append(f"commit {str(meta['git_commit'])[:12]}")
    suite_config = meta.get("suite_config")
    if isinstance(suite_config, dict) and suite_config.get("tls"):
        where.append("TLS (https)")
    where = [w for w in where if w]
    if where:
        out += [md(" · ".join(where)), ""]
    if inputs.missing:
        missing = ", ".join(f"{name} ({PRODUCERS[name]})" for name in inputs.missing)
        out += [f"**Not in this report:** {md(missing)}", ""]
    for problem in inputs.problems:
        out += [f"> **Warning:** {md(problem)}", ""]

    claims = claims_view(inputs.claims) if inputs.claims else []
    if claims:  # first: the verdicts are what a run is for
        out += ["### Claims", ""]
        out += _table(
            ["Claim", "Verdict", "Measured", "Claimed", "Tested on / evidence needed"],
            [
                [
                    c["statement"],
                    c["verdict"],
                    c["measured"],
                    c["expected"],
                    c["hardware_line"]
                    or (f"run: {c['needs_command']}" if c["needs_command"] else ""),
                ]
                for c in claims
            ],
        )
        out.append("")

    rows = headline_rows(facets(inputs.summaries))
    if rows:
        keys = [
            "Scenario",
            "Fastest (app · server)",
            "Conns",
            "Requests/s",
            "Interval",
            "p99 ms",
            "Lead",
        ]
        out += ["### Fastest per scenario", ""]
        out += _table([*keys, "Validity"], [[r[k] for k in keys] + [r["Validity"]] for r in rows])
        out.append("")
        notes = latency_notes(inputs.trials)
        if notes:
            out += [md("Latency, by generator: " + "; ".join(notes) + "."), ""]

    sentences = [ratio_sentence(r) for r in inputs.ratios if r.kind == RATIO_APP_VS_RAW]
    if sentences:
        out += ["### Paired ratios (trials of the same round)", ""]
        out += [f"- {md(line)}" for line in sentences]
        out.append("")
    stability = stability_rows(inputs.summaries)
    if stability:
        out += ["### Stability per server (median CV of its configurations)", ""]
        keys = list(stability[0])
        out += _table(keys, [[row[k] for k in keys] for row in stability])
        out.append("")

    if baseline is not None:
        out += [f"### Against the baseline ({md(baseline.source)})", ""]
        if baseline.headline:
            out += [f"**{md(baseline.headline)}**", ""]
        if baseline.regressions:
            out += _table(
                ["Configuration", "Change", "Bootstrap interval", "p-value"],
                [
                    [
                        c.label,
                        f"{c.delta_pct:+.1f}%",
                        f"{(c.ci_low - 1) * 100:+.1f}% … {(c.ci_high - 1) * 100:+.1f}%"
                        if c.ci_low is not None and c.ci_high is not None
                        else "—",
                        f"{c.p_value:.3g}" if c.p_value is not None else "—",
                    ]
                    for c in sorted(baseline.regressions, key=lambda c: c.ratio)
                ],
            )
        else:
            out.append(f"No regression among {len(baseline.comparisons)} compared configurations.")
        out.append("")

    counts = flag_counts(inputs.trials)
    flagged_configs = config_flag_labels(inputs.summaries)
    if counts or flagged_configs or inputs.failures:
        out += ["### Validity", ""]
        out += [
            f"- {n} trial(s) **{md(flag)}**: {md(ALL_FLAG_DESCRIPTIONS.get(flag, ''))}"
            for flag, n in counts.most_common()
        ]
        out += [
            f"- {len(labels)} configuration(s) **{md(flag)}** ({md(', '.join(labels))}): "
            f"{md(ALL_FLAG_DESCRIPTIONS.get(flag, ''))}"
            for flag, labels in flagged_configs.items()
        ]
        out += [
            f"- could not measure {md(f.app)} on {md(f.server)} ({md(f.stage)}): {md(f.reason)}"
            for f in inputs.failures
        ]
        out.append("")

    conformance = conformance_view(inputs.conformance) if inputs.conformance else None
    if conformance:
        header = ["Server", *CONFORMANCE_STATUSES, "MUST failures"]
        out += ["### Conformance", ""]
        out += _table(header, [[row[h] for h in header] for row in conformance["counts"]])
        out.append("")

    out.append("Full report: `report.html` next to this file.")
    return "\n".join(out) + "\n"
