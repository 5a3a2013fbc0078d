"""Writing a conformance run to disk: conformance.json (atomically) and junit.xml."""

from __future__ import annotations

import json
from pathlib import Path

from covetbench.conformance.junit import write_junit
from covetbench.conformance.runner import ConformanceReport
from covetbench.results.files import CONFORMANCE_JSON, JUNIT_XML
from covetbench.results.store import atomic_write


def write_report(report: ConformanceReport, out_dir: Path) -> tuple[Path, Path]:
    """conformance.json and junit.xml in `out_dir`; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = report.to_dict()
    path = out_dir / CONFORMANCE_JSON
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path, write_junit(data, out_dir / JUNIT_XML)
