"""Conformance and claims as rows the page, the tables and `summary.md` all share.

`conformance.json` and `claims.json` come from other commands and may be partial or newer than
this reader: every field is optional here, and every value is turned into display text once.

    view = conformance_view(data)   # {"servers", "groups", "counts", "meta"} or None
    rows = claims_view(data)        # [{"statement", "verdict", "measured", ...}]
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from covetbench.verdicts import css_class

DASH = "—"
EVIDENCE_LIMIT = 6000
CONFORMANCE_STATUSES = ("PASS", "FAIL", "UNSUPPORTED", "ERROR")


def text(value: Any) -> str:
    """Evidence of any shape as readable text, bounded so one huge body cannot bloat the page."""
    if value is None or value == "":
        return ""
    out = (
        value
        if isinstance(value, str)
        else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    )
    if len(out) > EVIDENCE_LIMIT:
        out = out[:EVIDENCE_LIMIT] + f"\n… ({len(out) - EVIDENCE_LIMIT} more characters)"
    return out


def plain(value: Any) -> str:
    """A scalar for a table cell: numbers with separators, nothing as a dash."""
    if value is None or value == "":
        return DASH
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value) or DASH
    return text(value)


def inline(value: Any) -> str:
    """A mapping as one line ("cpu_model: X, cores: 1"); anything else as `plain`."""
    if isinstance(value, dict):
        shown = [f"{k}: {plain(v)}" for k, v in value.items() if v not in (None, "")]
        return ", ".join(shown) or DASH
    return plain(value)


def conformance_view(conformance: dict[str, Any]) -> dict[str, Any] | None:
    """Checks grouped for the matrix, one cell per server, plus per-server status counts."""
    checks = [c for c in conformance.get("checks") or [] if isinstance(c, dict)]
    if not checks:
        return None
    servers = [str(s) for s in conformance.get("servers") or []] or sorted(
        {str(s) for c in checks for s in (c.get("results") or {})}
    )
    groups: dict[str, list[dict[str, Any]]] = {}
    counts = {server: Counter[str]() for server in servers}
    for check in checks:
        results = check.get("results") or {}
        level = str(check.get("level") or "").upper()
        cells = []
        for server in servers:
            result = results.get(server) or {}
            status = str(result.get("status") or "MISSING").upper()
            cells.append({"status": status, "evidence": text(result.get("evidence"))})
            counts[server][status] += 1
            if level == "MUST" and status in ("FAIL", "ERROR"):
                counts[server]["MUST failures"] += 1
        groups.setdefault(str(check.get("group") or "other"), []).append(
            {
                "id": plain(check.get("id")),
                "level": level,
                "title": str(check.get("title") or ""),
                "spec": str(check.get("spec") or ""),
                "cells": cells,
            }
        )
    return {
        "meta": text(conformance.get("meta")),
        "servers": servers,
        "groups": sorted(groups.items()),
        "counts": [
            {"Server": server}
            | {status: counts[server][status] for status in CONFORMANCE_STATUSES}
            | {"MUST failures": counts[server]["MUST failures"]}
            for server in servers
        ],
    }


def claims_view(claims: dict[str, Any]) -> list[dict[str, str]]:
    """One row of display text per claim; `detail` is the one-line version for the headline."""
    rows = []
    for claim in claims.get("claims") or []:
        if not isinstance(claim, dict):
            continue
        ratio = claim.get("ratio")
        row = {
            "id": str(claim.get("id") or ""),
            "statement": str(claim.get("statement") or claim.get("id") or "?"),
            "source": text(claim.get("source")),
            "kind": str(claim.get("kind") or ""),
            "verdict": str(claim.get("verdict") or "INCONCLUSIVE").upper(),
            "measured": plain(claim.get("measured")),
            "expected": plain(claim.get("expected")),
            "ratio": f"{ratio:.3g}×" if isinstance(ratio, int | float) else plain(ratio),
            "hardware": inline(claim.get("hardware")),
            "to_reach": plain(claim.get("to_reach")),
            "parts": ", ".join(str(p) for p in claim.get("parts") or []),
            "evidence": text(claim.get("evidence")),
            # "" when absent: the page and summary.md show these lines only when there is one
            "hardware_line": str(claim.get("hardware_line") or ""),
            "needs_command": str(claim.get("needs_command") or ""),
        }
        row["css"] = css_class(row["verdict"])
        said = [("measured", "measured"), ("expected", "claimed"), ("ratio", "ratio")]
        row["detail"] = ", ".join(f"{word} {row[k]}" for k, word in said if row[k] != DASH)
        rows.append(row)
    return rows
