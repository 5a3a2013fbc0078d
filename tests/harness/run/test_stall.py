"""`--inject-stall SECONDS@AT`: parsing, and a real stop/resume of a process tree."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from covetbench.exceptions import UsageError
from covetbench.run.stall import StallInjector, StallSpec
from covetbench.run.suite import SuiteOverrides, apply_overrides, load_suite


@pytest.mark.parametrize(("text", "seconds", "at"), [("1@3", 1.0, 3.0), (" 0.5 @ 0 ", 0.5, 0.0)])
def test_parse(text: str, seconds: float, at: float) -> None:
    assert StallSpec.parse(text) == StallSpec(seconds, at)


@pytest.mark.parametrize("text", ["", "1", "@3", "0@3", "-1@3", "1@x", "1@3@4"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="SECONDS@AT"):
        StallSpec.parse(text)


def test_no_stall_is_a_no_op() -> None:
    with StallInjector(None, 1) as stall:
        pass
    assert stall.record() is None


def test_stops_and_resumes_the_tree() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with StallInjector(StallSpec(seconds=0.2, at_s=0.0), proc.pid) as stall:
            assert stall._thread is not None
            stall._thread.join()  # the whole stall, start to resume
        record = stall.record()
        assert record is not None
        assert record["stopped"] and record["processes"] == 1 and record["error"] is None
        assert record["stopped_for_s"] is not None and record["stopped_for_s"] > 0
        assert psutil.Process(proc.pid).status() != psutil.STATUS_STOPPED
    finally:
        proc.kill()
        proc.wait()


def test_a_trial_that_ends_first_resumes_the_server() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with StallInjector(StallSpec(seconds=60.0, at_s=0.0), proc.pid) as stall:
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and psutil.Process(proc.pid).status() != (
                psutil.STATUS_STOPPED
            ):
                time.sleep(0.01)
            assert psutil.Process(proc.pid).status() == psutil.STATUS_STOPPED
        assert psutil.Process(proc.pid).status() != psutil.STATUS_STOPPED
        record = stall.record()
        assert record is not None and record["stopped"]
    finally:
        proc.kill()
        proc.wait()


def test_suite_and_overrides_carry_rate_and_stall(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'servers = ["covet"]\nscenarios = ["json"]\nconcurrency = [8]\n'
        'loadgen = "open"\nrate = 500\ninject_stall = "1@2"\n'
    )
    suite = load_suite(path)
    assert suite.rate == 500.0 and suite.inject_stall == StallSpec(1.0, 2.0)
    changed = apply_overrides(suite, SuiteOverrides(rate=900.0, inject_stall=StallSpec(2, 1)))
    assert changed.rate == 900.0 and changed.inject_stall == StallSpec(2.0, 1.0)
    assert changed.to_dict()["inject_stall"] == {"seconds": 2, "at_s": 1}
    path.write_text(path.read_text().replace('"1@2"', '"soon"'))
    with pytest.raises(Exception, match="s.toml:6: field 'inject_stall'"):
        load_suite(path)
