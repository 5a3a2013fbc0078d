"""covet-bench's command line: dispatch, exit codes, bad input, and clean stops on signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from covetbench import cli
from covetbench.load import LOAD_DRIVERS, WrkDriver
from covetbench.results.store import load_results


def test_every_command_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for name in ("list", "verify", "run", "report", "gate", "claims", "conform"):
        assert name in out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_a_command_that_cannot_be_imported_says_why() -> None:
    module, why = cli._load_command("no_such_command")
    assert module is None and why is not None and why.startswith("not available:")


def test_list_shows_every_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("raw", "uvicorn", "granian", "plaintext", "wrk", "quick"):
        assert word in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--servers", "tornado"], "unknown server 'tornado'; valid servers: "),
        (["run", "--apps", "django"], "unknown app 'django'; valid apps: "),
        (["run", "--scenarios", "fortune"], "unknown scenario 'fortune'"),
        (["run", "--loadgen", "ab"], "unknown load generator 'ab'; valid load generators: "),
        (["run", "quik"], "unknown suite 'quik'; valid suites: "),
        (["run", "--app", "nonsense"], "expected NAME=module:attr"),
        (["run", "--trials", "0"], "--trials must be >= 1"),
        (["run", "--server-cpus", "999"], "CPU 999 is not available"),
        (["verify", "--servers", "tornado"], "unknown server 'tornado'"),
    ],
)
def test_bad_input_exits_2_naming_the_valid_choices(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_suite_file_exits_2_with_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "mine.toml"
    suite.write_text('servers = ["uvicorn"]\nscenarios = ["json"]\nconcurrency = [64]\ntrial = 2\n')
    assert cli.main(["run", str(suite)]) == 2
    assert f"{suite}:4: field 'trial': unknown key" in capsys.readouterr().err


def test_missing_wrk_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(LOAD_DRIVERS, "wrk", WrkDriver(executable="wrk-not-installed-anywhere"))
    argv = ["run", "--apps", "raw", "--servers", "uvicorn", "--scenarios", "json"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "apt-get install wrk" in err and "ci/setup" in err


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "covetbench", "list", "loadgens"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrk" in proc.stdout


def test_verify_passes_a_good_pair(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "--apps", "raw", "--servers", "uvicorn", "--scenarios", "plaintext,json"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("pass") == 2


def test_verify_fails_a_server_that_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["verify", "--apps", "x", "--app", "x=missing_module:app", "--servers", "uvicorn"]
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    assert "fail" in out and "missing_module" in out


def _run_trials(out: Path) -> int:
    try:
        return len(json.loads((out / "results.json").read_text())["runs"])
    except (OSError, ValueError, KeyError):
        return 0


def _descendants(pid: int) -> set[tuple[int, float]]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return set()
    seen = set()
    for child in children:
        try:
            seen.add((child.pid, child.create_time()))
        except psutil.Error:
            continue
    return seen


def _still_running(pid: int, created: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.needs_wrk
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly_keeping_trials_and_reaping_everything(
    tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "covetbench", "run", "quick", "--apps", "raw"]
    argv += ["--servers", "uvicorn", "--scenarios", "plaintext", "--duration", "1"]
    argv += ["--warmup", "0", "--trials", "30", "--retries", "0", "--idle-timeout", "0.5"]
    argv += ["--no-report", "--quiet", "--out", str(out)]
    env = {**os.environ, "COVETBENCH_LOCK": str(tmp_path / "lock")}
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        # A shell without job control starts background jobs with SIGINT ignored, and the
        # child would inherit that; the harness must see the signal as a terminal sends it.
        preexec_fn=_default_sigint,
    )
    seen: set[tuple[int, float]] = set()
    groups: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while _run_trials(out) < 1 or not any("wrk" in _name(p) for p, _ in seen):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no trial finished in time"
            found = _descendants(proc.pid)
            seen |= found
            for pid, _ in found:
                try:
                    groups.add(os.getpgid(pid))
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr
    data = load_results(out)
    assert 1 <= len(data["runs"]) < 30
    assert data["summary"], "a summary of the finished trials is written on the way out"
    left = [pid for pid, created in seen if _still_running(pid, created)]
    assert not left, f"processes left behind: {left}"
    for group in groups - {os.getpgid(0)}:
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)


_NAMES: dict[int, str] = {}


def _name(pid: int) -> str:
    if pid not in _NAMES:
        try:
            _NAMES[pid] = " ".join(psutil.Process(pid).cmdline())
        except psutil.Error:
            _NAMES[pid] = ""
    return _NAMES[pid]
