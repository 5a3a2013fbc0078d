"""Autobahn|Testsuite fuzzing client against covet's WebSocket echo: no case may FAIL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.covet.server import autobahn_runner


@pytest.mark.slow
def test_autobahn_no_failed_case(tmp_path: Path) -> None:
    reason = autobahn_runner.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    counts = autobahn_runner.run("python", tmp_path)
    assert sum(counts.values()) > 200, counts
    assert counts.get("FAILED", 0) == 0, autobahn_runner.failed_cases(tmp_path)
