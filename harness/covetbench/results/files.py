"""The names of everything the harness writes, and where a command writes by default.

Every output lives in a *run directory*, `reports/<UTC time>-<kind>/` unless `--out` says
otherwise; the run history sits beside them in `reports/history.jsonl`. Readers (report, gate,
claims) find their inputs in a directory by these names.

    run_dir("quick")          # Path("reports/20261127T120000Z-quick")
    out / RESULTS_JSON
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

#: the root of every default output directory, relative to where covet-bench runs
REPORTS_DIR = Path("reports")

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
CONFORMANCE_JSON = "conformance.json"
JUNIT_XML = "junit.xml"
CLAIMS_JSON = "claims.json"
GATE_JSON = "gate.json"
#: the gate's digest: its own file, so a gate never overwrites a run's summary.md
GATE_MD = "gate.md"
INSTRUCTIONS_JSON = "instructions.json"
#: `covet-bench export` defaults, one per format
BMF_JSON = "bmf.json"
GITHUB_ACTION_BENCHMARK_JSON = "github-action-benchmark.json"
EXPORT_JUNIT_XML = "junit-run.xml"
SOAK_JSON = "soak.json"
FUZZ_JSON = "fuzz.json"
SWEEP_JSON = "sweep.json"
REPORT_HTML = "report.html"
SUMMARY_MD = "summary.md"
HISTORY_JSONL = "history.jsonl"


def run_dir(kind: str, now: datetime | None = None) -> Path:
    """The default output directory of one command run: `reports/<UTC time>-<kind>`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return REPORTS_DIR / f"{stamp}-{kind}"
