"""Writing a conformance run to disk: conformance.json (atomically) and junit.xml."""

from __future__ import annotations

import json
import os
from pathlib import Path

from covetbench.conformance.junit import write_junit
from covetbench.conformance.runner import ConformanceReport


def write_report(report: ConformanceReport, out_dir: Path) -> tuple[Path, Path]:
    """conformance.json and junit.xml in `out_dir`; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = report.to_dict()
    path = out_dir / "conformance.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path, write_junit(data, out_dir / "junit.xml")
