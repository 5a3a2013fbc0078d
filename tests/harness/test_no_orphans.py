"""Nothing outlives the run: a harness killed with SIGKILL mid-trial (a CI runner's timeout, the
OOM killer) takes its server, the server's workers and its load generator with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from covetbench.processes import die_with_parent, guard_group, release_group, signal_group
from covetbench.servers import get_server
from covetbench.servers.base import port_in_use

# A harness in miniature: launch a real server through its adapter, then drive "load" through
# the real WrkDriver with a stand-in wrk that never ends, and wait there, mid-trial.
_HARNESS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from covetbench.apps import builtin_apps
    from covetbench.load.base import LoadRequest
    from covetbench.load.wrk import WrkDriver
    from covetbench.scenarios import get_scenario
    from covetbench.servers import ServerOptions, get_server

    name, workers, wrk, tmp = sys.argv[1:]
    options = ServerOptions(workers=int(workers))
    server = get_server(name).launch(builtin_apps()["raw"], options, Path(tmp) / "server.log")
    print(json.dumps({"pid": server.pid, "port": server.port}), flush=True)
    spec = get_scenario("plaintext")
    request = LoadRequest(server.base_url + spec.path, spec, concurrency=4, duration_s=600)
    WrkDriver(wrk).run(request)
    """
)
_FAKE_WRK = "#!/bin/sh\nexec sleep 600\n"
_DEADLINE_S = 30.0


def _descendants(pid: int) -> dict[int, float]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return {}
    seen = {}
    for child in children:
        try:
            seen[child.pid] = child.create_time()
        except psutil.Error:
            continue
    return seen


def _alive(pid: int, created: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _cmdline(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


def _reap(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()  # waits and closes the pipes


def _kill_left(procs: dict[int, float]) -> None:
    for pid, created in procs.items():
        if _alive(pid, created):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("server", "workers"),
    [("uvicorn", 2), ("covet", 2), ("hypercorn", 2), ("granian", 2), ("daphne", 1)],
)
def test_sigkilled_harness_leaves_no_process_and_no_listener(
    server: str, workers: int, tmp_path: Path
) -> None:
    if not get_server(server).is_installed():
        pytest.skip(f"{server} is not installed")
    script = tmp_path / "harness.py"
    script.write_text(_HARNESS)
    wrk = tmp_path / "wrk"
    wrk.write_text(_FAKE_WRK)
    wrk.chmod(0o755)
    harness = subprocess.Popen(
        [sys.executable, str(script), server, str(workers), str(wrk), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    seen: dict[int, float] = {}
    try:
        assert harness.stdout is not None
        started = json.loads(harness.stdout.readline() or "{}")
        assert started, f"the harness did not start its server (code {harness.wait()})"
        port = int(started["port"])
        # mid-trial: the generator runs and the server has its supervisor and workers
        deadline = time.monotonic() + _DEADLINE_S
        while True:
            seen = _descendants(harness.pid)
            tree = _descendants(int(started["pid"]))
            spawned = [p for p in tree if "resource_tracker" not in _cmdline(p)]
            # a single-worker server serves from its own process (no children to wait for)
            ready = len(spawned) >= (workers if workers > 1 else 0)
            if ready and any("sleep 600" in _cmdline(pid) for pid in seen):
                break
            assert harness.poll() is None, "the harness ended before the trial"
            assert time.monotonic() < deadline, f"no trial under way: {seen}"
            time.sleep(0.05)
        assert port_in_use("127.0.0.1", port)

        harness.kill()
        harness.wait()

        deadline = time.monotonic() + _DEADLINE_S
        while True:
            left = [p for p, created in seen.items() if _alive(p, created)]
            listening = port_in_use("127.0.0.1", port)
            if not left and not listening:
                break
            assert time.monotonic() < deadline, (
                f"left behind: {[(p, _cmdline(p)) for p in left]}, port listening: {listening}"
            )
            time.sleep(0.05)
    finally:
        _reap(harness)
        _kill_left(seen)


def test_a_watched_group_dies_with_the_harness_not_before(tmp_path: Path) -> None:
    """The watchdog alone, without PDEATHSIG: a grandchild that its parent abandoned is killed
    once the harness dies, and not while it lives."""
    source = textwrap.dedent(
        """
        import subprocess, sys
        from covetbench.processes import guard_group
        # the group leader starts a grandchild and exits at once, like a forking supervisor
        leader = subprocess.Popen(
            ["sh", "-c", "sleep 600 & echo $!"], stdout=subprocess.PIPE, text=True,
            process_group=0,
        )
        guard_group(leader.pid)
        print(leader.stdout.readline().strip(), flush=True)
        leader.wait()
        sys.stdin.read()
        """
    )
    harness = subprocess.Popen(
        [sys.executable, "-c", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    grandchild = 0
    created = 0.0
    try:
        assert harness.stdout is not None and harness.stdin is not None
        grandchild = int(harness.stdout.readline())
        created = psutil.Process(grandchild).create_time()
        assert _alive(grandchild, created), "the harness lives: so does its group"
        harness.kill()
        harness.wait()
        deadline = time.monotonic() + _DEADLINE_S
        while _alive(grandchild, created):
            assert time.monotonic() < deadline, "the abandoned grandchild survived the harness"
            time.sleep(0.05)
    finally:
        _reap(harness)
        if grandchild:
            _kill_left({grandchild: created})


def test_a_stopped_group_leaves_no_watchdog() -> None:
    proc = subprocess.Popen(["sleep", "600"], process_group=0, preexec_fn=die_with_parent())
    guard = guard_group(proc.pid)
    assert guard is not None and guard.poll() is None
    assert os.getpgid(guard.pid) == proc.pid
    signal_group(proc.pid)
    proc.wait()
    release_group(proc.pid)
    assert guard.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def test_a_group_already_gone_needs_no_watchdog() -> None:
    proc = subprocess.Popen(["true"], process_group=0)
    proc.wait()
    assert guard_group(proc.pid) is None


def test_no_death_signal_from_a_thread_that_will_end() -> None:
    """PDEATHSIG fires when the spawning THREAD exits: a worker thread gets no hook."""
    hooks: list[object] = []
    worker = threading.Thread(target=lambda: hooks.append(die_with_parent()))
    worker.start()
    worker.join()
    assert hooks == [None]
    assert die_with_parent() is not None  # the main thread (Linux)
