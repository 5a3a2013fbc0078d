"""`sweep.json`: latency against offered load, one curve per app x server, validated against
`sweep.schema.json` on every write and read (like `results.json`).

    write_sweep(out_dir, document)     # atomic, validated
    data = load_sweep(out_dir)         # ResultsError naming the file and the failing field
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from covetbench.exceptions import ResultsError
from covetbench.results.files import SWEEP_JSON
from covetbench.results.store import atomic_write, validate_results

SWEEP_SCHEMA_FILE = "sweep.schema.json"
SWEEP_SCHEMA_VERSION = 1


def write_sweep(out_dir: Path, document: Mapping[str, Any]) -> Path:
    """Validate `document` and write it to `out_dir/sweep.json` atomically."""
    path = Path(out_dir) / SWEEP_JSON
    validate_results(document, str(path), SWEEP_SCHEMA_FILE)
    try:
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    except ValueError as exc:
        raise ResultsError(f"{path}: refusing to write {exc}") from exc
    atomic_write(path, text)
    return path


def load_sweep(path: Path) -> dict[str, Any]:
    """Read and validate `sweep.json` from a directory (or the file itself)."""
    path = Path(path)
    file = path / SWEEP_JSON if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{file}: not found (run covet-bench sweep --out DIR)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{file}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{file}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{file}: invalid at (root): expected an object")
    validate_results(data, str(file), SWEEP_SCHEMA_FILE)
    return data
