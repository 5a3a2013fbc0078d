"""ci/gate's one piece of logic, the exit code of two gates, run by bash without running either
gate (sourcing the script defines its functions and returns)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

CI_GATE = Path(__file__).resolve().parents[3] / "ci" / "gate"


@pytest.mark.parametrize(
    ("wall", "instructions", "expected"),
    [
        (0, 0, 0),
        (1, 0, 1),
        (0, 1, 1),
        (2, 1, 1),  # a failure outranks an undecided gate
        (0, 2, 2),  # valgrind missing or nothing comparable: not a pass
        (2, 0, 2),  # inconclusive or underpowered wall-clock gate
        (130, 0, 130),  # interrupted: the signal's code
        (1, 143, 143),
    ],
)
def test_combine_codes(wall: int, instructions: int, expected: int) -> None:
    result = subprocess.run(
        ["bash", "-c", f'source "{CI_GATE}" && combine_codes {wall} {instructions}'],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == str(expected)


def test_ci_gate_writes_gate_md_to_the_step_summary() -> None:
    text = CI_GATE.read_text(encoding="utf-8")
    assert '"$out/gate.md"' in text and 'summary.md" >>' not in text
    assert 'covet-bench instructions --baseline-rev "$base"' in text
