"""Same-job A/B for the gate: baseline built from a git revision, trials interleaved with current.

Not available until the runner (`covetbench.runner`) lands; `run_ab` says so.
"""

from __future__ import annotations

from pathlib import Path

from covetbench.exceptions import UsageError


def run_ab(rev: str, suite: str, trials: int | None, out: Path | None) -> tuple[Path, Path]:
    """Run the A/B suite and return (baseline_dir, current_dir)."""
    raise UsageError(
        "--ab is not available yet: it needs the runner (covetbench.runner); "
        "compare two existing runs with --baseline DIR --current DIR"
    )
