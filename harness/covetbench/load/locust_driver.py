"""locust, the Python load generator for scripted user journeys, driven headless.

One trial is one headless locust run (`--headless -u USERS -r USERS -t Ns --csv PREFIX
--json-file PREFIX`), users = the configuration's concurrency, all spawned in the first second.
With `locust_workers` N > 0 it is a master and N workers on this machine (`--master
--expect-workers N`, `--worker --master-host 127.0.0.1`): locust's master merges the workers'
figures, so a trial is still one record. Every process is pinned to the request's CPUs, runs
in its own process group and is reaped with `os.wait4`, whose rusage (summed over master and
workers) is the generator's CPU. `locust_export` rides along as a second locustfile and writes
the final figures at exit; `locust_stats` reads them.

Which locustfile: `LoadRequest.locustfile` when given (`--locustfile PATH`), else the
scenario's own from `scenarios/locustfiles/` (`ScenarioSpec.locustfile`); scenarios without one
cannot be driven by locust (`supports`).

Locust's FastHttpUser reaches ~16k requests/s per core at best, far below covet's server. Its
processes live seconds beyond the requests (start-up, workers connecting, the master's
shutdown), so besides the rusage total (which the monitor needs to tell interference apart)
the driver samples their CPU every `CPU_SAMPLE_S` and reports the CPU % over the requests' own
window (`LoadResult.window_cpu_pct`): what `validity` judges `generator_bound` on.

    result = LocustDriver().run(LoadRequest(url="http://127.0.0.1:8000/plaintext",
                                            scenario=get_scenario("journey"), concurrency=32,
                                            duration_s=3, cpus=[1], locust_workers=2))
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import covetbench
from covetbench.apps import scenarios_dir
from covetbench.exceptions import LoadGeneratorError
from covetbench.load.base import LoadDriver, LoadRequest, RequestShape
from covetbench.load.locust_stats import LATENCY_METHOD, read_locust_run
from covetbench.processes import die_with_parent, pinned, signal_group
from covetbench.records import LoadResult
from covetbench.servers.base import free_port

INSTALL_HINT = (
    "locust is not installed: pip install 'covetpy[bench]' (or `pip install locust`) "
    "into the harness's Python"
)
#: the plugin passed as a second `-f` (it writes the final figures at exit)
EXPORT_PLUGIN = Path(__file__).with_name("locust_export.py")
#: seconds the master waits for its workers to connect
EXPECT_WORKERS_WAIT_S = 20
#: seconds past the expected end before a hung locust process is killed (start-up included)
_GRACE_S = 20.0
#: seconds a worker may take to exit once its master has
_WORKER_EXIT_S = 10.0
#: how often the locust processes' CPU is sampled (for the CPU % over the requests' window)
CPU_SAMPLE_S = 0.1


def locustfiles_dir() -> Path:
    """`scenarios/locustfiles/`: the scenarios' own locustfiles."""
    return scenarios_dir() / "locustfiles"


def base_url(url: str, path: str) -> str:
    """The host locust is given (`-H`): the request's URL without the scenario's path."""
    if path and path != "/" and url.endswith(path):
        return url[: -len(path)]
    return url.rstrip("/")


class CpuSampler:
    """(wall-clock time, CPU seconds summed over `pids`) every `interval_s` in a thread, to tell
    the CPU used between two wall-clock instants (`between`)."""

    def __init__(self, pids: list[int], interval_s: float = CPU_SAMPLE_S) -> None:
        import psutil  # the bench extra's; imported where a process is sampled

        self._procs = [psutil.Process(pid) for pid in pids]
        self._error = psutil.Error
        self.interval_s = interval_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="covetbench-locust-cpu")
        self._thread.daemon = True

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> bool:
        """One sample; False once a process is gone (the run is over)."""
        try:
            total = 0.0
            for proc in self._procs:
                times = proc.cpu_times()
                total += times.user + times.system
        except self._error:
            return False
        self.samples.append((time.time(), total))
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if not self.sample():
                return

    def _at(self, when: float) -> float | None:
        """CPU seconds at `when`, linearly between the samples around it."""
        for (t0, c0), (t1, c1) in zip(self.samples, self.samples[1:], strict=False):
            if t0 <= when <= t1:
                return c0 + (c1 - c0) * ((when - t0) / (t1 - t0) if t1 > t0 else 0.0)
        return None

    def between(self, start: float, end: float) -> float | None:
        """CPU seconds used from `start` to `end` (epoch seconds); None when not sampled."""
        first, last = self._at(start), self._at(end)
        if first is None or last is None or end <= start:
            return None
        return max(0.0, last - first)


@dataclass
class _Child:
    """One locust process: its role ("master", "worker1", ...), Popen and output file."""

    role: str
    proc: subprocess.Popen[bytes]
    out_path: Path
    cpu_s: float = 0.0
    returncode: int | None = None


class LocustDriver(LoadDriver):
    """Drive a locustfile headless; see the module docstring."""

    name = "locust"
    install_hint = INSTALL_HINT

    def is_installed(self) -> bool:
        return importlib.util.find_spec("locust") is not None

    def version(self) -> str | None:
        try:
            return importlib.metadata.version("locust")
        except importlib.metadata.PackageNotFoundError:
            return None

    def supports(self, scenario: RequestShape) -> bool:
        return super().supports(scenario) and bool(getattr(scenario, "locustfile", None))

    def locustfile(self, request: LoadRequest) -> Path:
        """The file this request runs: `request.locustfile`, else the scenario's own."""
        if request.locustfile is not None:
            path = Path(request.locustfile)
        else:
            own = getattr(request.scenario, "locustfile", None)
            if not own:
                raise LoadGeneratorError(
                    f"scenario {request.scenario.name!r} has no locustfile: give --locustfile"
                )
            path = locustfiles_dir() / own
        if not path.is_file():
            raise LoadGeneratorError(f"locustfile {path} does not exist")
        return path.resolve()

    def commands(self, request: LoadRequest, prefix: Path, port: int) -> list[list[str]]:
        """The argvs of one run: the master (or the only process) first, then the workers."""
        files = f"{self.locustfile(request)},{EXPORT_PLUGIN}"
        locust = [sys.executable, "-m", "locust", "-f", files, "--loglevel", "INFO"]
        seconds = max(1, round(request.duration_s))
        main = [
            *locust,
            "--headless",
            "--only-summary",
            "-u",
            str(request.concurrency),
            "-r",
            str(request.concurrency),
            "-t",
            f"{seconds}s",
            "-H",
            base_url(request.url, request.scenario.path),
            "--csv",
            str(prefix),
            "--json-file",
            str(prefix),
            "--exit-code-on-error",
            "0",
        ]
        workers = request.locust_workers
        if workers <= 0:
            return [pinned(main, request.cpus)]
        main += [
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(workers),
            "--expect-workers-max-wait",
            str(EXPECT_WORKERS_WAIT_S),
        ]
        worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        return [pinned(main, request.cpus)] + [pinned(worker, request.cpus)] * workers

    def run(self, request: LoadRequest) -> LoadResult:
        if request.concurrency < 1:
            raise LoadGeneratorError(f"concurrency must be >= 1, got {request.concurrency}")
        if request.pipeline != 1:
            raise LoadGeneratorError("locust cannot pipeline requests (pipeline must be 1)")
        if request.locust_workers < 0:
            raise LoadGeneratorError(f"locust workers must be >= 0, got {request.locust_workers}")
        if not self.supports(request.scenario) and request.locustfile is None:
            raise LoadGeneratorError(f"locust cannot drive scenario {request.scenario.name!r}")
        if not self.is_installed():
            raise LoadGeneratorError(self.install_hint)
        with tempfile.TemporaryDirectory(prefix="covet-locust-") as tmp:
            workdir = request.workdir or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            prefix = workdir / f"locust-{request.scenario.name}"
            argvs = self.commands(request, prefix, free_port())
            children, sampler = self._execute(argvs, Path(tmp), request)
            output = _combined_output(children)
            master = children[0]
            if master.returncode != 0:
                raise LoadGeneratorError(
                    f"locust exited with code {master.returncode}:\n{_tail(output)}"
                )
            stats = read_locust_run(prefix)
        if stats.num_requests == 0:
            raise LoadGeneratorError(f"locust completed no request:\n{_tail(output)}")
        window_cpu_pct = None
        if stats.window is not None and sampler is not None:
            used = sampler.between(*stats.window)
            if used is not None:
                window_cpu_pct = 100.0 * used / (stats.window[1] - stats.window[0])
        return LoadResult(
            loadgen=self.name,
            requests=stats.requests,
            duration_s=stats.duration_s,
            rps=stats.rps,
            latency_ms=stats.latency_ms,
            errors=stats.errors,
            connections=request.concurrency,
            raw_output=output,
            command=argvs[0],
            cpu_s=sum(child.cpu_s for child in children),
            latency_method=LATENCY_METHOD,
            parallelism=max(1, request.locust_workers),
            window_cpu_pct=window_cpu_pct,
        )

    def _execute(
        self, argvs: list[list[str]], tmp: Path, request: LoadRequest
    ) -> tuple[list[_Child], CpuSampler | None]:
        """Start every process, sample their CPU, wait for the master, then its workers; reap
        all of them. The sampler is None when a process ended before it could start.

        Any exception (Ctrl-C included) kills and reaps every group before it propagates.
        """
        env = dict(os.environ)
        harness = str(Path(covetbench.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (harness, env.get("PYTHONPATH")) if p)
        children: list[_Child] = []
        deadline = (
            time.monotonic()
            + max(1, round(request.duration_s))
            + request.timeout_s
            + _GRACE_S
            + (EXPECT_WORKERS_WAIT_S if len(argvs) > 1 else 0)
        )
        try:
            for index, argv in enumerate(argvs):
                role = "master" if index == 0 else f"worker{index}"
                out_path = tmp / f"{role}.out"
                with out_path.open("wb") as out:
                    proc = subprocess.Popen(
                        argv,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        env=env,
                        start_new_session=True,  # own group: killed as one, no tty ^C
                        preexec_fn=die_with_parent(),
                    )
                children.append(_Child(role, proc, out_path))
            sampler = _start_sampler([child.proc.pid for child in children])
            try:
                _reap(children[0], deadline)
                for child in children[1:]:
                    _reap(child, min(deadline, time.monotonic() + _WORKER_EXIT_S))
            finally:
                if sampler is not None:
                    sampler.stop()
        except BaseException:
            for child in children:
                if child.returncode is None:
                    signal_group(child.proc.pid)
                    _reap(child, time.monotonic())
            raise
        return children, sampler


def _start_sampler(pids: list[int]) -> CpuSampler | None:
    try:
        sampler = CpuSampler(pids)
    except Exception:  # psutil.NoSuchProcess: a process already ended (it failed to start)
        return None
    sampler.start()
    return sampler


def _reap(child: _Child, deadline: float) -> None:
    """Wait for `child` until `deadline` (then kill its group); keep its exit code and CPU
    seconds from `os.wait4` (the process and every child it reaped)."""
    pid = child.proc.pid
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), signal_group, args=(pid,))
    watchdog.daemon = True
    watchdog.start()
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        watchdog.cancel()
    child.returncode = child.proc.returncode = os.waitstatus_to_exitcode(status)
    child.cpu_s = usage.ru_utime + usage.ru_stime
    signal_group(pid, signal.SIGKILL)  # nothing of the group outlives the trial


def _combined_output(children: list[_Child]) -> str:
    """The master's output, then each worker's under a header line."""
    parts = []
    for child in children:
        text = child.out_path.read_text(errors="replace") if child.out_path.exists() else ""
        parts.append(text if child.role == "master" else f"--- {child.role} ---\n{text}")
    return "\n".join(parts)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
